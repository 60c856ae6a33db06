//! "Now" for every memvox process: [`now_millis`], the one reading of the wall clock, and
//! [`Clock`], the injectable source that code whose tests pin time (signature freshness,
//! recency) holds instead. The domain functions of this crate never read it: they take times
//! as arguments.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::UnixMillis;

/// The wall clock in unix milliseconds (0 before the epoch).
pub fn now_millis() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// A source of the current time in unix milliseconds. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> UnixMillis + Send + Sync>);

impl Clock {
    /// The wall clock ([`now_millis`]).
    pub fn system() -> Self {
        Self::from_fn(now_millis)
    }

    /// A clock that always reads `at`.
    pub fn fixed(at: UnixMillis) -> Self {
        Self::from_fn(move || at)
    }

    /// A clock stopped at `secs` unix seconds.
    pub fn fixed_secs(secs: u64) -> Self {
        Self::fixed(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX))
    }

    /// A clock reading `now` (unix milliseconds) on every call.
    pub fn from_fn(now: impl Fn() -> UnixMillis + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// Now, in unix milliseconds.
    pub fn now(&self) -> UnixMillis {
        (self.0)()
    }

    /// Now, in whole unix seconds (0 before the epoch).
    pub fn now_secs(&self) -> u64 {
        u64::try_from(self.now().div_euclid(1000)).unwrap_or(0)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({} ms)", self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_reads_its_instant_in_both_units() {
        let clock = Clock::fixed_secs(1_767_225_705);
        assert_eq!(clock.now_secs(), 1_767_225_705);
        assert_eq!(clock.now(), 1_767_225_705_000);
        assert_eq!(Clock::fixed(42).now(), 42);
    }

    #[test]
    fn seconds_round_down_and_never_go_negative() {
        assert_eq!(Clock::from_fn(|| 1_999).now_secs(), 1);
        assert_eq!(Clock::from_fn(|| -5_000).now_secs(), 0);
    }

    #[test]
    fn system_clock_is_after_2025() {
        assert!(Clock::system().now_secs() > 1_735_689_600);
        assert!(now_millis() > 1_735_689_600_000);
    }
}
