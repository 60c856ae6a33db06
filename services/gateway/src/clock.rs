//! The gateway's notion of "now", injected so tests can verify signatures at a fixed instant.
//!
//! Signature freshness (`now - t <= tolerance`) and the receipt time of stored events both read
//! this clock. Production uses [`Clock::system`]; the signature-vector tests pin it to each
//! vector's `now_unix_secs` with [`Clock::fixed_secs`].

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in unix milliseconds. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Self::from_fn(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| {
                    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
                })
        })
    }

    /// A clock stopped at `secs` unix seconds.
    pub fn fixed_secs(secs: u64) -> Self {
        let millis = i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        Self::from_fn(move || millis)
    }

    /// A clock reading `now` (unix milliseconds) on every call.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// Now, in unix milliseconds.
    pub fn now_millis(&self) -> i64 {
        (self.0)()
    }

    /// Now, in whole unix seconds (0 before the epoch).
    pub fn now_secs(&self) -> u64 {
        u64::try_from(self.now_millis().div_euclid(1000)).unwrap_or(0)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({} ms)", self.now_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_reads_its_instant_in_both_units() {
        let clock = Clock::fixed_secs(1_767_225_705);
        assert_eq!(clock.now_secs(), 1_767_225_705);
        assert_eq!(clock.now_millis(), 1_767_225_705_000);
    }

    #[test]
    fn seconds_round_down_and_never_go_negative() {
        assert_eq!(Clock::from_fn(|| 1_999).now_secs(), 1);
        assert_eq!(Clock::from_fn(|| -5_000).now_secs(), 0);
    }

    #[test]
    fn system_clock_is_after_2025() {
        assert!(Clock::system().now_secs() > 1_735_689_600);
    }
}
