//! Redaction at write time: personal data in what a caller said — payment-card numbers
//! (Luhn-checked), national ids (US social security numbers), bank account numbers (IBANs,
//! checksum-validated, and domestic account, sort and routing numbers), email addresses, phone
//! numbers, street addresses and dates of birth — is found, then kept, masked with a typed
//! placeholder or dropped, kind by kind and field by field, as a [`RedactionPolicy`] says.
//!
//! Speech-to-text writes numbers as digits, as digit groups ("4111 1111 …", "4111-1111-…") or
//! as words ("four one one one …", "oh" for zero), so text is read as a sequence of tokens and a
//! number is any run of digit groups and digit words joined only by spaces, hyphens, commas,
//! full stops, brackets or `+` (`tokens`), with the words before it as its cue. Within a run
//! (`numbers`):
//!
//! * the longest stretch of 13–19 digits that passes the Luhn check is a card: `[card number]`;
//! * three, two and four digits written as groups (`123-45-6789`), or nine digits after
//!   "social" or "SSN", are a social security number: `[SSN]`;
//! * after an account word ("account", "routing", "sort code", …), 6–17 digits are a bank
//!   account number: `[bank account]`;
//! * what is left between those, the run's ends and commas, if it holds 10–15 digits shaped
//!   like a phone number and is not a date, a list of times or years, an amount or an
//!   identifier ("order …", "invoice …"), is a phone number: `[phone number]`.
//!
//! Beside the runs, IBANs (`iban`) become `[IBAN]`, email addresses (`email`) `[email]`, street
//! addresses with a house number (`address`) `[address]` and dates next to a birth word
//! (`dates`) `[date of birth]`. Order numbers, ordinary dates, times, prices and postcodes stay:
//! recall depends on them.
//!
//! Text without any of these, or whose findings the policy keeps, comes back borrowed and
//! unchanged, so redaction never alters a fact that carries none.

mod address;
mod dates;
mod email;
mod iban;
mod kinds;
mod numbers;
mod policy;
mod settings;
mod spoken;
mod tokens;
mod words;

pub use kinds::{Field, Mode, PiiKind};
pub use policy::{FieldPolicy, RedactionPolicy};
pub use settings::{KindModes, RedactionSettings};

/// What a masked IBAN becomes (other bank account numbers become
/// [`PiiKind::BankAccount`]'s placeholder).
pub const IBAN_MASK: &str = "[IBAN]";

/// A span of text holding personal data, and what masks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// Byte offset of the span.
    pub start: usize,
    /// Byte offset just past the span.
    pub end: usize,
    /// What the span is.
    pub kind: PiiKind,
    /// What replaces it when it is masked.
    pub placeholder: &'static str,
}

/// The detectors' name for a finding.
type Mask = Finding;

impl Finding {
    /// A finding of `kind` over `start..end`, masked with the kind's placeholder.
    fn of(kind: PiiKind, start: usize, end: usize) -> Self {
        Self {
            start,
            end,
            kind,
            placeholder: kind.placeholder(),
        }
    }

    /// An IBAN over `start..end`.
    fn iban(start: usize, end: usize) -> Self {
        Self {
            placeholder: IBAN_MASK,
            ..Self::of(PiiKind::BankAccount, start, end)
        }
    }
}

/// The personal data in `text`, in order and without overlaps: where two findings overlap (a
/// phone number inside an IBAN, digits of an email address), the earlier one is kept, the
/// longer one of those that start together.
pub fn find(text: &str) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    email::mask_emails(text, &mut found);
    iban::mask_ibans(text, &mut found);
    for run in tokens::runs(text) {
        numbers::mask_run(&run, &mut found);
    }
    address::mask_addresses(text, &mut found);
    dates::mask_dates_of_birth(text, &mut found);
    found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut at = 0;
    found.retain(|f| {
        let keep = f.start >= at;
        if keep {
            at = f.end;
        }
        keep
    });
    found
}

#[cfg(test)]
mod tests;
