//! memvox caches: [`UserCache`], an in-process (moka) cache of per-user values whose keys carry
//! the user's cache *version*, so one write invalidates every entry of that user at once
//! without scanning.
//!
//! Protocol for a reader: read [`UserCache::version`] *before* computing, look up with it, and
//! insert the computed value under that same version. A write that lands while the value is
//! being computed bumps the version, so the value is stored under a version nobody asks for any
//! more and is never served: a stale answer cannot outlive the write that made it stale.
//!
//! Versions come from one counter that only grows, so a user whose version entry was evicted
//! gets a fresh, never-used number, never one an old entry was stored under. Entries also
//! expire after a time to live, which bounds staleness from writers this process does not see
//! (other replicas, the workers).

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;

/// Values of type `V` per (user, version, key `K`).
pub struct UserCache<K, V> {
    entries: Cache<(String, u64, K), Arc<V>>,
    versions: Cache<String, u64>,
    next_version: Arc<AtomicU64>,
}

impl<K, V> Clone for UserCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            versions: self.versions.clone(),
            next_version: self.next_version.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for UserCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl<K, V> UserCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// A cache of at most `capacity` entries, each living at most `ttl`.
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            versions: Cache::builder().max_capacity(capacity.max(1)).build(),
            next_version: Arc::new(AtomicU64::new(1)),
        }
    }

    /// The user's current version; read it before computing a value to cache.
    pub async fn version(&self, user: &str) -> u64 {
        let next = &self.next_version;
        self.versions
            .get_with(user.to_owned(), async {
                next.fetch_add(1, Ordering::Relaxed)
            })
            .await
    }

    /// The value cached for `key` at `version`.
    pub async fn get(&self, user: &str, version: u64, key: K) -> Option<Arc<V>> {
        self.entries.get(&(user.to_owned(), version, key)).await
    }

    /// Caches `value` for `key` at `version` (the version read before computing it).
    pub async fn insert(&self, user: &str, version: u64, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        self.entries
            .insert((user.to_owned(), version, key), value.clone())
            .await;
        value
    }

    /// Makes every entry of the user unreachable (call after each write to their data).
    pub async fn invalidate_user(&self, user: &str) {
        let version = self.next_version.fetch_add(1, Ordering::Relaxed);
        self.versions.insert(user.to_owned(), version).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> UserCache<&'static str, i32> {
        UserCache::new(100, Duration::from_secs(3600))
    }

    #[tokio::test]
    async fn a_value_is_served_until_the_user_is_invalidated() {
        let cache = cache();
        let v = cache.version("u1").await;
        assert_eq!(cache.get("u1", v, "q").await, None);
        cache.insert("u1", v, "q", 7).await;
        let other = cache.version("u2").await;
        cache.insert("u2", other, "q", 8).await;
        assert_eq!(
            cache
                .get("u1", cache.version("u1").await, "q")
                .await
                .as_deref(),
            Some(&7)
        );
        cache.invalidate_user("u1").await;
        assert_eq!(cache.get("u1", cache.version("u1").await, "q").await, None);
        assert_eq!(
            cache
                .get("u2", cache.version("u2").await, "q")
                .await
                .as_deref(),
            Some(&8)
        );
    }

    #[tokio::test]
    async fn a_value_computed_across_a_write_is_never_served() {
        let cache = cache();
        let before = cache.version("u1").await;
        cache.invalidate_user("u1").await;
        cache.insert("u1", before, "q", 1).await;
        assert_eq!(cache.get("u1", cache.version("u1").await, "q").await, None);
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
}
