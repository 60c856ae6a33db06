//! International bank account numbers, written as one token (`DE89370400440532013000`), in
//! groups (`GB82 WEST 1234 5698 7654 32`) or partly spoken ("G B eight two …").
//!
//! A candidate starts at a word whose first two characters (across single-letter words) are
//! letters followed by two digits; following words joined by spaces or hyphens are appended
//! (digit words as digits, letters upper-cased) while the candidate fits an IBAN's 34
//! characters, and the longest prefix that ends at a word boundary and passes the full check —
//! the country's length and BBAN format from the SWIFT registry, and the ISO 7064 mod-97
//! checksum (the `iban_validate` crate) — is masked. Anything else (a postcode such as
//! "SW1A 1AA", a flight number, a mistyped IBAN) is kept.

use ::iban::Iban;

use super::Mask;
use super::tokens::digit_word;

/// Longest IBAN (characters, electronic form).
const MAX_LEN: usize = 34;
/// Shortest IBAN (Norway).
const MIN_LEN: usize = 15;

/// Byte spans of the ASCII alphanumeric words of `text`.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, b) in text.bytes().chain(std::iter::once(b' ')).enumerate() {
        match (start, b.is_ascii_alphanumeric()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Appends what `word` contributes to a candidate: a digit for a digit word, else its
/// characters upper-cased.
fn push_word(candidate: &mut String, word: &str) {
    match digit_word(word) {
        Some(digit) if word.len() > 1 => candidate.push(digit),
        _ => candidate.extend(word.chars().map(|c| c.to_ascii_uppercase())),
    }
}

/// Whether `s` starts like an IBAN: two letters, then two digits (as far as it goes).
fn starts_like_iban(s: &str) -> bool {
    s.bytes().take(4).enumerate().all(|(i, b)| {
        if i < 2 {
            b.is_ascii_uppercase()
        } else {
            b.is_ascii_digit()
        }
    })
}

/// Adds the masks of the IBANs of `text`.
pub(super) fn mask_ibans(text: &str, masks: &mut Vec<Mask>) {
    let words = words(text);
    let joined = |a: usize, b: usize| {
        text[words[a].1..words[b].0]
            .bytes()
            .all(|c| c == b' ' || c == b'-')
    };
    let mut candidate = String::with_capacity(MAX_LEN + 8);
    let mut i = 0;
    while i < words.len() {
        candidate.clear();
        let mut found = None;
        for j in i..words.len() {
            if j > i && !joined(j - 1, j) {
                break;
            }
            push_word(&mut candidate, &text[words[j].0..words[j].1]);
            if candidate.len() > MAX_LEN || !starts_like_iban(&candidate) {
                break;
            }
            if candidate.len() >= MIN_LEN && candidate.parse::<Iban>().is_ok() {
                found = Some(j);
            }
        }
        match found {
            Some(j) => {
                masks.push(Mask::iban(words[i].0, words[j].1));
                i = j + 1;
            }
            None => i += 1,
        }
    }
}
