//! Time in a question: what the agent's words say about *when*, used to rank memories by the
//! date they were said.
//!
//! - A month named as a time ("what did the caller order in May", "in March") favours what was
//!   said in that month: every memory carries the time of the call it came from.
//! - A question about the present ("where does the caller live now", "latest", "still",
//!   "current") favours what was said most recently, so a change of plan outranks the plan it
//!   replaced.
//! - A question about the past ("before they moved", "originally", "used to", "previous")
//!   favours what was said first, so the plan that was replaced outranks the change.
//!
//! All are multiplicative boosts on the fused score ([`TimeCues::boost`]): they reorder
//! matches, they never make a non-match match. [`TimeCues::read`] also gives the question
//! without these words, which say nothing about *what* (see `crate::question`).

use memvox_core::UnixMillis;
use memvox_core::text::MONTHS;

/// Boost of a memory said in a month the question names.
pub const MONTH_BOOST: f64 = 0.3;
/// Boost of the newest candidate when the question is about the present (older ones get a
/// share of it by their age among the candidates); of the oldest when it is about the past.
pub const LATEST_BOOST: f64 = 0.3;

/// Words that put a month name in a time phrase (needed for "may", a verb too).
const BEFORE_MONTH: [&str; 9] = [
    "in", "during", "since", "from", "of", "early", "late", "mid", "last",
];

const PRESENT: [&str; 9] = [
    "now",
    "currently",
    "current",
    "latest",
    "still",
    "anymore",
    "today",
    "recent",
    "recently",
];

/// Words that ask about an earlier state ("used" only in "used to", "old" not in "how old").
const PAST: [&str; 10] = [
    "before",
    "originally",
    "original",
    "previously",
    "previous",
    "formerly",
    "initially",
    "earlier",
    "old",
    "used",
];

/// What a question says about time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeCues {
    /// Months named as times (1–12).
    pub months: Vec<u32>,
    /// Whether it asks about the present state.
    pub latest: bool,
    /// Whether it asks about an earlier state.
    pub past: bool,
}

impl TimeCues {
    /// Reads the cues of `query`, and `query` without the words that gave them (as it is when
    /// nothing else would be left).
    pub fn read(query: &str) -> (Self, String) {
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .collect();
        let mut cues = Self::default();
        let mut kept = Vec::new();
        for (i, (word, original)) in words.iter().zip(query.split_whitespace()).enumerate() {
            let previous = i.checked_sub(1).map(|p| words[p].as_str());
            let next = words.get(i + 1).map(String::as_str);
            let month = MONTHS.iter().position(|m| m == word).map(|m| m as u32 + 1);
            if let Some(month) = month
                .filter(|_| word != "may" || previous.is_some_and(|p| BEFORE_MONTH.contains(&p)))
            {
                if !cues.months.contains(&month) {
                    cues.months.push(month);
                }
            } else if PRESENT.contains(&word.as_str()) {
                cues.latest = true;
            } else if PAST.contains(&word.as_str())
                && (word != "used" || next == Some("to"))
                && (word != "old" || previous != Some("how"))
            {
                cues.past = true;
            } else {
                kept.push(original);
            }
        }
        let topic = if kept.is_empty() {
            query.to_owned()
        } else {
            kept.join(" ")
        };
        (cues, topic)
    }

    /// Whether the question says anything about time.
    pub fn is_empty(&self) -> bool {
        self.months.is_empty() && !self.latest && !self.past
    }

    /// The factor for a memory said at `said_at`, among candidates said between `oldest` and
    /// `newest`.
    pub fn boost(&self, said_at: UnixMillis, oldest: UnixMillis, newest: UnixMillis) -> f64 {
        let mut factor = 1.0;
        if !self.months.is_empty() && self.months.contains(&month_of(said_at)) {
            factor += MONTH_BOOST;
        }
        if newest > oldest {
            let age = (newest - said_at) as f64 / (newest - oldest) as f64;
            if self.latest {
                factor += LATEST_BOOST * (1.0 - age);
            }
            if self.past {
                factor += LATEST_BOOST * age;
            }
        }
        factor
    }
}

/// The month (1–12, UTC) of a time.
fn month_of(at: UnixMillis) -> u32 {
    u32::from(u8::from(memvox_core::calendar::utc(at).month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAY_2026: UnixMillis = 1_778_500_000_000;

    #[test]
    fn months_are_read_as_times_and_may_only_in_a_time_phrase() {
        let cues = |query| TimeCues::read(query).0;
        assert_eq!(cues("what did the caller order in May").months, [5]);
        assert_eq!(cues("March or early April?").months, [3, 4]);
        assert!(cues("may I ask about the order").months.is_empty());
        assert!(cues("the caller's dog's name").is_empty());
        assert_eq!(
            TimeCues::read("what did the caller order in May?").1,
            "what did the caller order in"
        );
    }

    #[test]
    fn the_present_favours_the_newest_the_past_the_oldest_and_a_month_its_own() {
        let (now, topic) = TimeCues::read("where does the caller live now");
        assert_eq!(topic, "where does the caller live");
        assert!(now.latest);
        assert_eq!(now.boost(10, 0, 10), 1.0 + LATEST_BOOST);
        assert_eq!(now.boost(0, 0, 10), 1.0);
        let (before, _) = TimeCues::read("which chemist did the caller use before switching");
        assert!(before.past && !before.latest);
        assert_eq!(before.boost(0, 0, 10), 1.0 + LATEST_BOOST);
        assert_eq!(before.boost(10, 0, 10), 1.0);
        let (used, topic) = TimeCues::read("which pharmacy the caller used to use");
        assert!(used.past);
        assert_eq!(topic, "which pharmacy the caller to use");
        assert!(!TimeCues::read("which pharmacy was used").0.past);
        assert!(!TimeCues::read("how old is the caller's little girl").0.past);
        let (may, _) = TimeCues::read("what was booked in May");
        assert_eq!(month_of(MAY_2026), 5);
        assert_eq!(may.boost(MAY_2026, 0, 0), 1.0 + MONTH_BOOST);
        assert_eq!(may.boost(0, 0, 0), 1.0);
    }
}
