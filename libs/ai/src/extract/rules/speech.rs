//! Turns one spoken turn, as an ASR transcript writes it, into clean clauses.
//!
//! Owns the sentence-level tolerance for speech noise (word-level clean-up is in `tokens`):
//! missing or wrong punctuation, self-corrections ("Denver, I mean Boulder"), run-on sentences
//! joined by "and I …" or a comma, leading discourse markers ("so", "yeah", "hi"), polite
//! requests ("can you email me instead") and interrogatives without a question mark.
//! Invariants:
//! - a [`Clause`]'s `text` is its norms joined by single spaces, and `starts[i]` is the byte
//!   offset of token `i` in it, so a pattern match maps back to tokens exactly;
//! - a clause is marked a question when it ends with "?" or opens like one; requests ("can you
//!   text me") are rewritten as imperatives and are not questions.

pub(crate) use super::tokens::Token;
use super::tokens::words;

/// One clause: a sentence, or a part of a run-on sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    /// Its words.
    pub tokens: Vec<Token>,
    /// Norms joined by single spaces.
    pub text: String,
    /// Byte offset of each token in `text`.
    pub starts: Vec<usize>,
    /// Whether it asks something rather than states it.
    pub question: bool,
}

impl Clause {
    fn new(tokens: Vec<Token>, question: bool) -> Self {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(tokens.len());
        for token in &tokens {
            if !text.is_empty() {
                text.push(' ');
            }
            starts.push(text.len());
            text.push_str(&token.norm);
        }
        Self {
            tokens,
            text,
            starts,
            question,
        }
    }

    /// Index of the token starting at or after byte `offset` of `text`.
    pub fn token_at(&self, offset: usize) -> usize {
        self.starts
            .iter()
            .position(|&s| s >= offset)
            .unwrap_or(self.tokens.len())
    }

    /// Tokens covering the byte range `start..end` of `text`.
    pub fn span(&self, start: usize, end: usize) -> &[Token] {
        let first = self.token_at(start);
        let last = self.token_at(end);
        &self.tokens[first..last.max(first)]
    }
}

const LEADING_MARKERS: &[&str] = &[
    "oh", "okay", "ok", "so", "well", "yeah", "yes", "yep", "yup", "right", "and", "but", "also",
    "hi", "hello", "hey", "alright", "anyway", "see", "look", "listen", "sure", "great", "then",
    "now", "because",
];
const SUBJECTS: &[&str] = &["i", "my", "we", "our"];
/// Pronouns that, after "and", start a new statement about someone else.
const THIRD_PERSONS: &[&str] = &["he", "she", "they", "it"];
const CONJUNCTIONS: &[&str] = &["and", "but", "so", "also", "plus", "because", "or"];
const INTERROGATIVES: &[&str] = &[
    "what", "which", "when", "where", "who", "whom", "whose", "why", "how", "do", "does", "did",
    "is", "are", "was", "were", "can", "could", "would", "will", "should", "shall", "have", "has",
    "am", "may",
];
const ABBREVIATIONS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "st", "jr", "sr", "mt", "vs", "etc", "a.m", "p.m", "e.g", "i.e",
    "ave", "apt",
];

/// Splits one turn's words into clauses.
pub(crate) fn clauses(message: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    for (sentence, question) in sentences(message) {
        let tokens = apply_corrections(words(&sentence));
        let parts = split_run_ons(tokens);
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            let part = strip_leading_markers(part);
            if part.is_empty() {
                continue;
            }
            let (part, request) = strip_request(part);
            let asks = !request && ((question && i + 1 == count) || opens_like_question(&part));
            out.push(Clause::new(part, asks));
        }
    }
    out
}

/// Sentences and whether each ended with a question mark.
fn sentences(message: &str) -> Vec<(String, bool)> {
    let text = message.replace(['\u{2019}', '\u{2018}'], "'");
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        current.push(c);
        if !matches!(c, '.' | '!' | '?' | ';') {
            continue;
        }
        let at_break = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if !at_break || (c == '.' && ends_with_abbreviation(&current)) {
            continue;
        }
        let question = current
            .chars()
            .rev()
            .take_while(|c| matches!(c, '.' | '!' | '?' | ';'))
            .any(|c| c == '?');
        out.push((std::mem::take(&mut current), question));
    }
    if !current.trim().is_empty() {
        out.push((current, false));
    }
    out
}

fn ends_with_abbreviation(sentence: &str) -> bool {
    let last = sentence
        .trim_end_matches('.')
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .to_lowercase();
    ABBREVIATIONS.contains(&last.as_str())
}

