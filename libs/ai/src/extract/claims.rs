//! Reads a third-person memory text as a claim about one slot ("lives in" = Austin).
//!
//! Owns the slot vocabulary that decides update versus supersede versus add. The same parser
//! reads a new candidate and a stored memory, whoever wrote it (rules, a model, a person), so
//! both sides are compared in the same terms. Invariants:
//! - a text is a claim only when a pattern below recognises it; anything else has no slot and
//!   can only be added or, when its normalised text is equal, ignored;
//! - single-valued slots (city, employer, name, contact channel, pharmacy, call windows …) hold
//!   one value at a time, so a new value supersedes the old; multi-valued slots (allergies,
//!   tools, likes …) are keyed by their value, so peanut and shellfish allergies never meet;
//! - values compare by words after dropping articles and filler, one a prefix of the other
//!   ("Austin" = "Austin Texas", "Portland Oregon" ≠ "Portland Maine");
//! - a leading "The caller" / "She" is ignored, so memories written by a model or a person
//!   compare with the rules' own wording.

use std::sync::LazyLock;

use memvox_core::text::normalize_for_dedupe;
use regex::Regex;

/// A memory text read as (slot, value, polarity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    /// Which slot, e.g. `city` or `allergy`; for time preferences it includes the subject.
    pub slot: String,
    /// Whether the slot holds one value at a time.
    pub single: bool,
    /// The value's significant words.
    pub value: Vec<String>,
    /// "No longer lives in X", "Not allergic to X", "Does not want phone calls".
    pub negated: bool,
}

impl Claim {
    /// Whether both claims name the same value (one's words a prefix of the other's).
    pub fn same_value(&self, other: &Claim) -> bool {
        let (short, long) = if self.value.len() <= other.value.len() {
            (&self.value, &other.value)
        } else {
            (&other.value, &self.value)
        };
        !short.is_empty() && long.starts_with(short)
    }
}

/// One recognised phrasing of a slot.
struct Pattern {
    slot: &'static str,
    single: bool,
    negated: bool,
    re: Regex,
}

fn p(slot: &'static str, single: bool, negated: bool, re: &str) -> Pattern {
    Pattern {
        slot,
        single,
        negated,
        // The patterns are literals of this file; the test `every_pattern_compiles` proves them.
        re: Regex::new(re).expect("claim pattern compiles"),
    }
}

const CHANNEL: &str =
    r"(emails?|e mails?|texts?|text messages?|texting|sms|phone calls?|phone|calls?|calling)";
const DAYPART: &str = r"(mornings?|afternoons?|evenings?|nights?)";
const LANGUAGE: &str = r"(english|spanish|french|german|portuguese|italian|mandarin|cantonese|chinese|vietnamese|korean|japanese|arabic|hindi|russian|polish|tagalog)";

