//! Rate limits of the conversation-initiation webhook: per caller number and for all numbers
//! together (GCRA, `governor`).
//!
//! A limited request is not refused — a refused initiation webhook can keep the call from
//! starting — it gets the generic answer without a store lookup. So a flood of probes for
//! numbers costs neither database reads nor rows, and a real caller over the limit still talks
//! to the agent, just without memories. The per-number table forgets numbers idle for a full
//! period once it holds [`RETAIN_ABOVE`] of them, so probing many numbers cannot grow it
//! without bound either.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Numbers tracked before idle ones are dropped.
const RETAIN_ABOVE: usize = 10_000;

/// Which limit a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// The caller number's own rate.
    Number,
    /// The rate of all numbers together.
    Global,
}

impl Limited {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Global => "global",
        }
    }
}

/// The two limiters; a rate of 0 turns one off.
#[derive(Debug)]
pub struct InitLimiter {
    per_number: Option<DefaultKeyedRateLimiter<String>>,
    global: Option<DefaultDirectRateLimiter>,
}

impl InitLimiter {
    /// At most `per_number_per_minute` lookups a minute for one number (as a burst, refilled
    /// evenly) and `global_per_second` a second for all (burst of one second's worth).
    pub fn new(per_number_per_minute: u32, global_per_second: u32) -> Self {
        Self {
            per_number: NonZeroU32::new(per_number_per_minute)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            global: NonZeroU32::new(global_per_second)
                .map(|n| RateLimiter::direct(Quota::per_second(n))),
        }
    }

    /// Takes one lookup for `number`: its own bucket first, so a number over its limit does
    /// not use up the shared one.
    ///
    /// # Errors
    /// The limit the request is over.
    pub fn admit(&self, number: &str) -> Result<(), Limited> {
        if let Some(limiter) = &self.per_number {
            if limiter.len() > RETAIN_ABOVE {
                limiter.retain_recent();
            }
            limiter
                .check_key(&number.to_owned())
                .map_err(|_| Limited::Number)?;
        }
        if let Some(limiter) = &self.global {
            limiter.check().map_err(|_| Limited::Global)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_number_has_its_own_bucket_within_the_global_one() {
        let limiter = InitLimiter::new(2, 3);
        assert_eq!(limiter.admit("+1"), Ok(()));
        assert_eq!(limiter.admit("+1"), Ok(()));
        assert_eq!(limiter.admit("+1"), Err(Limited::Number));
        assert_eq!(limiter.admit("+2"), Ok(()));
        assert_eq!(limiter.admit("+3"), Err(Limited::Global));
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limiter = InitLimiter::new(0, 0);
        for _ in 0..1_000 {
            assert_eq!(limiter.admit("+1"), Ok(()));
        }
    }
}
