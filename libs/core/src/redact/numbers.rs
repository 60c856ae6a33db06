//! Numbers within a run: payment cards (Luhn), US social security numbers (3-2-4, or nine
//! digits after "social"/"SSN"), bank account numbers (6–17 digits after "account", "routing",
//! "sort code", …) and phone numbers (10–15 digits, international or national, written or
//! spoken).
//!
//! A phone number is a whole *segment* of a run — the groups left between cards, social
//! security numbers, the run's ends and commas between written groups — of 10 to 15 digits
//! (E.164's longest), that:
//! * starts with `+`, or is written as several groups (none longer than 5 digits) or spoken
//!   digit by digit, or is one unbroken number right after a phone word ("call", "mobile", …);
//! * does not follow an identifier word ("order", "invoice", "reference", …) or a currency sign;
//! * is not a date (`14.03.2025`, `2025 03 14`), a list of times (`10 30 11 45`) or of years.
//!
//! A segment after an account word is a bank account number instead when it holds 6 to 17
//! digits (a sort code, a routing number, a UK, US or other domestic account number) and is not
//! a date or a list of times or years; "account ending in 1234" stays.
//!
//! So "order 53819", "4111 1111 1111 1112" (16 digits, not a card) and "$2,500,000,000" stay.

use super::tokens::{Cue, Group, Run};
use super::{Mask, PiiKind};

/// Fewest digits of a phone number (national formats with area code).
const PHONE_MIN_DIGITS: usize = 10;
/// Most digits of a phone number (E.164).
const PHONE_MAX_DIGITS: usize = 15;
/// Longest written group of a national format ("01632 960 001").
const PHONE_MAX_GROUP: usize = 5;
/// Digits of a bank account number, its sort code or its routing number.
const ACCOUNT_DIGITS: std::ops::RangeInclusive<usize> = 6..=17;
/// Digits of a US social security number.
const SSN_DIGITS: usize = 9;

/// Masks the cards, social security numbers, bank account numbers and phone numbers of one run.
pub(super) fn mask_run(run: &Run, masks: &mut Vec<Mask>) {
    let groups = &run.groups;
    let mut segment_start = 0;
    let mut i = 0;
    while i < groups.len() {
        if i > segment_start && splits(&groups[i - 1], &groups[i]) {
            segment(run, segment_start, i, masks);
            segment_start = i;
        }
        if let Some(j) = card_at(groups, i) {
            segment(run, segment_start, i, masks);
            masks.push(Mask::of(PiiKind::Card, groups[i].start, groups[j].end));
            i = j + 1;
            segment_start = i;
        } else if is_ssn_at(groups, i) {
            segment(run, segment_start, i, masks);
            masks.push(Mask::of(
                PiiKind::NationalId,
                groups[i].start,
                groups[i + 2].end,
            ));
            i += 3;
            segment_start = i;
        } else {
            i += 1;
        }
    }
    segment(run, segment_start, groups.len(), masks);
}

/// Whether a comma between two groups separates two numbers: yes between written groups
/// ("1,299", "415, 555"), no between spoken digits ("four one five, five five five").
fn splits(before: &Group, group: &Group) -> bool {
    group.comma_before && !(before.spoken && group.spoken)
}

/// Masks groups `from..to` of `run` if they are a bank account, social security or phone
/// number.
fn segment(run: &Run, from: usize, to: usize, masks: &mut Vec<Mask>) {
    let segment = &run.groups[from..to];
    let (Some(first), Some(last)) = (segment.first(), segment.last()) else {
        return;
    };
    let digits: usize = segment.iter().map(|g| g.digits.len()).sum();
    let plain = || !has_date(segment) && !is_time_list(segment) && !is_year_list(segment);
    let found = match run.cue {
        Cue::Account if ACCOUNT_DIGITS.contains(&digits) && plain() => {
            Some((PiiKind::BankAccount, first.start))
        }
        Cue::NationalId if digits == SSN_DIGITS && plain() => {
            Some((PiiKind::NationalId, first.start))
        }
        cue if is_phone(segment, cue) => Some((PiiKind::Phone, first.lead.unwrap_or(first.start))),
        _ => None,
    };
    if let Some((kind, start)) = found {
        masks.push(Mask::of(kind, start, last.end));
    }
}

fn is_phone(segment: &[Group], cue: Cue) -> bool {
    let digits: usize = segment.iter().map(|g| g.digits.len()).sum();
    if cue == Cue::Keep || !(PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&digits) {
        return false;
    }
    let plus = segment[0].plus;
    let shaped = if let [only] = segment {
        !only.spoken && (plus || cue == Cue::Phone)
    } else {
        plus || cue == Cue::Phone || segment.iter().all(|g| g.digits.len() <= PHONE_MAX_GROUP)
    };
    shaped && !has_date(segment) && !is_time_list(segment) && !is_year_list(segment)
}

fn value(group: &Group) -> u32 {
    group.digits.parse().unwrap_or(u32::MAX)
}

fn is_year(group: &Group) -> bool {
    group.digits.len() == 4 && (1900..=2099).contains(&value(group))
}

/// Whether three consecutive written groups read as a date: day and month (either order) then
/// year, or year, month, day.
fn has_date(segment: &[Group]) -> bool {
    let day_month = |a: &Group, b: &Group| {
        let short = |g: &Group| !g.spoken && (1..=2).contains(&g.digits.len());
        short(a)
            && short(b)
            && (((1..=31).contains(&value(a)) && (1..=12).contains(&value(b)))
                || ((1..=12).contains(&value(a)) && (1..=31).contains(&value(b))))
    };
    segment.windows(3).any(|w| {
        (day_month(&w[0], &w[1]) && is_year(&w[2])) || (is_year(&w[0]) && day_month(&w[1], &w[2]))
    })
}

/// Whether the segment is hour–minute pairs ("10 30 11 45 12 15").
fn is_time_list(segment: &[Group]) -> bool {
    segment.len().is_multiple_of(2)
        && segment.chunks(2).all(|pair| {
            let (hour, minute) = (&pair[0], &pair[1]);
            !hour.spoken
                && hour.digits.len() <= 2
                && value(hour) <= 23
                && minute.digits.len() == 2
                && value(minute) <= 59
        })
}

/// Whether every group is a year ("1998 2004 2010").
fn is_year_list(segment: &[Group]) -> bool {
    segment.iter().all(is_year)
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
pub(super) fn luhn(digits: &str) -> bool {
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
    fn the_luhn_check_is_the_standard_one() {
        assert!(luhn("4111111111111111"));
        assert!(luhn("378282246310005"));
        assert!(luhn("79927398713"));
        assert!(!luhn("4111111111111112"));
    }
}