/// Patterns in priority order: the first match wins (pharmacy before the generic "uses").
static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    vec![
        // identity
        p("name", true, false, r"^(?:full |first )?name is (.+)$"),
        p("last_name", true, false, r"^last name is (.+)$"),
        p(
            "nickname",
            true,
            false,
            r"^(?:goes by|prefers to be called) (.+)$",
        ),
        p("email", true, false, r"^email(?: address)? is (.+)$"),
        p(
            "phone",
            true,
            false,
            r"^(?:phone|cell|mobile)(?: phone)?(?: number)? is (.+)$",
        ),
        p(
            "address",
            true,
            false,
            r"^(?:home |mailing )?address is (.+)$",
        ),
        p("birthday", true, false, r"^birthday is (.+)$"),
        // pharmacy before place and tools
        p("pharmacy", true, false, r"^pharmacy is (.+)$"),
        p(
            "pharmacy",
            true,
            false,
            r"^(?:uses|prefers|switched to|goes to|moved to) (.+ pharmacy)\b",
        ),
        p(
            "pharmacy",
            true,
            false,
            r"^(?:moved|transferred|switched) (?:their |her |his )?(?:prescriptions?|refills?) to (.+)$",
        ),
        p(
            "pharmacy",
            true,
            false,
            r"^(?:fills|gets|picks up) (?:their |her |his )?(?:prescriptions?|refills?) (?:at|from) (.+)$",
        ),
        p(
            "pharmacy",
            true,
            false,
            r"^refills? (?:should go|goes|go|should be sent) to (.+)$",
        ),
        // place
        p(
            "city",
            true,
            true,
            r"^(?:no longer lives|does not live|doesn t live) in (.+)$",
        ),
        p("city", true, true, r"^moved away from (.+)$"),
        p(
            "city",
            true,
            false,
            r"^(?:lives|living|based|resides|located) in (.+)$",
        ),
        p(
            "city",
            true,
            false,
            r"^(?:has )?(?:moved|relocated) to (.+)$",
        ),
        p(
            "origin",
            true,
            false,
            r"^(?:is )?(?:originally )?from (.+)$",
        ),
        // work
        p("employer", true, true, r"^no longer works (?:at|for) (.+)$"),
        p("employer", true, false, r"^(?:now )?works (?:at|for) (.+)$"),
        p("employer", true, false, r"^employed (?:at|by) (.+)$"),
        p("employer", true, false, r"^employer is (.+)$"),
        p("occupation", true, false, r"^works as (?:an? )?(.+)$"),
        p(
            "insurance",
            true,
            false,
            r"^(?:insurance(?: provider)? is|insured (?:with|by|through)) (.+)$",
        ),
        // contact
        p(
            "contact_channel",
            true,
            true,
            &format!(r"^(?:does not want|doesn t want|no) {CHANNEL}"),
        ),
        p(
            "contact_channel",
            true,
            false,
            &format!(
                r"^prefers (?:to be (?:contacted|reached) (?:by|via|through) |being contacted by |contact by )?(?:an? )?{CHANNEL}"
            ),
        ),
        p(
            "contact_channel",
            true,
            false,
            &format!(
                r"^(?:wants to be|likes to be) (?:contacted|reached) (?:by|via) (?:an? )?{CHANNEL}"
            ),
        ),
        p(
            "contact_channel",
            true,
            false,
            &format!(
                r"^(?:best|preferred) (?:way to reach them|contact method|contact) is (?:by |via )?(?:an? )?{CHANNEL}"
            ),
        ),
        p(
            "call_not_before",
            true,
            false,
            r"^(?:do not|don t|never) call (?:them )?(?:before|until|earlier than) (.+)$",
        ),
        p(
            "call_not_before",
            true,
            false,
            r"^(?:call|calls) (?:them )?only after (.+)$",
        ),
        p("call_not_before", true, false, r"^no calls before (.+)$"),
        p(
            "call_not_after",
            true,
            false,
            r"^(?:do not|don t|never) call (?:them )?(?:after|later than|past) (.+)$",
        ),
        p(
            "call_not_after",
            true,
            false,
            r"^(?:call|calls) (?:them )?only before (.+)$",
        ),
        p("call_not_after", true, false, r"^no calls after (.+)$"),
        p(
            "language",
            true,
            false,
            &format!(
                r"^(?:prefers (?:to speak |speaking )?(?:in )?|speaks (?:only )?){LANGUAGE}\b"
            ),
        ),
        p(
            "time_pref",
            true,
            false,
            &format!(r"^prefers (?:weekday |weekend )?{DAYPART}"),
        ),
        p(
            "time_pref",
            true,
            false,
            &format!(r"^(?:weekday |weekend )?{DAYPART} (?:are|is|work|works) best"),
        ),
        p(
            "time_pref",
            true,
            false,
            &format!(r"^available (?:in the |on )?(?:weekday )?{DAYPART}"),
        ),
        // reflective patterns across calls
        p(
            "usual_call_time",
            true,
            false,
            &format!(r"^usually calls in the {DAYPART}"),
        ),
        p(
            "usual_call_time",
            true,
            false,
            r"^usually calls (?:around|between) (\d+)",
        ),
        p("usual_call_day", true, false, r"^usually calls on (\w+)"),
        // multi-valued
        p(
            "allergy",
            false,
            true,
            r"^(?:is )?(?:not|no longer) allergic to (.+)$",
        ),
        p("allergy", false, false, r"^(?:is )?allergic to (.+)$"),
        p(
            "uses",
            false,
            true,
            r"^(?:does not use|no longer uses|stopped using) (.+)$",
        ),
        p("uses", false, false, r"^(?:company |team )?uses (.+)$"),
        p(
            "likes",
            false,
            true,
            r"^(?:dislikes|hates|does not like) (.+)$",
        ),
        p("likes", false, false, r"^(?:likes|loves|enjoys) (.+)$"),
    ]
});

/// Words that never distinguish a value.
const NOISE: &[&str] = &[
    "the",
    "a",
    "an",
    "now",
    "anymore",
    "instead",
    "too",
    "also",
    "currently",
    "please",
    "inc",
    "llc",
    "corp",
    "co",
    "company",
    "pharmacy",
    "weekday",
    "weekdays",
];

/// Subjects a writer may put before the verb ("The caller lives in Denver").
const SUBJECTS: &[&str] = &[
    "the caller ",
    "caller ",
    "the user ",
    "user ",
    "she ",
    "he ",
];

