//! Dates of birth: a date with at least a day and a month, right next to a birth word.
//!
//! A date is written (`03/03/1985`, `3-3-85`, `1985-03-03`, `03.03.1985`, `03 03 1985`) or said
//! ("March 3rd, 1985", "March the third", "3rd of March 1985", "the twenty-third of June
//! nineteen eighty five"). It is a date of birth when "born", "birthday", "birth" (date of
//! birth), "birthdate" or "DOB" is among the four words before it or the six after it, in the
//! same sentence — a birthday party, cake or present is an event, not a birth date. A year alone
//! ("born 1962") is kept, and so is every date without such a word: appointments, deliveries and
//! charges are what recall is asked about.

use super::spoken::{day, year};
use super::words::{Word, ends_sentence, is_one_of, words};
use super::{Mask, PiiKind};
use crate::text::MONTHS;

/// Words that make a date next to them a date of birth.
const BIRTH_WORDS: &[&str] = &["born", "birthday", "birth", "birthdate", "dob"];
/// Words after "birthday" that make it an event.
const EVENT_WORDS: &[&str] = &[
    "party",
    "cake",
    "present",
    "gift",
    "card",
    "dinner",
    "lunch",
    "celebration",
];
/// Words before a date read for a birth word.
const BEFORE: usize = 4;
/// Words after a date read for a birth word.
const AFTER: usize = 6;

/// Adds the masks of the dates of birth of `text`.
pub(super) fn mask_dates_of_birth(text: &str, masks: &mut Vec<Mask>) {
    let lower = text.to_ascii_lowercase();
    if !["born", "birth", "dob"].iter().any(|w| lower.contains(w)) {
        return;
    }
    let words = words(text);
    let mut i = 0;
    while i < words.len() {
        match date_at(text, &words, i) {
            Some(last) if cued(text, &words, i, last) => {
                masks.push(Mask::of(
                    PiiKind::DateOfBirth,
                    words[i].start,
                    words[last].end,
                ));
                i = last + 1;
            }
            _ => i += 1,
        }
    }
}

/// Whether a birth word is near the date spanning words `first..=last`.
fn cued(text: &str, words: &[Word<'_>], first: usize, last: usize) -> bool {
    let is_birth = |k: usize| {
        is_one_of(words[k].text, BIRTH_WORDS)
            && !(words[k].text.eq_ignore_ascii_case("birthday")
                && words
                    .get(k + 1)
                    .is_some_and(|next| is_one_of(next.text, EVENT_WORDS)))
    };
    let same_sentence = |a: usize, b: usize| !ends_sentence(&text[words[a].end..words[b].start]);
    let before = (first.saturating_sub(BEFORE)..first)
        .rev()
        .take_while(|&k| same_sentence(k, k + 1))
        .any(is_birth);
    let after = (last + 1..words.len().min(last + 1 + AFTER))
        .take_while(|&k| same_sentence(k - 1, k))
        .any(is_birth);
    before || after
}

/// Month abbreviations, in month order ("sept" is September's second).
const ABBREVIATIONS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The month (1–12) a word names, in full or abbreviated.
fn month(word: &str) -> Option<u32> {
    let position = MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(word))
        .or_else(|| {
            ABBREVIATIONS
                .iter()
                .position(|name| name.eq_ignore_ascii_case(word))
        })
        .or_else(|| word.eq_ignore_ascii_case("sept").then_some(8))?;
    u32::try_from(position + 1).ok()
}

/// The last word of a date starting at word `i`, if one does.
fn date_at(text: &str, words: &[Word<'_>], i: usize) -> Option<usize> {
    numeric(text, words, i)
        .or_else(|| month_first(words, i))
        .or_else(|| day_first(words, i))
}

/// `03/03/1985`, `3-3-85`, `1985-03-03`, `03.03.1985`, `03 03 1985`: three numbers joined by one
/// and the same separator.
fn numeric(text: &str, words: &[Word<'_>], i: usize) -> Option<usize> {
    let parts = words.get(i..i + 3)?;
    let sep = |a: &Word<'_>, b: &Word<'_>| &text[a.end..b.start];
    let joint = sep(&parts[0], &parts[1]);
    if !matches!(joint, "/" | "-" | "." | " ") || sep(&parts[1], &parts[2]) != joint {
        return None;
    }
    let number = |w: &Word<'_>, lens: &[usize]| {
        (lens.contains(&w.text.len()) && w.text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| w.text.parse::<u32>().ok())
            .flatten()
    };
    let day_month = |a: u32, b: u32| {
        ((1..=31).contains(&a) && (1..=12).contains(&b))
            || ((1..=12).contains(&a) && (1..=31).contains(&b))
    };
    let year = |w: &Word<'_>| match w.text.len() {
        4 => number(w, &[4]).filter(|y| (1900..=2099).contains(y)),
        _ => number(w, &[2]),
    };
    let (a, b) = (number(&parts[0], &[1, 2]), number(&parts[1], &[1, 2]));
    let dmy = matches!((a, b, year(&parts[2])), (Some(a), Some(b), Some(_)) if day_month(a, b));
    let ymd = number(&parts[0], &[4]).is_some_and(|y| (1900..=2099).contains(&y))
        && matches!((b, number(&parts[2], &[1, 2])), (Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d));
    (dmy || ymd).then_some(i + 2)
}

/// Skips an optional word (`the`, `of`) at `at`.
fn skip(words: &[Word<'_>], at: usize, optional: &str) -> usize {
    at + usize::from(
        words
            .get(at)
            .is_some_and(|w| w.text.eq_ignore_ascii_case(optional)),
    )
}

/// The last word of an optional year at `at`, else of the date so far (`last`).
fn with_year(words: &[Word<'_>], at: usize, last: usize) -> usize {
    let at = skip(words, at, "of");
    year(words, at).map_or(last, |(_, read)| at + read - 1)
}

/// "March 3rd, 1985", "March the third", "March twenty third nineteen eighty five".
fn month_first(words: &[Word<'_>], i: usize) -> Option<usize> {
    month(words[i].text)?;
    let at = skip(words, i + 1, "the");
    let (_, read) = day(words, at)?;
    Some(with_year(words, at + read, at + read - 1))
}

/// "3rd of March 1985", "the third of March", "3 March 1985".
fn day_first(words: &[Word<'_>], i: usize) -> Option<usize> {
    let at = skip(words, i, "the");
    let (_, read) = day(words, at)?;
    let month_at = skip(words, at + read, "of");
    month(words.get(month_at)?.text)?;
    Some(with_year(words, month_at + 1, month_at))
}
