//! Time in a question: what the agent's words say about *when*, used to rank memories by the
//! date they were said.
//!
//! - A month named as a time ("what did the caller order in May", "in March") favours what was
//!   said in that month: every memory carries the time of the call it came from.
//! - A question about the present ("where does the caller live now", "latest", "still",
//!   "current") favours what was said most recently, so a change of plan outranks the plan it
//!   replaced.
//!
//! Both are multiplicative boosts on the fused score ([`TimeCues::boost`]): they reorder
//! matches, they never make a non-match match.

use memvox_core::UnixMillis;

use crate::present::civil_date;

/// Boost of a memory said in a month the question names.
pub const MONTH_BOOST: f64 = 0.3;
/// Boost of the newest candidate when the question is about the present (older ones get a
/// share of it by their age among the candidates).
pub const LATEST_BOOST: f64 = 0.3;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

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

/// What a question says about time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeCues {
    /// Months named as times (1–12).
    pub months: Vec<u32>,
    /// Whether it asks about the present state.
    pub latest: bool,
}

impl TimeCues {
    /// Reads the cues of `query`.
    pub fn of(query: &str) -> Self {
        let lower = query.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let mut months = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let Some(month) = MONTHS.iter().position(|m| m == word) else {
                continue;
            };
            let phrased = i > 0 && BEFORE_MONTH.contains(&words[i - 1]);
            if (*word != "may" || phrased) && !months.contains(&(month as u32 + 1)) {
                months.push(month as u32 + 1);
            }
        }
        Self {
            months,
            latest: words.iter().any(|w| PRESENT.contains(w)),
        }
    }

    /// Whether the question says anything about time.
    pub fn is_empty(&self) -> bool {
        self.months.is_empty() && !self.latest
    }

    /// The factor for a memory said at `said_at`, among candidates said between `oldest` and
    /// `newest`.
    pub fn boost(&self, said_at: UnixMillis, oldest: UnixMillis, newest: UnixMillis) -> f64 {
        let mut factor = 1.0;
        if !self.months.is_empty() && self.months.contains(&month_of(said_at)) {
            factor += MONTH_BOOST;
        }
        if self.latest && newest > oldest {
            factor += LATEST_BOOST * (said_at - oldest) as f64 / (newest - oldest) as f64;
        }
        factor
    }
}

/// The month (1–12, UTC) of a time.
fn month_of(at: UnixMillis) -> u32 {
    u32::try_from(civil_date(at).1).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAY_2026: UnixMillis = 1_778_500_000_000;

    #[test]
    fn months_are_read_as_times_and_may_only_in_a_time_phrase() {
        assert_eq!(TimeCues::of("what did the caller order in May").months, [5]);
        assert_eq!(TimeCues::of("March or early April?").months, [3, 4]);
        assert!(TimeCues::of("may I ask about the order").months.is_empty());
        assert!(TimeCues::of("the caller's dog's name").is_empty());
    }

    #[test]
    fn the_present_favours_the_newest_and_a_month_its_own() {
        let now = TimeCues::of("where does the caller live now");
        assert!(now.latest);
        assert_eq!(now.boost(10, 0, 10), 1.0 + LATEST_BOOST);
        assert_eq!(now.boost(0, 0, 10), 1.0);
        let may = TimeCues::of("what was booked in May");
        assert_eq!(month_of(MAY_2026), 5);
        assert_eq!(may.boost(MAY_2026, 0, 0), 1.0 + MONTH_BOOST);
        assert_eq!(may.boost(0, 0, 0), 1.0);
    }
}