/// Reads `content` as a claim, if it is one.
pub(crate) fn claim_of(content: &str) -> Option<Claim> {
    let normalised = normalize_for_dedupe(content);
    let text = SUBJECTS
        .iter()
        .find_map(|s| normalised.strip_prefix(s))
        .unwrap_or(&normalised);
    PATTERNS.iter().find_map(|pattern| {
        let caps = pattern.re.captures(text)?;
        let raw = caps.get(1)?.as_str();
        let value = value_words(pattern.slot, raw)?;
        let slot = match pattern.slot {
            "time_pref" => format!("time_pref:{}", time_subject(text)),
            other => other.to_owned(),
        };
        Some(Claim {
            slot,
            single: pattern.single,
            value,
            negated: pattern.negated,
        })
    })
}

/// The significant words of a value, or `None` when it cannot be a value of that slot.
fn value_words(slot: &str, raw: &str) -> Option<Vec<String>> {
    if slot == "city" && (raw.starts_with("a ") || raw.starts_with("an ")) {
        return None;
    }
    let mut words: Vec<String> = raw
        .split_whitespace()
        .filter(|w| !NOISE.contains(w))
        .map(|w| canonical_word(slot, w))
        .collect();
    words.dedup();
    (!words.is_empty()).then_some(words)
}

/// Folds spellings of one value together: plurals, and the names of contact channels.
fn canonical_word(slot: &str, word: &str) -> String {
    if slot == "contact_channel" {
        return match word {
            w if w.starts_with("e") || w == "mails" || w == "mail" => "email",
            w if w.starts_with("text") || w == "sms" => "text",
            _ => "phone",
        }
        .to_owned();
    }
    match word.strip_suffix('s') {
        Some(stem) if stem.len() > 2 && !stem.ends_with('s') => stem.to_owned(),
        _ => word.to_owned(),
    }
}

/// What a time-of-day preference is about: appointments, calls, or in general.
fn time_subject(text: &str) -> &'static str {
    if ["appointment", "visit", "slot", "deliver"]
        .iter()
        .any(|w| text.contains(w))
    {
        "appointments"
    } else if text.contains("call") || text.contains("contact") || text.contains("reach") {
        "calls"
    } else {
        "general"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(text: &str) -> Option<(String, Vec<String>, bool)> {
        claim_of(text).map(|c| (c.slot, c.value, c.negated))
    }

    #[test]
    fn every_pattern_compiles() {
        assert!(PATTERNS.len() > 40);
    }

    #[test]
    fn reads_places_and_their_negations() {
        assert_eq!(
            slot("Lives in Denver"),
            Some(("city".into(), vec!["denver".into()], false))
        );
        assert_eq!(
            slot("Moved to Austin."),
            Some(("city".into(), vec!["austin".into()], false))
        );
        assert_eq!(slot("No longer lives in Denver").map(|s| s.2), Some(true));
        assert_eq!(slot("Lives in a small apartment"), None);
    }

    #[test]
    fn folds_contact_channels() {
        for text in [
            "Prefers email",
            "Prefers to be contacted by e-mail",
            "Prefers emails",
        ] {
            assert_eq!(
                slot(text).map(|s| s.1),
                Some(vec!["email".to_owned()]),
                "{text}"
            );
        }
        assert_eq!(
            slot("Prefers text messages").map(|s| s.1),
            Some(vec!["text".into()])
        );
        assert_eq!(
            slot("Prefers phone calls").map(|s| s.1),
            Some(vec!["phone".into()])
        );
        assert_eq!(slot("Does not want phone calls").map(|s| s.2), Some(true));
    }

    #[test]
    fn pharmacy_wins_over_the_generic_uses() {
        let claim = claim_of("Moved prescriptions to the Elm Street pharmacy.").unwrap();
        assert_eq!(
            (claim.slot.as_str(), claim.value.join(" ")),
            ("pharmacy", "elm street".into())
        );
        let uses = claim_of("Uses the Elm Street pharmacy").unwrap();
        assert!(claim.same_value(&uses));
    }

    #[test]
    fn time_preferences_are_keyed_by_subject() {
        assert_eq!(
            slot("Prefers mornings for callbacks").unwrap().0,
            "time_pref:calls"
        );
        assert_eq!(
            slot("Prefers morning appointments").unwrap().0,
            "time_pref:appointments"
        );
        assert_eq!(slot("Prefers afternoons").unwrap().0, "time_pref:general");
    }

    #[test]
    fn values_compare_by_word_prefix() {
        let austin = claim_of("Lives in Austin").unwrap();
        assert!(austin.same_value(&claim_of("Lives in Austin, Texas").unwrap()));
        let portland = claim_of("Lives in Portland Oregon").unwrap();
        assert!(!portland.same_value(&claim_of("Lives in Portland Maine").unwrap()));
    }
}
