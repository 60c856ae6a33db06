//! Text read as speech-to-text writes numbers: runs of digit groups and digit words joined only
//! by separators, with what stood before each run (a cue word, a currency sign) and how each
//! group was written.

/// A number token: its byte span, its digits and how it was written.
#[derive(Debug)]
pub(super) struct Group {
    /// Byte offset of the token.
    pub start: usize,
    /// Byte offset just past the token.
    pub end: usize,
    /// Its digits (one for a digit word).
    pub digits: String,
    /// A digit word ("four", "oh"), not digits.
    pub spoken: bool,
    /// A `+` is written right before it (separators aside).
    pub plus: bool,
    /// Byte offset of the first `+` or `(` among the separators right before it: where a
    /// phone number starting at this group begins.
    pub lead: Option<usize>,
    /// A comma separates it from the previous group of its run.
    pub comma_before: bool,
}

/// What the words just before a run say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cue {
    /// Nothing in particular.
    None,
    /// "phone", "call", "mobile", …: a long unbroken number is a phone number.
    Phone,
    /// "account", "routing", "sort code", …: the number is a bank account's.
    Account,
    /// "social", "SSN": nine digits are a social security number, however written.
    NationalId,
    /// "order", "invoice", "reference", …: the number is an identifier to keep, or an amount.
    Keep,
}

/// A run of number tokens joined only by separators.
#[derive(Debug)]
pub(super) struct Run {
    /// The tokens, in order.
    pub groups: Vec<Group>,
    /// What preceded the run.
    pub cue: Cue,
}

/// Words (lower case) after which a number is an identifier or an amount, never a phone or an
/// account number.
const KEEP_WORDS: &[&str] = &[
    "order",
    "orders",
    "invoice",
    "reference",
    "ref",
    "tracking",
    "confirmation",
    "booking",
    "reservation",
    "ticket",
    "case",
    "claim",
    "policy",
    "serial",
    "model",
    "flight",
    "room",
    "item",
    "sku",
    "part",
    "dollars",
    "euros",
    "pounds",
    "balance",
];

/// Words (lower case) after which a long unbroken number is a phone number ("number" too, when
/// no other cue is near).
const PHONE_WORDS: &[&str] = &[
    "phone",
    "telephone",
    "call",
    "cell",
    "mobile",
    "text",
    "reach",
    "fax",
    "landline",
    "whatsapp",
    "contact",
];

/// Words (lower case) after which a number is a bank account's (or its sort or routing code).
const ACCOUNT_WORDS: &[&str] = &[
    "account", "acct", "routing", "sort", "aba", "bsb", "checking", "savings",
];

/// Words (lower case) after which nine digits are a social security number.
const NATIONAL_ID_WORDS: &[&str] = &["social", "ssn"];

/// How many words before a run are read for a cue.
const CUE_WINDOW: usize = 3;

/// The digit a word stands for, if it is a digit word.
pub(super) fn digit_word(word: &str) -> Option<char> {
    const WORDS: [(&str, char); 12] = [
        ("zero", '0'),
        ("oh", '0'),
        ("o", '0'),
        ("one", '1'),
        ("two", '2'),
        ("three", '3'),
        ("four", '4'),
        ("five", '5'),
        ("six", '6'),
        ("seven", '7'),
        ("eight", '8'),
        ("nine", '9'),
    ];
    if word.len() > 5 {
        return None;
    }
    WORDS
        .iter()
        .find(|(spelled, _)| spelled.eq_ignore_ascii_case(word))
        .map(|&(_, digit)| digit)
}

/// Characters that join the tokens of one number.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | ',' | '.' | '\u{2013}' | '(' | ')' | '+')
}

fn is_currency(c: char) -> bool {
    matches!(c, '$' | '£' | '€' | '¥')
}

