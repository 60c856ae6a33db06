//! The time source of the query service: the system clock in production, a fixed instant in
//! tests that check recency against hand-computed numbers.

use std::sync::Arc;

use memvox_core::UnixMillis;

/// Returns "now" in unix milliseconds. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> UnixMillis + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        }))
    }

    /// A clock that always reads `at`.
    pub fn fixed(at: UnixMillis) -> Self {
        Self(Arc::new(move || at))
    }

    /// The current time.
    pub fn now(&self) -> UnixMillis {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}