/// Splits "my name is Dana and I live in Denver", "my son has asthma and he …" and "Dana
/// here, can you help" into clauses.
fn split_run_ons(tokens: Vec<Token>) -> Vec<Vec<Token>> {
    let mut parts = vec![Vec::new()];
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        let next_is_subject = tokens.get(i + 1).is_some_and(|n| {
            SUBJECTS.contains(&n.norm.as_str()) || THIRD_PERSONS.contains(&n.norm.as_str())
        });
        let current_has_words = parts.last().is_some_and(|p| !p.is_empty());
        if current_has_words && CONJUNCTIONS.contains(&token.norm.as_str()) && next_is_subject {
            parts.push(Vec::new());
            i += 1;
            continue;
        }
        let starts_anew = SUBJECTS.contains(&token.norm.as_str())
            || INTERROGATIVES.contains(&token.norm.as_str());
        if current_has_words && token.pause && starts_anew {
            parts.push(Vec::new());
        }
        if let Some(part) = parts.last_mut() {
            part.push(token.clone());
        }
        i += 1;
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// "Denver, I mean Boulder" → "Boulder". A restart ("…, I mean I live in Boulder") keeps both
/// clauses; the later value wins when candidates are tidied.
fn apply_corrections(mut tokens: Vec<Token>) -> Vec<Token> {
    const MARKERS: &[&[&str]] = &[
        &["i", "mean"],
        &["i", "meant"],
        &["no", "wait"],
        &["or", "rather"],
        &["sorry"],
    ];
    loop {
        let found = (0..tokens.len()).find_map(|at| {
            MARKERS.iter().find_map(|m| {
                let hit = m
                    .iter()
                    .enumerate()
                    .all(|(k, w)| tokens.get(at + k).is_some_and(|t| t.norm == *w));
                // "I'm sorry", "so sorry": an apology, not a correction.
                let apology = m[0] == "sorry"
                    && at > 0
                    && ["am", "so", "really", "i", "very"].contains(&tokens[at - 1].norm.as_str());
                (hit && !apology).then_some((at, m.len()))
            })
        });
        let Some((at, len)) = found else {
            return tokens;
        };
        let fragment: Vec<Token> = tokens[at + len..].to_vec();
        let restart = fragment
            .first()
            .is_some_and(|t| SUBJECTS.contains(&t.norm.as_str()) || t.norm == "it");
        if at == 0
            || fragment.is_empty()
            || restart
            || fragment.len() > 3
            || fragment.len() + 2 > at
        {
            tokens.drain(at..at + len);
            if let Some(next) = tokens.get_mut(at) {
                next.pause = true;
            }
        } else {
            let keep = at - fragment.len();
            tokens.truncate(keep);
            tokens.extend(fragment);
        }
    }
}

fn strip_leading_markers(mut tokens: Vec<Token>) -> Vec<Token> {
    let skip = tokens
        .iter()
        .enumerate()
        .take_while(|(i, t)| {
            let longer = tokens.get(i + 1).is_some_and(|n| n.norm == "longer");
            LEADING_MARKERS.contains(&t.norm.as_str())
                || (t.norm == "no" && !longer)
                || (t.norm == "thank" || t.norm == "thanks")
        })
        .count();
    tokens.drain(..skip);
    tokens
}

/// "can you email me instead" → ("email me instead", true).
fn strip_request(mut tokens: Vec<Token>) -> (Vec<Token>, bool) {
    const PREFIXES: &[&[&str]] = &[
        &["can", "you"],
        &["could", "you"],
        &["would", "you"],
        &["will", "you"],
        &["i", "would", "like", "you", "to"],
        &["i", "want", "you", "to"],
        &["i", "need", "you", "to"],
    ];
    for prefix in PREFIXES {
        let hit =
            prefix.len() < tokens.len() && prefix.iter().zip(&tokens).all(|(w, t)| t.norm == *w);
        if hit {
            tokens.drain(..prefix.len());
            return (tokens, true);
        }
    }
    (tokens, false)
}

fn opens_like_question(tokens: &[Token]) -> bool {
    let first = tokens.first().map(|t| t.norm.as_str()).unwrap_or("");
    let second = tokens.get(1).map(|t| t.norm.as_str()).unwrap_or("");
    INTERROGATIVES.contains(&first) && second != "not"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(message: &str) -> Vec<(String, bool)> {
        clauses(message)
            .into_iter()
            .map(|c| (c.text, c.question))
            .collect()
    }

    #[test]
    fn splits_run_ons_and_drops_fillers() {
        assert_eq!(
            texts("um so my name is uh Dana and I I live in Denver you know"),
            vec![
                ("my name is dana".to_owned(), false),
                ("i live in denver".to_owned(), false),
            ]
        );
    }

    #[test]
    fn false_starts_and_repeated_phrases_collapse() {
        assert_eq!(
            texts("I'm- I'm allergic to peanuts")[0].0,
            "i am allergic to peanuts"
        );
        assert_eq!(texts("i live in i live in austin")[0].0, "i live in austin");
    }

    #[test]
    fn self_corrections_keep_the_corrected_value() {
        assert_eq!(
            texts("I live in Denver, I mean Boulder")[0].0,
            "i live in boulder"
        );
        assert_eq!(
            texts("I'm sorry to bother you")[0].0,
            "i am sorry to bother you"
        );
        assert_eq!(
            texts("i live in denver i mean i live in boulder"),
            vec![
                ("i live in denver".to_owned(), false),
                ("i live in boulder".to_owned(), false)
            ]
        );
    }

    #[test]
    fn questions_with_and_without_marks() {
        assert!(texts("did I already tell you which pharmacy I switched to")[0].1);
        assert_eq!(
            texts("My name is Dana, what's my balance?"),
            vec![
                ("my name is dana".to_owned(), false),
                ("what is my balance".to_owned(), true)
            ]
        );
        assert_eq!(
            texts("Can you text me instead?"),
            vec![("text me instead".to_owned(), false)]
        );
        assert!(!texts("Don't call me before 10am")[0].1);
        assert_eq!(
            texts("Don't call me before 10am")[0].0,
            "do not call me before 10 am"
        );
    }

    #[test]
    fn possessives_and_abbreviations() {
        assert_eq!(
            texts("My daughter's name is Maya.")[0].0,
            "my daughter 's name is maya"
        );
        assert_eq!(texts("I see Dr. Patel on Fridays.").len(), 1);
    }
}
