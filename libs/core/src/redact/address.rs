//! Street addresses: a house number, a street name and a street suffix ("1420 Elm Street",
//! "twenty seven Birch Lane", "221B Baker St."), with what follows it when that is part of the
//! address — a unit ("suite 3", "apt 4B", "#12"), a ZIP code, and a city when a state code or a
//! ZIP code follows it ("Springfield, IL 62704").
//!
//! The street name is one to three words, none of them a function word or a unit of measure
//! ("2 blocks down Main Street", "20 minutes up the road" are directions, not addresses), and
//! suffixes that are also ordinary words ("Way", "Place", "Drive", "Court", …) count only
//! capitalised. A street without a house number ("the Elm Street branch", "on 5th Street") is
//! kept: it names a place, not where someone lives.

use super::spoken::house_number;
use super::words::{Word, is_one_of, words};
use super::{Mask, PiiKind};

/// Street suffixes that are rarely anything else.
const SUFFIXES: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "lane",
    "ln",
    "boulevard",
    "blvd",
    "highway",
    "hwy",
    "parkway",
    "pkwy",
    "crescent",
    "cres",
    "terrace",
    "avenida",
    "calle",
];
/// Street suffixes that are also ordinary words: they count only capitalised.
const WORD_SUFFIXES: &[&str] = &[
    "drive", "dr", "way", "place", "pl", "court", "ct", "close", "square", "sq", "circle", "cir",
    "trail", "walk", "row", "grove", "gardens", "park", "plaza", "alley",
];
/// Words that are never part of a street name.
const NOT_NAMES: &[&str] = &[
    "a", "an", "the", "of", "on", "in", "at", "to", "for", "from", "by", "with", "and", "or", "my",
    "your", "his", "her", "our", "their", "its", "it", "is", "was", "are", "were", "be", "that",
    "this", "these", "those", "times", "time", "minutes", "minute", "hours", "hour", "days", "day",
    "weeks", "week", "months", "years", "blocks", "block", "miles", "mile", "km", "dollars",
    "pills", "people", "more", "less", "other", "same", "next", "last", "up", "down", "off",
    "about", "over", "across", "along", "near", "past", "via", "into", "onto",
];
/// Words that open a unit ("suite 3", "apt 4B").
const UNIT_WORDS: &[&str] = &["suite", "ste", "apt", "apartment", "unit", "flat", "floor"];
/// Longest street name, in words.
const MAX_NAME_WORDS: usize = 3;
/// Longest city name, in words.
const MAX_CITY_WORDS: usize = 3;

/// Adds the masks of the street addresses of `text`.
pub(super) fn mask_addresses(text: &str, masks: &mut Vec<Mask>) {
    let words = words(text);
    let mut i = 0;
    while i < words.len() {
        match street_at(&words, i) {
            Some(suffix) => {
                let last = tail(text, &words, suffix);
                let mut end = words[last].end;
                if abbreviated(words[last].text) && text[end..].starts_with('.') {
                    end += 1; // "St.": the full stop is part of the abbreviation
                }
                masks.push(Mask::of(PiiKind::StreetAddress, words[i].start, end));
                i = last + 1;
            }
            None => i += 1,
        }
    }
}

/// Abbreviations whose full stop belongs to them ("St.", "Apt.").
const ABBREVIATIONS: &[&str] = &[
    "st", "ave", "rd", "ln", "blvd", "hwy", "pkwy", "cres", "dr", "pl", "ct", "sq", "cir", "apt",
    "ste",
];

fn abbreviated(word: &str) -> bool {
    is_one_of(word, ABBREVIATIONS)
}

fn is_suffix(word: &str) -> bool {
    is_one_of(word, SUFFIXES)
        || (is_one_of(word, WORD_SUFFIXES) && word.starts_with(|c: char| c.is_uppercase()))
}

fn is_name_word(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_alphabetic) && !is_one_of(word, NOT_NAMES)
        || ordinal_street(word)
}

/// "5th", "42nd": a numbered street's name.
fn ordinal_street(word: &str) -> bool {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && super::spoken::is_ordinal_suffix(&word[digits..])
}

/// The index of the suffix word of a street address starting at word `i`.
fn street_at(words: &[Word<'_>], i: usize) -> Option<usize> {
    let (_, read) = house_number(words, i)?;
    let name = i + read;
    (name..words.len().min(name + MAX_NAME_WORDS + 1))
        .take_while(|&k| k == name || is_name_word(words[k - 1].text))
        .find(|&k| k > name && is_suffix(words[k].text))
}

/// The last word of the address whose street ends at word `suffix`: after it a unit, a ZIP
/// code, or a city followed by a state code or ZIP code, each joined by spaces or a comma.
fn tail(text: &str, words: &[Word<'_>], suffix: usize) -> usize {
    let joined = |k: usize| {
        words.get(k).is_some_and(|w| {
            let mut between = &text[words[k - 1].end..w.start];
            if abbreviated(words[k - 1].text) {
                between = between.strip_prefix('.').unwrap_or(between);
            }
            let compact: String = between.chars().filter(|c| *c != ' ').collect();
            matches!(compact.as_str(), "" | "," | "#" | ",#")
        })
    };
    let mut last = suffix;
    if joined(last + 1) && is_one_of(words[last + 1].text, UNIT_WORDS) && joined(last + 2) {
        last += 2;
    } else if joined(last + 1) && text[words[last].end..words[last + 1].start].contains('#') {
        last += 1;
    }
    if let Some(zip) = zip_at(text, words, last + 1).filter(|_| joined(last + 1)) {
        return zip;
    }
    let city_end = (last + 1..words.len().min(last + 1 + MAX_CITY_WORDS))
        .take_while(|&k| joined(k) && is_capitalised(words[k].text))
        .last();
    if let Some(city_end) = city_end {
        let state = city_end + 1;
        if joined(state) && is_state_code(words[state].text) {
            return zip_at(text, words, state + 1)
                .filter(|_| joined(state + 1))
                .unwrap_or(state);
        }
        if let Some(zip) = zip_at(text, words, city_end + 1).filter(|_| joined(city_end + 1)) {
            return zip;
        }
    }
    last
}

fn is_capitalised(word: &str) -> bool {
    word.starts_with(|c: char| c.is_uppercase()) && word.chars().skip(1).all(char::is_lowercase)
}

fn is_state_code(word: &str) -> bool {
    word.len() == 2 && word.bytes().all(|b| b.is_ascii_uppercase())
}

/// The last word of a US ZIP code (`94103`, `94103-1234`) at word `at`.
fn zip_at(text: &str, words: &[Word<'_>], at: usize) -> Option<usize> {
    let five = |w: &Word<'_>, len: usize| {
        w.text.len() == len && w.text.bytes().all(|b| b.is_ascii_digit())
    };
    let first = words.get(at)?;
    if !five(first, 5) {
        return None;
    }
    match words.get(at + 1) {
        Some(plus4) if five(plus4, 4) && &text[first.end..plus4.start] == "-" => Some(at + 1),
        _ => Some(at),
    }
}