/// The cue of the last few words: an identifier word anywhere among them, else the nearest
/// account, social security or phone word, else "number" (a phone number, most often).
fn cue_of(recent: &[&str]) -> Cue {
    let is = |word: &&str, list: &[&str]| list.iter().any(|cue| cue.eq_ignore_ascii_case(word));
    if recent.iter().any(|word| is(word, KEEP_WORDS)) {
        return Cue::Keep;
    }
    let nearest = recent.iter().rev().find_map(|word| {
        if is(word, ACCOUNT_WORDS) {
            Some(Cue::Account)
        } else if is(word, NATIONAL_ID_WORDS) {
            Some(Cue::NationalId)
        } else {
            is(word, PHONE_WORDS).then_some(Cue::Phone)
        }
    });
    nearest.unwrap_or(
        if recent
            .iter()
            .any(|word| word.eq_ignore_ascii_case("number"))
        {
            Cue::Phone
        } else {
            Cue::None
        },
    )
}

/// Closes the current run, if any; the words before it cue no later run.
fn end_run(runs: &mut Vec<Run>, current: &mut Option<Run>, recent: &mut Vec<&str>) {
    if let Some(run) = current.take() {
        runs.push(run);
        recent.clear();
    }
}

/// The runs of `text`, in order.
pub(super) fn runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut current: Option<Run> = None;
    let mut recent: Vec<&str> = Vec::with_capacity(CUE_WINDOW + 1);
    let mut plus = false;
    let mut lead = None;
    let mut comma = false;
    let mut currency = false;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if !c.is_alphanumeric() {
            if is_separator(c) {
                plus |= c == '+';
                if matches!(c, '+' | '(') {
                    lead = lead.or(Some(start));
                }
                comma |= c == ',';
            } else {
                end_run(&mut runs, &mut current, &mut recent);
                currency = is_currency(c);
                plus = false;
                lead = None;
            }
            chars.next();
            continue;
        }
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let token = &text[start..end];
        let (digits, spoken) = if token.bytes().all(|b| b.is_ascii_digit()) {
            (Some(token.to_owned()), false)
        } else {
            (digit_word(token).map(String::from), true)
        };
        match digits {
            Some(digits) => {
                let run = current.get_or_insert_with(|| Run {
                    groups: Vec::new(),
                    cue: if currency { Cue::Keep } else { cue_of(&recent) },
                });
                let comma_before = comma && !run.groups.is_empty();
                run.groups.push(Group {
                    start,
                    end,
                    digits,
                    spoken,
                    plus,
                    lead,
                    comma_before,
                });
            }
            None => {
                end_run(&mut runs, &mut current, &mut recent);
                if recent.len() == CUE_WINDOW {
                    recent.remove(0);
                }
                recent.push(token);
            }
        }
        plus = false;
        lead = None;
        comma = false;
        currency = false;
    }
    runs.extend(current);
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group as (digits, spoken, plus, comma before).
    type Shape<'a> = (&'a str, bool, bool, bool);

    #[test]
    fn runs_carry_their_cue_and_how_each_group_was_written() {
        let runs = runs("order 53819, call +1 (415) 555-0199, four one, $1,299");
        let shapes: Vec<(Cue, Vec<Shape>)> = runs
            .iter()
            .map(|run| {
                let groups = run
                    .groups
                    .iter()
                    .map(|g| (g.digits.as_str(), g.spoken, g.plus, g.comma_before))
                    .collect();
                (run.cue, groups)
            })
            .collect();
        assert_eq!(
            shapes,
            [
                (Cue::Keep, vec![("53819", false, false, false)]),
                (
                    Cue::Phone,
                    vec![
                        ("1", false, true, false),
                        ("415", false, false, false),
                        ("555", false, false, false),
                        ("0199", false, false, false),
                        ("4", true, false, true),
                        ("1", true, false, false),
                    ]
                ),
                (
                    Cue::Keep,
                    vec![("1", false, false, false), ("299", false, false, true)]
                ),
            ]
        );
    }
}
