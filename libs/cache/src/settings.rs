//! Cache configuration (`[cache]`, `MEMVOX_CACHE__*`) and its start-up checks.

use std::time::Duration;

use serde::Deserialize;

use crate::CacheError;

/// Settings of the query caches and of the shared per-user versions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// Whether the query service caches answers and query embeddings. Writers bump the user's
    /// version either way, so turning the cache on in one replica never serves stale answers.
    pub enabled: bool,
    /// Entries kept in process, per cache (answers; the version map is as large).
    pub capacity: u64,
    /// Longest life of an in-process entry, in ms. Bounds staleness only while the shared tier
    /// is unreachable (writes of other processes cannot be seen then).
    pub local_ttl_ms: u64,
    /// Longest life of a shared (Redis) entry and of an idle version key, in ms.
    pub shared_ttl_ms: u64,
    /// Prefix of every Redis key of the cache; also what isolates tests. Glob characters
    /// (`*?[]\`) are refused, since a user's keys are found with `SCAN MATCH`.
    pub key_prefix: String,
    /// Longest wait for one Redis operation, in ms; past it the operation is served in process.
    pub redis_timeout_ms: u64,
    /// Whether query embeddings are also cached in Redis, shared by replicas. Worth it for a
    /// remote embedder (`openai`); the bundled static model is faster than a Redis round trip.
    pub shared_query_vectors: bool,
    /// After a failed Redis operation, how long the shared tier is skipped before being tried
    /// again, in ms.
    pub redis_retry_ms: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            capacity: 10_000,
            local_ttl_ms: 10_000,
            shared_ttl_ms: 300_000,
            key_prefix: "memvox:cache".into(),
            redis_timeout_ms: 50,
            redis_retry_ms: 1_000,
            shared_query_vectors: false,
        }
    }
}

impl CacheSettings {
    /// Checks the values, with a sentence saying what is wrong.
    ///
    /// # Errors
    /// [`CacheError::Invalid`] naming the setting.
    pub fn validate(&self) -> Result<(), CacheError> {
        let fail = |s: &str| Err(CacheError::Invalid(s.to_owned()));
        if self.capacity == 0 {
            return fail(
                "cache.capacity must be at least 1 (set cache.enabled = false to turn the cache off)",
            );
        }
        if self.local_ttl_ms == 0 || self.shared_ttl_ms == 0 {
            return fail("cache.local_ttl_ms and cache.shared_ttl_ms must be at least 1");
        }
        if self.redis_timeout_ms == 0 {
            return fail("cache.redis_timeout_ms must be at least 1");
        }
        if self.key_prefix.is_empty()
            || self
                .key_prefix
                .contains(['*', '?', '[', ']', '\\', '{', '}'])
        {
            return fail(
                "cache.key_prefix must be non-empty and free of *?[]\\{} (user keys are found by pattern)",
            );
        }
        Ok(())
    }

    /// [`Self::local_ttl_ms`] as a duration.
    pub fn local_ttl(&self) -> Duration {
        Duration::from_millis(self.local_ttl_ms)
    }

    /// [`Self::shared_ttl_ms`] as a duration.
    pub fn shared_ttl(&self) -> Duration {
        Duration::from_millis(self.shared_ttl_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert!(CacheSettings::default().validate().is_ok());
        let bad = |s: CacheSettings| s.validate().unwrap_err().to_string();
        assert!(
            bad(CacheSettings {
                capacity: 0,
                ..CacheSettings::default()
            })
            .contains("cache.capacity")
        );
        assert!(
            bad(CacheSettings {
                key_prefix: "a*".into(),
                ..CacheSettings::default()
            })
            .contains("cache.key_prefix")
        );
        assert!(
            bad(CacheSettings {
                redis_timeout_ms: 0,
                ..CacheSettings::default()
            })
            .contains("redis_timeout_ms")
        );
    }
}
