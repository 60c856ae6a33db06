//! [`CacheMetrics`]: lookups per cache, tier and result, operations served without Redis, and
//! Redis entries rejected because they did not open.

use prometheus::{IntCounterVec, Opts, Registry};

/// Cache counters. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CacheMetrics {
    lookups: IntCounterVec,
    degraded: IntCounterVec,
    rejected: IntCounterVec,
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
        let rejected = IntCounterVec::new(
            Opts::new(
                "memvox_cache_rejected_total",
                "Redis cache entries that failed authentication (altered, moved or sealed under other keys), served as misses",
            ),
            &["op"],
        )?;
        registry.register(Box::new(lookups.clone()))?;
        registry.register(Box::new(degraded.clone()))?;
        registry.register(Box::new(rejected.clone()))?;
        Ok(Self {
            lookups,
            degraded,
            rejected,
        })
    }

    /// Counts one lookup.
    pub(crate) fn lookup(&self, cache: &str, tier: &str, hit: bool) {
        self.lookups
            .with_label_values(&[cache, tier, if hit { "hit" } else { "miss" }])
            .inc();
    }

    /// Counts one Redis entry that did not open.
    pub(crate) fn rejected(&self, op: &str) {
        self.rejected.with_label_values(&[op]).inc();
    }

    /// Counts one operation that could not use Redis.
    pub(crate) fn degraded(&self, op: &str) {
        self.degraded.with_label_values(&[op]).inc();
    }
}
