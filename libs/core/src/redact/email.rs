//! Email addresses, written (`ada.l@example.co.uk`) or spoken as speech-to-text writes them
//! ("ada dot lovelace at gmail dot com").
//!
//! A written address is a local part of `[A-Za-z0-9._%+-]`, an `@`, and a domain of at least
//! two labels ending in letters. A spoken one is words joined by "dot" (or "underscore",
//! "dash", "hyphen"), "at", then a domain of words joined by "dot" ending in a common top-level
//! domain — and, since "I work at acme dot com" names a company, only after a mail word
//! ("email", "address", …) or with a webmail domain ("gmail", "outlook", …).

use super::words::{is_one_of, words};
use super::{Mask, PiiKind};

/// Top-level domains a spoken address may end in.
const TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "ca", "au", "de", "fr", "es", "it",
    "nl", "be", "ch", "ie", "info", "biz", "me",
];

/// Words that join the words of a spoken local part.
const JOINERS: &[&str] = &["dot", "underscore", "dash", "hyphen"];

/// Words after which a spoken "… at … dot …" is an address.
const MAIL_WORDS: &[&str] = &["email", "mail", "address", "inbox"];

/// Webmail domains a spoken address may name without a mail word before it.
const WEBMAIL: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "hotmail",
    "outlook",
    "live",
    "msn",
    "icloud",
    "me",
    "aol",
    "proton",
    "protonmail",
    "gmx",
];

/// How many words before a spoken address are read for a mail word.
const MAIL_WINDOW: usize = 8;

/// Adds the masks of the email addresses of `text`.
pub(super) fn mask_emails(text: &str, masks: &mut Vec<Mask>) {
    if text.contains('@') {
        written(text, masks);
    }
    if contains_word(text, "at") && contains_word(text, "dot") {
        spoken(text, masks);
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(word))
}

fn written(text: &str, masks: &mut Vec<Mask>) {
    let bytes = text.as_bytes();
    let local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let domain = |b: u8| b.is_ascii_alphanumeric() || b".-".contains(&b);
    for (at, _) in text.match_indices('@') {
        let mut start = at;
        while start > 0 && local(bytes[start - 1]) {
            start -= 1;
        }
        while start < at && bytes[start] == b'.' {
            start += 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && domain(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let host = &text[at + 1..end];
        let labels: Vec<&str> = host.split('.').collect();
        let valid = start < at
            && labels.len() >= 2
            && labels.iter().all(|label| !label.is_empty())
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
        if valid {
            masks.push(Mask::of(PiiKind::Email, start, end));
        }
    }
}

fn spoken(text: &str, masks: &mut Vec<Mask>) {
    let words = words(text);
    // Adjacent words must be separated by blanks only.
    let joined = |a: usize, b: usize| text[words[a].end..words[b].start].trim().is_empty();
    for at in 1..words.len() {
        if !words[at].text.eq_ignore_ascii_case("at") || !joined(at - 1, at) {
            continue;
        }
        // Domain: word (dot word)+; the address ends at the last top-level domain reached.
        let mut k = at + 1;
        if k >= words.len() || !joined(at, k) {
            continue;
        }
        let mut last = None;
        loop {
            if k > at + 1 && is_one_of(words[k].text, TLDS) {
                last = Some(k);
            }
            let next = k + 2;
            if next >= words.len()
                || !words[k + 1].text.eq_ignore_ascii_case("dot")
                || !joined(k, k + 1)
                || !joined(k + 1, next)
            {
                break;
            }
            k = next;
        }
        let Some(last) = last else { continue };
        // Local part: word (joiner word)* ending right before "at".
        let mut first = at - 1;
        while first >= 2
            && is_one_of(words[first - 1].text, JOINERS)
            && joined(first - 2, first - 1)
            && joined(first - 1, first)
        {
            first -= 2;
        }
        let cued = words[first.saturating_sub(MAIL_WINDOW)..first]
            .iter()
            .any(|w| is_one_of(w.text, MAIL_WORDS));
        if cued || is_one_of(words[at + 1].text, WEBMAIL) {
            masks.push(Mask::of(
                PiiKind::Email,
                words[first].start,
                words[last].end,
            ));
        }
    }
}
