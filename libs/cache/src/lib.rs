//! memvox caches: per-user values in two tiers — [moka](moka) in process, then Redis shared by
//! every process — whose keys carry the user's cache *version*, so one write anywhere
//! invalidates every entry of that user at once, without scanning.
//!
//! - [`Versions`]: per-user versions. In one process (embedded mode) a single handle is shared
//!   by the query service and the workers; with a [`SharedTier`] each user also has a version
//!   key in Redis that writers `INCR` after their commit and readers `GET` once per lookup.
//! - [`UserCache`]: the two-tier cache of one kind of value (query answers), keyed by
//!   (user, version, key).
//! - [`QueryVectors`]: query embeddings in the same two tiers (no version: a vector depends on
//!   the text only), for remote embedders.
//! - [`Caching`]: the per-process bundle built from [`CacheSettings`].
//!
//! # What Redis holds
//!
//! Versions, and entries sealed with a [`Sealer`] from the keyring (AES-256-GCM, bound to the
//! entry's key) under keyed names: no user id, question, answer or vector in plaintext. An entry
//! that does not open is a miss. With encryption off there is no sealer, and Redis holds the
//! versions only (answers and vectors stay in process memory).
//!
//! # Why a reader never serves a value older than the last committed write
//!
//! A reader reads the version *before* computing, looks up with it, and stores what it computed
//! under that same version. A writer bumps the version *after* its commit. So:
//! - a lookup that starts after a bump reads the new version, under which only values computed
//!   after the bump (hence after the commit) can be stored;
//! - a value whose computation overlapped a bump was stored under the old version, which
//!   nobody asks for any more: it is unreachable in both tiers, never served.
//!
//! Versions never repeat: local ones come from one growing counter; a Redis version key is
//! created at a random 62-bit value (first use, expiry, a Redis restart that lost it) and only
//! grows from there, so an old entry cannot match a new version by accident.
//!
//! # When Redis is unreachable
//!
//! Nothing fails: each Redis operation is bounded by `redis_timeout_ms`, a failure is counted in
//! `memvox_cache_degraded_total{op}` and logged (rate-limited), and Redis is skipped for
//! `redis_retry_ms`, then tried again. Meanwhile readers use the local version and the moka
//! tier, which still sees this process's own writes; writes of other processes are then only
//! bounded by `local_ttl_ms`, and a bump lost during the outage by the time to live of the
//! entries written before it.

mod metrics;
mod settings;
mod shared;
mod user_cache;
mod vectors;
mod versions;

pub use metrics::CacheMetrics;
pub use settings::CacheSettings;
pub use shared::{LOG_EVERY, SharedTier, scan_keys};
pub use user_cache::UserCache;
pub use vectors::QueryVectors;
pub use versions::{Version, Versions};

use memvox_crypto::Sealer;
use prometheus::Registry;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A cache that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A setting is out of range, or the Redis URL is malformed.
    #[error("invalid cache settings: {0}")]
    Invalid(String),
    /// The cache counters could not be registered.
    #[error("cache metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The caching handles of one process. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Caching {
    /// The settings the caches were built from.
    pub settings: CacheSettings,
    /// Per-user versions, shared by every reader and writer of the process.
    pub versions: Versions,
    /// Counters of every cache of the process.
    pub metrics: CacheMetrics,
}

impl Caching {
    /// Validates `settings`, registers the counters in `registry` and, given a Redis URL, sets
    /// up the shared tier (connecting lazily: an unreachable Redis is not an error). `sealer`
    /// (from the keyring, `None` with encryption off) seals the Redis entries; without it Redis
    /// holds versions only.
    ///
    /// # Errors
    /// [`CacheError`] for invalid settings, a malformed URL or a metric registered twice.
    pub fn new(
        settings: CacheSettings,
        redis_url: Option<&str>,
        sealer: Option<Sealer>,
        registry: &Registry,
    ) -> Result<Self, CacheError> {
        settings.validate()?;
        let metrics = CacheMetrics::register(registry)?;
        if redis_url.is_some() && sealer.is_none() && settings.enabled {
            tracing::warn!(
                "encryption off: the Redis cache tier keeps versions only, cached answers stay in each process"
            );
        }
        let shared = redis_url
            .map(|url| SharedTier::new(url, &settings, sealer, metrics.clone()))
            .transpose()?;
        Ok(Self {
            versions: Versions::new(settings.capacity, shared),
            settings,
            metrics,
        })
    }

