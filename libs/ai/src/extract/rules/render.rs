//! Writes memory texts from clause tokens: third person, sensible casing, bounded length.
//!
//! Owns how a value is cut out of a clause (it stops at words that cannot belong to it, such as
//! "because" or "with"), how first and second person become third ("my" → "their", and for an
//! agent's words "your" → "their"), how lower-case ASR output of names is capitalised, and
//! how a text is kept under [`MAX_CONTENT_CHARS`]. Invariant: every word of a rendered text
//! comes from the clause or from the fixed wording of a rule; nothing is invented.

use memvox_core::text::{MONTHS, is_weekday};

use super::speech::Token;
use crate::extract::MAX_CONTENT_CHARS;

/// Who said the words being rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Speaker {
    /// The caller: "I", "my", "me" are the user.
    Caller,
    /// The agent: "you", "your" are the user.
    Agent,
}

/// Words that end a value: what follows them is about something else.
const VALUE_STOPS: &[&str] = &[
    "and",
    "but",
    "because",
    "since",
    "so",
    "for",
    "with",
    "where",
    "which",
    "who",
    "that",
    "now",
    "anymore",
    "though",
    "although",
    "if",
    "when",
    "right",
    "okay",
    "yeah",
    "these",
    "currently",
    "instead",
    "too",
    "as",
    "until",
    "from",
    "to",
    "like",
    "last",
    "in",
    "this",
    "at",
    "on",
    "about",
    "or",
    "is",
    "are",
    "was",
    "were",
    "i",
    "we",
    "my",
    "our",
    "you",
    "your",
    "they",
    "recently",
    "ago",
    "again",
    "already",
    "still",
    "yet",
];
/// Whether a (lower-case) word is a weekday or a month, which are written capitalised: not
/// "may", more often the verb.
fn is_day_or_month(word: &str) -> bool {
    is_weekday(word) || (word != "may" && MONTHS.contains(&word))
}

const SMALL_WORDS: &[&str] = &["of", "the", "and", "de", "la", "van", "von", "on", "at"];

/// The value starting at token `from`: at most `max` words, ending before a stop word (an "and"
/// between two capitalised words, as in "Procter and Gamble", does not stop it) or before a
/// pause unless a capitalised word follows it ("Austin, Texas").
pub(crate) fn value_from(tokens: &[Token], from: usize, max: usize) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    for (i, token) in tokens.iter().enumerate().skip(from) {
        if out.len() == max {
            break;
        }
        let capital = |t: Option<&Token>| t.is_some_and(|t| t.text.starts_with(char::is_uppercase));
        if !out.is_empty() && token.pause && !capital(Some(token)) {
            break;
        }
        if !out.is_empty() && VALUE_STOPS.contains(&token.norm.as_str()) {
            let joins_names =
                token.norm == "and" && capital(out.last()) && capital(tokens.get(i + 1));
            if !joins_names {
                break;
            }
        }
        out.push(token.clone());
    }
    out
}

/// A list value starting at token `from`: like [`value_from`] (two words per item at most
/// before a separator) but "and", "or" and pauses separate items instead of ending it.
pub(crate) fn list_from(tokens: &[Token], from: usize) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut item_len = 0;
    for token in tokens.iter().skip(from) {
        if matches!(token.norm.as_str(), "and" | "or" | "plus") {
            item_len = 0;
            out.push(token.clone());
            continue;
        }
        if !out.is_empty() && VALUE_STOPS.contains(&token.norm.as_str()) {
            break;
        }
        if token.pause {
            item_len = 0;
        }
        item_len += 1;
        if item_len > 3 {
            break;
        }
        out.push(token.clone());
    }
    while out
        .last()
        .is_some_and(|t| matches!(t.norm.as_str(), "and" | "or" | "plus"))
    {
        out.pop();
    }
    out
}

/// Splits a list value ("peanuts, shellfish and eggs") into its items.
pub(crate) fn list_items(tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut items: Vec<Vec<Token>> = vec![Vec::new()];
    for token in tokens {
        let separator = matches!(token.norm.as_str(), "and" | "or" | "plus");
        let fresh = token.pause && items.last().is_some_and(|i| !i.is_empty());
        if separator || fresh {
            items.push(Vec::new());
        }
        if !separator && let Some(item) = items.last_mut() {
            item.push(token.clone());
        }
    }
    items.retain(|i| !i.is_empty());
    items
}

