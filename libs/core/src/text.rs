//! Text normalisation: exact-duplicate detection and the words lexical search matches on.
//!
//! Two memory texts are exact duplicates when they are equal after lower-casing, dropping
//! punctuation and folding white space. This catches a fact repeated verbatim across calls and
//! nothing else: near-duplicates are never merged on similarity alone.

use sha2::{Digest, Sha256};

/// The months' English names, lower case, January first.
pub const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The weekdays' English names, capitalised, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Whether `word` is a weekday's English name, in any case.
pub fn is_weekday(word: &str) -> bool {
    WEEKDAYS.iter().any(|day| day.eq_ignore_ascii_case(word))
}

/// Lower-cases, keeps letters and digits, and folds every other run of characters into one space.
pub fn normalize_for_dedupe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Hex SHA-256 (first 16 bytes) of the normalised text: the per-user exact-duplicate key.
pub fn content_fingerprint(text: &str) -> String {
    let digest = Sha256::digest(normalize_for_dedupe(text).as_bytes());
    hex::encode(&digest[..16])
}

/// Words too common to say anything about a memory; lexical search ignores them. Besides
/// function words, the fillers of spoken calls and the speaker labels of episodes (`caller:`,
/// `agent:`), which every episode holds.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "agent", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "being", "by", "caller", "can", "could", "d", "did", "didn", "do", "does",
    "doesn", "don", "for", "from", "get", "gets", "had", "has", "have", "he", "her", "him", "his",
    "how", "i", "if", "in", "into", "is", "isn", "it", "its", "just", "like", "ll", "m", "me",
    "more", "must", "my", "need", "needs", "never", "no", "not", "of", "oh", "ok", "okay", "on",
    "or", "our", "re", "s", "she", "should", "so", "than", "that", "the", "their", "them", "then",
    "there", "they", "this", "to", "too", "uh", "um", "us", "ve", "very", "was", "wasn", "we",
    "were", "what", "when", "where", "which", "who", "whose", "why", "will", "with", "would",
    "yeah", "yes", "you", "your", "t",
];

/// Whether a lower-case word is a stop word (see the list above).
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// `text` without its stop words, punctuation kept on the words left: what an embedder reads,
/// since words every memory and every question share only pull their vectors together
/// (measured on the conversational probe: recall@10 0.680 → 0.734 for questions alone).
/// Text of stop words only is returned as it is.
pub fn without_stop_words(text: &str) -> String {
    let kept: Vec<&str> = text
        .split_whitespace()
        .filter(|w| {
            let word: String = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            let stem = word.split('\'').next().unwrap_or_default();
            !is_stop_word(&word) && !is_stop_word(stem)
        })
        .collect();
    if kept.is_empty() {
        text.to_owned()
    } else {
        kept.join(" ")
    }
}

/// The content words of `text`, in order and with repeats: lower-cased runs of letters and
/// digits, stop words dropped, and a crude stem (`-ing`, `-ed`, `-es`, `-s` stripped when at
/// least three characters remain) so "orders" matches "order". Codes such as `HX-4471-B` become
/// their parts (`hx`, `4471`, `b`).
pub fn lexical_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(|word| {
            let word = spoken_form(word);
            ["ing", "ed", "es", "s"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix).filter(|stem| stem.len() >= 3))
                .unwrap_or(word)
                .to_owned()
        })
        .collect()
}

/// The version of [`lexical_words`]: a store whose tokens were made by another re-indexes.
pub const LEXICAL_WORDS_VERSION: u32 = 3;

/// Family words as callers say them, read as the words an agent asks with: "my mam", "my
/// mum", "my mom" answer "the caller's mother", "my lad" "the caller's son".
const SPOKEN_FORMS: &[(&str, &str)] = &[
    ("mum", "mother"),
    ("mam", "mother"),
    ("mom", "mother"),
    ("mummy", "mother"),
    ("mommy", "mother"),
    ("dad", "father"),
    ("daddy", "father"),
    ("nan", "grandmother"),
    ("nana", "grandmother"),
    ("gran", "grandmother"),
    ("granny", "grandmother"),
    ("grandma", "grandmother"),
    ("grandad", "grandfather"),
    ("granddad", "grandfather"),
    ("grandpa", "grandfather"),
    ("hubby", "husband"),
    ("lad", "son"),
    ("lass", "daughter"),
    ("bro", "brother"),
    ("sis", "sister"),
];

/// The word an agent would use for a spoken family word ([`SPOKEN_FORMS`]), else `word`.
fn spoken_form(word: &str) -> &str {
    SPOKEN_FORMS
        .iter()
        .find(|(spoken, _)| *spoken == word)
        .map_or(word, |(_, asked)| asked)
}

/// The distinct content words of `text` ([`lexical_words`]), in first-seen order.
pub fn lexical_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in lexical_words(text) {
        if !terms.contains(&word) {
            terms.push(word);
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_left_out_of_what_is_embedded() {
        assert_eq!(
            without_stop_words("I'm taking the atorvastatin, 20 mg."),
            "taking atorvastatin, 20 mg."
        );
        assert_eq!(without_stop_words("Yes, it is."), "Yes, it is.");
    }

    #[test]
    fn family_words_as_callers_say_them_match_the_agents_words() {
        assert_eq!(
            lexical_terms("My mam, Barbara, had a fall"),
            ["mother", "barbara", "fall"]
        );
        assert_eq!(lexical_terms("the caller's mother"), ["mother"]);
        assert_eq!(lexical_terms("Dad and my nan"), ["father", "grandmother"]);
        assert_eq!(lexical_terms("My lad Noah"), ["son", "noah"]);
    }

    #[test]
    fn lexical_terms_drop_stop_words_stem_and_split_codes() {
        assert_eq!(
            lexical_terms("Who is moving to the cats' homes? Cats!"),
            ["mov", "cat", "hom"]
        );
        assert_eq!(
            lexical_terms("Policy HX-4471-B, order #58213"),
            ["policy", "hx", "4471", "b", "order", "58213"]
        );
        assert!(lexical_terms("is it that they have").is_empty());
    }

    #[test]
    fn normalisation_ignores_case_punctuation_and_spacing() {
        assert_eq!(
            normalize_for_dedupe("  Prefers EMAIL,   not phone! "),
            "prefers email not phone"
        );
        assert_eq!(
            content_fingerprint("Allergic to peanuts."),
            content_fingerprint("allergic to   PEANUTS")
        );
    }

    #[test]
    fn different_facts_have_different_fingerprints() {
        assert_ne!(
            content_fingerprint("Allergic to peanuts"),
            content_fingerprint("Allergic to shellfish")
        );
        assert_eq!(content_fingerprint("x").len(), 32);
    }
}
