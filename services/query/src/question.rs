//! An agent's question read once for every use: what it is about (its topic, the words that
//! should match a memory) and when (its [`TimeCues`]). Words that only say what form the answer
//! takes ("name", "called") are left out of the topic too.
//!
//! The words that only say *when* — "now", "still", "before", "originally", a month in a time
//! phrase — are taken out of the topic: as words they match the wrong memories ("where does the
//! caller live now" found "That's all for now" and "where did they live before they moved"
//! found "Since before the new building opened"); as cues they order the matches by the date
//! they were said. What is embedded also leaves out the stop words and the words naming whom
//! every memory is about ("caller", "customer").

use memvox_core::text::{lexical_terms, without_stop_words};

use crate::temporal::TimeCues;

/// A question, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The question without its time words: what lexical search and BM25 match.
    pub topic: String,
    /// The topic as it is embedded: also without stop words and the caller as subject.
    pub embedded: String,
    /// The topic's lexical terms (what the answer's episodes are trimmed around).
    pub terms: Vec<String>,
    /// When the question is about.
    pub cues: TimeCues,
}

/// Words that say what form the answer takes, not what it is about: asked "what is the caller's
/// son called" or "name of the caller's cat", the answer is "My lad Noah…", "There's Miso, our
/// tabby" — as words they match "this call may be recorded" and "Name is Helen Carter".
const ANSWER_FORM: [&str; 4] = ["name", "names", "named", "called"];

impl Question {
    /// Reads `query` (trimmed, non-empty).
    pub fn read(query: &str) -> Self {
        let (cues, timed) = TimeCues::read(query);
        let topic = without_answer_form(&timed);
        let embedded = without_subject(&topic);
        Self {
            terms: lexical_terms(&topic),
            embedded,
            topic,
            cues,
        }
    }
}

/// `text` without the words of [`ANSWER_FORM`] (as it is when nothing else would be left).
fn without_answer_form(text: &str) -> String {
    let kept = without_words(text, &ANSWER_FORM, |c| !c.is_alphanumeric());
    if kept.is_empty() {
        text.to_owned()
    } else {
        kept
    }
}

/// `text` without its stop words ([`without_stop_words`]) nor the words that name whom every
/// memory is about ("caller", "customer"): agents ask "what is the caller's dog called", and
/// every memory is the caller's. Text of such words only is returned as it is.
fn without_subject(text: &str) -> String {
    // "caller" and "caller's" are stop words already.
    const SUBJECT: [&str; 3] = ["callers", "customer", "customer's"];
    let kept = without_words(text, &SUBJECT, |c| !c.is_alphanumeric() && c != '\'');
    let embedded = without_stop_words(&kept);
    if embedded.trim().is_empty() {
        text.to_owned()
    } else {
        embedded
    }
}

/// The words of `text` (split at white space) that, lower-cased and with the characters
/// `trimmed` cut from their ends, are not in `words`, joined by single spaces.
fn without_words(text: &str, words: &[&str], trimmed: fn(char) -> bool) -> String {
    text.split_whitespace()
        .filter(|w| !words.contains(&w.trim_matches(trimmed).to_lowercase().as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_is_not_embedded() {
        assert_eq!(without_subject("name of the caller's cat"), "name cat");
        assert_eq!(without_subject("Caller?"), "Caller?");
    }

    #[test]
    fn time_words_order_the_answer_instead_of_matching_it() {
        let now = Question::read("where does the caller live now");
        assert!(now.cues.latest);
        assert_eq!(now.embedded, "live");
        assert_eq!(now.terms, ["live"]);
        let before = Question::read("where did the caller live before they moved");
        assert!(before.cues.past);
        assert_eq!(before.terms, ["live", "mov"]);
        let july = Question::read("what did the caller say in July about their mother");
        assert_eq!(july.cues.months, [7]);
        assert_eq!(july.embedded, "say mother");
    }

    #[test]
    fn words_naming_the_answer_form_are_not_matched() {
        assert_eq!(
            Question::read("what is the caller's son called").terms,
            ["son"]
        );
        assert_eq!(Question::read("name of the caller's cat").embedded, "cat");
        assert_eq!(Question::read("name?").topic, "name?");
    }

    #[test]
    fn a_question_of_time_words_only_keeps_them() {
        let question = Question::read("now?");
        assert_eq!(question.topic, "now?");
        assert!(question.cues.latest);
    }
}
