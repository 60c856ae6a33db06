//! Redaction at write time: payment-card numbers (Luhn-checked), US social security numbers,
//! IBANs (checksum-validated), email addresses and phone numbers are masked in what a caller
//! said before it is stored or extracted from, each with a typed placeholder.
//!
//! Speech-to-text writes numbers as digits, as digit groups ("4111 1111 …", "4111-1111-…") or
//! as words ("four one one one …", "oh" for zero), so text is read as a sequence of tokens and a
//! number is any run of digit groups and digit words joined only by spaces, hyphens, commas,
//! full stops, brackets or `+` (`tokens`). Within a run (`numbers`):
//!
//! * the longest stretch of 13–19 digits that passes the Luhn check is a card: `[card number]`;
//! * three, two and four digits written as groups (`123-45-6789`, `123 45 6789`) are a social
//!   security number: `[SSN]`;
//! * what is left between those, the run's ends and commas, if it holds 10–15 digits shaped
//!   like a phone number and is not a date, a list of times or years, an amount or an
//!   identifier ("order …", "invoice …"), is a phone number: `[phone number]`.
//!
//! Beside the runs, IBANs (`iban`) become `[IBAN]` and email addresses (`email`) `[email]`.
//! Order numbers, dates, times, prices and postcodes stay: recall depends on them.
//!
//! Text without any of these comes back borrowed and unchanged, so redaction never alters a
//! fact that carries none.

mod email;
mod iban;
mod numbers;
mod tokens;

use std::borrow::Cow;

/// What a masked card number becomes.
pub const CARD_MASK: &str = "[card number]";
/// What a masked social security number becomes.
pub const SSN_MASK: &str = "[SSN]";
/// What a masked IBAN becomes.
pub const IBAN_MASK: &str = "[IBAN]";
/// What a masked email address becomes.
pub const EMAIL_MASK: &str = "[email]";
/// What a masked phone number becomes.
pub const PHONE_MASK: &str = "[phone number]";

/// A byte span of the text and what replaces it.
type Mask = (usize, usize, &'static str);

/// `text` with card numbers, social security numbers, IBANs, email addresses and phone numbers
/// masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut masks: Vec<Mask> = Vec::new();
    email::mask_emails(text, &mut masks);
    iban::mask_ibans(text, &mut masks);
    for run in tokens::runs(text) {
        numbers::mask_run(&run, &mut masks);
    }
    if masks.is_empty() {
        return Cow::Borrowed(text);
    }
    // Earliest first, the longest of those that start together; a mask overlapping one already
    // kept (a phone number inside an IBAN, digits of an email address) is dropped.
    masks.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, mask) in masks {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(mask);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests;
