//! Redaction at write time: payment-card numbers (Luhn-checked) and US social security numbers
//! are masked in what a caller said before it is stored or extracted from.
//!
//! Speech-to-text writes numbers as digits, as digit groups ("4111 1111 …", "4111-1111-…") or
//! as words ("four one one one …", "oh" for zero), so text is read as a sequence of tokens and a
//! number is any run of digit groups and digit words joined only by spaces, hyphens, commas or
//! full stops. Within a run:
//!
//! * the longest stretch of 13–19 digits that passes the Luhn check is a card: `[card number]`;
//! * three, two and four digits written as groups (`123-45-6789`, `123 45 6789`) are a social
//!   security number: `[SSN]`.
//!
//! Text without either comes back borrowed and unchanged, so redaction never alters a fact that
//! carries neither.

use std::borrow::Cow;

/// What a masked card number becomes.
pub const CARD_MASK: &str = "[card number]";
/// What a masked social security number becomes.
pub const SSN_MASK: &str = "[SSN]";

/// A token of a number: its byte span and digits.
#[derive(Debug)]
struct Group {
    start: usize,
    end: usize,
    digits: String,
}

/// `text` with card numbers and social security numbers masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut masks: Vec<(usize, usize, &'static str)> = Vec::new();
    for run in runs(text) {
        mask_run(&run, &mut masks);
    }
    if masks.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, mask) in masks {
        out.push_str(&text[at..start]);
        out.push_str(mask);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// The digits a word stands for, if it is a digit word.
fn digit_word(word: &str) -> Option<char> {
    Some(match word.to_ascii_lowercase().as_str() {
        "zero" | "oh" | "o" => '0',
        "one" => '1',
        "two" => '2',
        "three" => '3',
        "four" => '4',
        "five" => '5',
        "six" => '6',
        "seven" => '7',
        "eight" => '8',
        "nine" => '9',
        _ => return None,
    })
}

/// Runs of number tokens joined only by separators.
fn runs(text: &str) -> Vec<Vec<Group>> {
    let mut runs = Vec::new();
    let mut current: Vec<Group> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_alphanumeric() {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if !c.is_alphanumeric() {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let token = &text[start..end];
            let digits = if token.bytes().all(|b| b.is_ascii_digit()) {
                Some(token.to_owned())
            } else {
                digit_word(token).map(String::from)
            };
            match digits {
                Some(digits) => current.push(Group { start, end, digits }),
                None => runs.push(std::mem::take(&mut current)),
            }
        } else {
            if !matches!(c, ' ' | '-' | ',' | '.' | '\u{2013}') {
                runs.push(std::mem::take(&mut current));
            }
            chars.next();
        }
    }
    runs.push(current);
    runs.retain(|run| !run.is_empty());
    runs
}

/// Masks the cards and social security numbers of one run.
fn mask_run(run: &[Group], masks: &mut Vec<(usize, usize, &'static str)>) {
    let mut i = 0;
    while i < run.len() {
        if let Some(j) = card_at(run, i) {
            masks.push((run[i].start, run[j].end, CARD_MASK));
            i = j + 1;
        } else if is_ssn_at(run, i) {
            masks.push((run[i].start, run[i + 2].end, SSN_MASK));
            i += 3;
        } else {
            i += 1;
        }
    }
}

/// The last group of the longest Luhn-valid 13–19-digit stretch starting at group `i`.
fn card_at(run: &[Group], i: usize) -> Option<usize> {
    let mut digits = String::new();
    let mut found = None;
    for (j, group) in run.iter().enumerate().skip(i) {
        digits.push_str(&group.digits);
        if digits.len() > 19 {
            break;
        }
        if digits.len() >= 13 && luhn(&digits) {
            found = Some(j);
        }
    }
    found
}

/// Whether groups `i..i + 3` are written as 3-2-4 digits.
fn is_ssn_at(run: &[Group], i: usize) -> bool {
    let written =
        |group: &Group, len: usize| group.digits.len() == len && group.end - group.start == len;
    run.len() >= i + 3 && written(&run[i], 3) && written(&run[i + 1], 2) && written(&run[i + 2], 4)
}

/// The Luhn check of a digit string.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_and_social_security_numbers_are_masked_as_speech_to_text_writes_them() {
        let cases = [
            (
                "Sure, my card is 4111 1111 1111 1111, thanks.",
                "Sure, my card is [card number], thanks.",
            ),
            ("It's 4111-1111-1111-1111.", "It's [card number]."),
            (
                "number 4111111111111111 please",
                "number [card number] please",
            ),
            (
                "four one one one one one one one one one one one one one one one",
                "[card number]",
            ),
            (
                "it's four one one one, one one one one, one one one one, one one one one.",
                "it's [card number].",
            ),
            (
                "card 4111 1111 1111 1111 expires 12 26",
                "card [card number] expires 12 26",
            ),
            (
                "Amex 3782 822463 10005 and that's it",
                "Amex [card number] and that's it",
            ),
            ("my social is 123-45-6789.", "my social is [SSN]."),
            ("SSN 123 45 6789 ok", "SSN [SSN] ok"),
        ];
        for (said, stored) in cases {
            assert_eq!(redact(said), stored, "{said}");
        }
    }

    #[test]
    fn text_without_either_is_kept_as_it_is() {
        let kept = [
            "My card ends in 1111 and it is a Visa.",
            "4111 1111 1111 1112 is not a valid card number.",
            "Call me back at 415 555 0199, or +1 415 555 0199.",
            "I take two pills at eight, one at noon.",
            "Switched to the Walgreens on 5th street in 2024.",
            "Order 1234567890 shipped on 2025-03-14.",
            "Patient is allergic to penicillin, born 1962.",
            "",
        ];
        for text in kept {
            assert!(
                matches!(redact(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn the_luhn_check_is_the_standard_one() {
        assert!(luhn("4111111111111111"));
        assert!(luhn("378282246310005"));
        assert!(luhn("79927398713"));
        assert!(!luhn("4111111111111112"));
    }
}
