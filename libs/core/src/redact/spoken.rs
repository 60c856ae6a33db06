//! Numbers as speech-to-text writes them in dates and addresses: digits ("27", "3rd"), words
//! ("twenty seven", "twenty-third"), digit by digit ("one four two zero") or in pairs
//! ("fourteen twenty", "nineteen eighty five"). Each reader takes the words from index `at` and
//! returns the value with the number of words it read.

use super::words::Word;

const UNITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const TEENS: [&str; 10] = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const ORDINAL_UNITS: [&str; 10] = [
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
];
const ORDINAL_TEENS: [&str; 10] = [
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];
const ORDINAL_TENS: [&str; 2] = ["twentieth", "thirtieth"];

/// The position of `word` in `list`, ignoring ASCII case.
fn index_in(list: &[&str], word: &str) -> Option<u32> {
    list.iter()
        .position(|w| w.eq_ignore_ascii_case(word))
        .and_then(|i| u32::try_from(i).ok())
}

fn text<'a>(words: &[Word<'a>], at: usize) -> Option<&'a str> {
    words.get(at).map(|w| w.text)
}

/// A written number of at most `max_len` digits.
fn digits(word: &str, max_len: usize) -> Option<u32> {
    (!word.is_empty() && word.len() <= max_len && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// 0–99 in words: "seven", "fourteen", "forty", "forty two".
fn below_hundred(words: &[Word<'_>], at: usize) -> Option<(u32, usize)> {
    let first = text(words, at)?;
    if let Some(unit) = index_in(&UNITS, first) {
        return Some((unit, 1));
    }
    if let Some(teen) = index_in(&TEENS, first) {
        return Some((10 + teen, 1));
    }
    let tens = 20 + 10 * index_in(&TENS, first)?;
    match text(words, at + 1).and_then(|w| index_in(&UNITS, w)) {
        Some(unit) if unit > 0 => Some((tens + unit, 2)),
        _ => Some((tens, 1)),
    }
}

/// A day of the month, 1–31: "3", "3rd", "third", "twenty third", "twenty-three".
pub(super) fn day(words: &[Word<'_>], at: usize) -> Option<(u32, usize)> {
    let first = text(words, at)?;
    let digit_end = first.bytes().take_while(u8::is_ascii_digit).count();
    let (value, read) = if digit_end > 0 {
        let suffix = &first[digit_end..];
        if !(suffix.is_empty() || is_ordinal_suffix(suffix)) {
            return None;
        }
        (digits(&first[..digit_end], 2)?, 1)
    } else if let Some(unit) = index_in(&ORDINAL_UNITS, first) {
        (unit, 1)
    } else if let Some(teen) = index_in(&ORDINAL_TEENS, first) {
        (10 + teen, 1)
    } else if let Some(tens) = index_in(&ORDINAL_TENS, first) {
        (20 + 10 * tens, 1)
    } else if let Some(tens) = index_in(&TENS[..2], first) {
        match text(words, at + 1).and_then(|w| index_in(&ORDINAL_UNITS, w)) {
            Some(unit) if unit > 0 => (20 + 10 * tens + unit, 2),
            _ => below_hundred(words, at)?,
        }
    } else {
        below_hundred(words, at)?
    };
    (1..=31).contains(&value).then_some((value, read))
}

/// Whether `suffix` is an English ordinal ending ("st", "nd", "rd", "th").
pub(super) fn is_ordinal_suffix(suffix: &str) -> bool {
    ["st", "nd", "rd", "th"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(suffix))
}

/// A year from 1900 to 2099: "1985", "nineteen eighty five", "nineteen oh five", "two thousand
/// and three", "twenty twelve".
pub(super) fn year(words: &[Word<'_>], at: usize) -> Option<(u32, usize)> {
    let first = text(words, at)?;
    let in_range = |year: u32| (1900..=2099).contains(&year);
    if let Some(year) = digits(first, 4).filter(|_| first.len() == 4) {
        return in_range(year).then_some((year, 1));
    }
    let century = match first.to_ascii_lowercase().as_str() {
        "nineteen" => 1900,
        "twenty" => 2000,
        "two" if text(words, at + 1).is_some_and(|w| w.eq_ignore_ascii_case("thousand")) => {
            let mut read = 2;
            if text(words, at + read).is_some_and(|w| w.eq_ignore_ascii_case("and")) {
                read += 1;
            }
            return match below_hundred(words, at + read) {
                Some((rest, more)) if rest > 0 => Some((2000 + rest, read + more)),
                _ => Some((2000, 2)),
            };
        }
        _ => return None,
    };
    let next = text(words, at + 1)?;
    if next.eq_ignore_ascii_case("oh") || next.eq_ignore_ascii_case("o") {
        let unit = text(words, at + 2).and_then(|w| index_in(&UNITS, w))?;
        return Some((century + unit, 3));
    }
    let (rest, more) = below_hundred(words, at + 1)?;
    (rest >= 10).then_some((century + rest, 1 + more))
}

/// A house number: digits with at most one letter after them ("27", "221B"), digit words
/// ("one four two zero"), a number below a hundred in words ("twenty seven") or a pair of
/// them ("fourteen twenty").
pub(super) fn house_number(words: &[Word<'_>], at: usize) -> Option<(u32, usize)> {
    let first = text(words, at)?;
    let digit_end = first.bytes().take_while(u8::is_ascii_digit).count();
    if digit_end > 0 {
        let letters = &first[digit_end..];
        let plain = letters.is_empty()
            || (letters.len() == 1 && letters.bytes().all(|b| b.is_ascii_alphabetic()));
        return (plain && !is_ordinal_suffix(letters))
            .then(|| digits(&first[..digit_end], 6).map(|n| (n, 1)))
            .flatten();
    }
    let spelled: Vec<u32> = (at..)
        .map_while(|i| text(words, i).and_then(|w| index_in(&UNITS, w)))
        .take(6)
        .collect();
    if spelled.len() >= 2 {
        let value = spelled.iter().fold(0, |n, d| n * 10 + d);
        return Some((value, spelled.len()));
    }
    let (high, read) = below_hundred(words, at)?;
    match below_hundred(words, at + read) {
        Some((low, more)) if high >= 10 && low >= 10 => Some((high * 100 + low, read + more)),
        _ => Some((high, read)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::words::words;
    use super::*;

    /// A reader of this module.
    type Reader = fn(&[Word<'_>], usize) -> Option<(u32, usize)>;

    fn read(reader: Reader, text: &str) -> Option<u32> {
        let words = words(text);
        reader(&words, 0)
            .filter(|&(_, read)| read == words.len())
            .map(|(value, _)| value)
    }

    #[test]
    fn days_are_read_as_digits_ordinals_or_words() {
        for (said, expected) in [
            ("3", 3),
            ("3rd", 3),
            ("21st", 21),
            ("third", 3),
            ("twenty third", 23),
            ("twenty-third", 23),
            ("thirty first", 31),
            ("twentieth", 20),
            ("twelve", 12),
        ] {
            assert_eq!(read(day, said), Some(expected), "{said}");
        }
        for not_a_day in ["32", "0", "thirty second", "3x", "forty"] {
            assert_eq!(read(day, not_a_day), None, "{not_a_day}");
        }
    }

    #[test]
    fn years_are_read_as_digits_or_spoken() {
        for (said, expected) in [
            ("1985", 1985),
            ("nineteen eighty five", 1985),
            ("nineteen eighty-five", 1985),
            ("nineteen oh five", 1905),
            ("two thousand and three", 2003),
            ("two thousand twelve", 2012),
            ("twenty twelve", 2012),
            ("nineteen fifty", 1950),
        ] {
            assert_eq!(read(year, said), Some(expected), "{said}");
        }
        for not_a_year in ["1850", "85", "twenty", "nineteen five"] {
            assert_eq!(read(year, not_a_year), None, "{not_a_year}");
        }
    }

    #[test]
    fn house_numbers_are_read_as_digits_digit_words_or_pairs() {
        for (said, expected) in [
            ("27", 27),
            ("221B", 221),
            ("twenty seven", 27),
            ("one four two zero", 1420),
            ("fourteen twenty", 1420),
            ("seven", 7),
        ] {
            assert_eq!(read(house_number, said), Some(expected), "{said}");
        }
        for not_a_number in ["5th", "1234567", "many"] {
            assert_eq!(read(house_number, not_a_number), None, "{not_a_number}");
        }
    }
}
