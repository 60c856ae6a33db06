//! Retry policy: exponential backoff with jitter, and the retry-or-dead-letter decision.
//!
//! Owns [`RetryPolicy`], [`HandlerError`] (what a handler says about a failure) and
//! [`Decision`]. Pure: no I/O, no clock.
//!
//! # How a retry waits on a stream
//! A stream has no "deliver later". A failed entry is therefore **left pending** (not acked,
//! not re-published) and the worker rewrites its idle time with [`crate::Bus::set_idle`] to
//! `claim_idle − delay`. The claim step, which takes every entry idle for at least
//! `claim_idle`, then picks it up `delay` after the failure, and the claim counts one more
//! delivery. This keeps the pending-entry list the single source of truth for attempts, keeps one
//! claim threshold for both crashed consumers and retries (an in-flight entry is never mistaken
//! for one waiting to be retried), and needs no side structure (no delay set, no timers). The
//! cost: no retry can wait longer than `claim_idle`, which `BusSettings::validate` enforces.

use std::time::Duration;

use rand::Rng;

/// Why a handler could not process a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// A transient failure (a dependency timed out, a lock was busy): try again later.
    #[error("retryable: {0}")]
    Retryable(String),
    /// The message can never succeed as it is (it references nothing, it violates a rule): dead-
    /// letter it now.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl HandlerError {
    /// Whether trying again may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, HandlerError::Retryable(_))
    }
}

/// What to do with a failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Leave it pending and let it be claimed again after this delay.
    Retry(Duration),
    /// Move it to the dead-letter stream with this reason.
    DeadLetter(String),
}

/// Exponential backoff with equal jitter, capped, with a maximum number of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    max: Duration,
    max_attempts: u32,
}

impl RetryPolicy {
    /// A policy whose n-th retry waits about `base · 2^(n−1)`, at most `max`, and which gives up
    /// after `max_attempts` deliveries (values below 1 are treated as 1).
    pub fn new(base: Duration, max: Duration, max_attempts: u32) -> Self {
        Self {
            base,
            max: max.max(base),
            max_attempts: max_attempts.max(1),
        }
    }

    /// Deliveries after which a failing message is dead-lettered.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff ceiling after delivery `attempt` failed: `base · 2^(attempt−1)`, capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .map_or(self.max, |d| d.min(self.max))
    }

    /// The jittered delay after delivery `attempt` failed: uniformly in `[ceiling/2, ceiling]`,
    /// so retries of a burst of failures spread out but never come back immediately.
    pub fn backoff<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(rng.random_range(0..=spread))
    }

    /// Decides what happens after delivery `attempt` (1-based) failed with `error`.
    pub fn decide<R: Rng + ?Sized>(
        &self,
        attempt: u32,
        error: &HandlerError,
        rng: &mut R,
    ) -> Decision {
        match error {
            HandlerError::Permanent(reason) => Decision::DeadLetter(format!("permanent: {reason}")),
            HandlerError::Retryable(reason) if attempt >= self.max_attempts => {
                Decision::DeadLetter(format!("gave up after {attempt} attempts: {reason}"))
            }
            HandlerError::Retryable(_) => Decision::Retry(self.backoff(attempt, rng)),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(Duration::from_millis(100), Duration::from_secs(2), 4)
    }

    #[test]
    fn ceiling_doubles_then_caps() {
        let p = policy();
        let ms: Vec<u128> = (1..=7).map(|a| p.ceiling(a).as_millis()).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn jitter_stays_within_half_and_full_ceiling_and_varies() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..200).map(|_| p.backoff(3, &mut rng)).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(200) && *d <= Duration::from_millis(400))
        );
        let first = delays[0];
        assert!(delays.iter().any(|d| *d != first));
    }

    #[test]
    fn permanent_errors_and_the_last_attempt_dead_letter() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(1);
        let transient = HandlerError::Retryable("timeout".into());
        assert!(matches!(
            p.decide(1, &transient, &mut rng),
            Decision::Retry(_)
        ));
        assert_eq!(
            p.decide(4, &transient, &mut rng),
            Decision::DeadLetter("gave up after 4 attempts: timeout".into())
        );
        assert_eq!(
            p.decide(
                1,
                &HandlerError::Permanent("no such event".into()),
                &mut rng
            ),
            Decision::DeadLetter("permanent: no such event".into())
        );
    }

    #[test]
    fn max_attempts_is_at_least_one() {
        assert_eq!(
            RetryPolicy::new(Duration::ZERO, Duration::ZERO, 0).max_attempts(),
            1
        );
    }
}