/// Rewrites first person (caller) or second person (agent) into third person.
pub(crate) fn third_person(tokens: &[Token], speaker: Speaker) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for token in tokens {
        let previous = out.last().map(|t| t.norm.as_str());
        let swapped = match (speaker, token.norm.as_str()) {
            (Speaker::Caller, "i" | "we") => Some("they"),
            (Speaker::Caller, "me" | "us") => Some("them"),
            (Speaker::Caller, "my" | "our") => Some("their"),
            (Speaker::Caller, "mine" | "ours") => Some("theirs"),
            (Speaker::Caller, "myself" | "ourselves") => Some("themselves"),
            (Speaker::Caller, "am") if previous == Some("they") => Some("are"),
            (Speaker::Caller, "was") if previous == Some("they") => Some("were"),
            (Speaker::Agent, "you") => Some("them"),
            (Speaker::Agent, "your") => Some("their"),
            (Speaker::Agent, "yours") => Some("theirs"),
            (Speaker::Agent, "yourself") => Some("themselves"),
            _ => None,
        };
        out.push(match swapped {
            Some(word) => Token {
                text: word.to_owned(),
                norm: word.to_owned(),
                pause: token.pause,
            },
            None => token.clone(),
        });
    }
    out
}

/// Joins tokens back into text: pauses become commas, "'s" sticks to its word, day and month
/// names are capitalised.
pub(crate) fn join(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        if token.norm == "'s" {
            out.push_str("'s");
            continue;
        }
        if !out.is_empty() {
            out.push_str(if token.pause { ", " } else { " " });
        }
        if is_day_or_month(&token.norm) {
            out.push_str(&capitalise(&token.text));
        } else {
            out.push_str(&token.text);
        }
    }
    out
}

/// A proper name as text: kept as spoken when it has capitals, else each word capitalised
/// except small joining words ("bank of america" → "Bank of America").
pub(crate) fn proper(tokens: &[Token]) -> String {
    if tokens
        .iter()
        .any(|t| t.text.chars().any(char::is_uppercase))
    {
        return join(tokens);
    }
    let words: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i > 0 && SMALL_WORDS.contains(&t.norm.as_str()) {
                t.text.clone()
            } else {
                capitalise(&t.text)
            }
        })
        .collect();
    words.join(" ")
}

/// First letter upper case.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `text` capitalised and cut at a word boundary to fewer than [`MAX_CONTENT_CHARS`]
/// characters, with "…" when cut; trailing punctuation other than "…" is dropped.
pub(crate) fn finish(text: &str) -> String {
    let text = capitalise(text.trim().trim_end_matches([',', ';', ':', '.', ' ']));
    if text.chars().count() < MAX_CONTENT_CHARS {
        return text;
    }
    let budget = MAX_CONTENT_CHARS - 2;
    let mut cut: String = text.chars().take(budget).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

/// "a" or "an" for the word that follows.
pub(crate) fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some(c) if "aeiouAEIOU".contains(c) => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::super::speech::clauses;
    use super::*;

    fn tokens(text: &str) -> Vec<Token> {
        clauses(text).remove(0).tokens
    }

    #[test]
    fn values_stop_where_they_end() {
        let t = tokens("I work at Bank of America in Charlotte");
        assert_eq!(proper(&value_from(&t, 3, 5)), "Bank of America");
        let t = tokens("I work for Procter and Gamble now");
        assert_eq!(proper(&value_from(&t, 3, 5)), "Procter and Gamble");
        let t = tokens("i live in austin, texas");
        assert_eq!(proper(&value_from(&t, 3, 4)), "Austin");
        let t = tokens("I live in Austin, Texas");
        assert_eq!(proper(&value_from(&t, 3, 4)), "Austin, Texas");
    }

    #[test]
    fn lists_split_into_items() {
        let t = tokens("peanuts, shellfish and eggs");
        let items: Vec<String> = list_items(&t).iter().map(|i| join(i)).collect();
        assert_eq!(items, ["peanuts", "shellfish", "eggs"]);
    }

    #[test]
    fn person_swaps_by_speaker() {
        let t = tokens("send the invoice to my work email");
        assert_eq!(
            join(&third_person(&t, Speaker::Caller)),
            "send the invoice to their work email"
        );
        let t = tokens("scheduled your appointment for friday");
        assert_eq!(
            join(&third_person(&t, Speaker::Agent)),
            "scheduled their appointment for Friday"
        );
    }

    #[test]
    fn finish_bounds_length() {
        let long = "word ".repeat(40);
        let done = finish(&long);
        assert!(done.chars().count() < MAX_CONTENT_CHARS);
        assert!(done.ends_with('…'));
        assert_eq!(finish("allergic to peanuts."), "Allergic to peanuts");
    }
}
