//! [`CacheMetrics`]: lookups per cache, tier and result, and operations served without Redis.

use prometheus::{IntCounterVec, Opts, Registry};

/// Cache counters. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CacheMetrics {
    lookups: IntCounterVec,
    degraded: IntCounterVec,
}

impl CacheMetrics {
    /// Creates the counters and registers them in `registry`.
    ///
    /// # Errors
    /// A counter of the same name is already registered.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let lookups = IntCounterVec::new(
            Opts::new(
                "memvox_cache_lookups_total",
                "Cache lookups by cache, tier (memory, redis) and result (hit, miss)",
            ),
            &["cache", "tier", "result"],
        )?;
        let degraded = IntCounterVec::new(
            Opts::new(
                "memvox_cache_degraded_total",
                "Cache operations served in process because Redis failed, timed out or was skipped",
            ),
            &["op"],
        )?;
        registry.register(Box::new(lookups.clone()))?;
        registry.register(Box::new(degraded.clone()))?;
        Ok(Self { lookups, degraded })
    }

    /// Counts one lookup.
    pub(crate) fn lookup(&self, cache: &str, tier: &str, hit: bool) {
        self.lookups
            .with_label_values(&[cache, tier, if hit { "hit" } else { "miss" }])
            .inc();
    }

    /// Counts one operation that could not use Redis.
    pub(crate) fn degraded(&self, op: &str) {
        self.degraded.with_label_values(&[op]).inc();
    }
}
