//! Counters of the query service that are about trust rather than latency: initiation requests
//! answered generically because of a rate limit, and identities refused.
//!
//! They start unregistered (tests read them directly); [`QueryMetrics::register`] adds them to
//! the process's registry.

use prometheus::{IntCounterVec, Opts, Registry};

/// The query service's counters.
#[derive(Debug, Clone)]
pub struct QueryMetrics {
    /// `memvox_init_limited_total{limit=number|global}`.
    pub init_limited: IntCounterVec,
}

impl Default for QueryMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryMetrics {
    /// Fresh, unregistered counters.
    pub fn new() -> Self {
        let init_limited = IntCounterVec::new(
            Opts::new(
                "memvox_init_limited_total",
                "Conversation-init requests answered generically because a rate limit was hit",
            ),
            &["limit"],
        )
        .expect("valid metric");
        Self { init_limited }
    }

    /// Registers every counter in `registry`.
    ///
    /// # Errors
    /// A counter of the same name is already registered.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.init_limited.clone()))
    }
}