    /// A cache named `name` with the configured capacity and times to live; `None` when the
    /// cache is off.
    pub fn user_cache<K, V>(&self, name: &'static str) -> Option<UserCache<K, V>>
    where
        K: std::hash::Hash + Eq + Serialize + Clone + Send + Sync + 'static,
        V: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.settings.enabled.then(|| {
            UserCache::new(
                name,
                self.settings.capacity,
                self.settings.local_ttl(),
                self.versions.clone(),
                self.metrics.clone(),
            )
        })
    }
}

impl Caching {
    /// Query vectors of `model` in two tiers; `None` when the cache is off, there is no Redis
    /// tier (or it cannot seal entries), or `shared_query_vectors` is off.
    pub fn query_vectors(&self, model: &str) -> Option<QueryVectors> {
        let shared = self.versions.shared().filter(|s| s.holds_entries())?;
        (self.settings.enabled && self.settings.shared_query_vectors).then(|| {
            QueryVectors::new(
                model,
                self.settings.capacity,
                self.settings.local_ttl(),
                shared.clone(),
                self.metrics.clone(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> UserCache<String, i32> {
        Caching::new(CacheSettings::default(), None, None, &Registry::new())
            .unwrap()
            .user_cache("t")
            .unwrap()
    }

    fn k(s: &str) -> String {
        s.to_owned()
    }

    #[tokio::test]
    async fn a_value_is_served_until_the_user_is_invalidated() {
        let cache = cache();
        let v = cache.version("u1").await;
        assert_eq!(cache.get("u1", v, &k("q")).await, None);
        cache.insert("u1", v, k("q"), 7).await;
        let other = cache.version("u2").await;
        cache.insert("u2", other, k("q"), 8).await;
        let v1 = cache.version("u1").await;
        assert_eq!(cache.get("u1", v1, &k("q")).await.as_deref(), Some(&7));
        cache.invalidate_user("u1").await;
        let v1 = cache.version("u1").await;
        assert_eq!(cache.get("u1", v1, &k("q")).await, None);
        let v2 = cache.version("u2").await;
        assert_eq!(cache.get("u2", v2, &k("q")).await.as_deref(), Some(&8));
    }

    #[tokio::test]
    async fn a_value_computed_across_a_write_is_never_served() {
        let cache = cache();
        let before = cache.version("u1").await;
        cache.invalidate_user("u1").await;
        cache.insert("u1", before, k("q"), 1).await;
        let now = cache.version("u1").await;
        assert_eq!(cache.get("u1", now, &k("q")).await, None);
    }

    #[tokio::test]
    async fn versions_never_repeat() {
        let cache = cache();
        let mut seen = std::collections::HashSet::new();
        for user in ["a", "b", "a", "c"] {
            cache.invalidate_user(user).await;
            assert!(seen.insert(cache.version(user).await));
        }
    }

    #[test]
    fn the_cache_can_be_off_and_bad_settings_are_refused() {
        let off = CacheSettings {
            enabled: false,
            ..CacheSettings::default()
        };
        let caching = Caching::new(off, None, None, &Registry::new()).unwrap();
        assert!(caching.user_cache::<String, i32>("t").is_none());
        let bad = CacheSettings {
            capacity: 0,
            ..CacheSettings::default()
        };
        assert!(Caching::new(bad, None, None, &Registry::new()).is_err());
        assert!(
            Caching::new(
                CacheSettings::default(),
                Some("not a url"),
                None,
                &Registry::new()
            )
            .is_err()
        );
    }
}
