//! [`UserCache`]: per-user values in two tiers — moka in process, then Redis — keyed by the
//! user's [`Version`], so one bump invalidates both tiers of every process at once.

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{CacheMetrics, SharedTier, Version, Versions};

/// Values of type `V` per (user, version, key `K`). Cheap to clone.
pub struct UserCache<K, V> {
    name: &'static str,
    local: Cache<(String, Version, K), Arc<V>>,
    versions: Versions,
    metrics: CacheMetrics,
}

impl<K, V> Clone for UserCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            local: self.local.clone(),
            versions: self.versions.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for UserCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCache")
            .field("name", &self.name)
            .field("entries", &self.local.entry_count())
            .finish()
    }
}

impl<K, V> UserCache<K, V>
where
    K: Hash + Eq + Serialize + Clone + Send + Sync + 'static,
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// A cache named `name` (a metric label and part of its Redis keys) of at most `capacity`
    /// in-process entries, each living at most `local_ttl`; Redis entries use the versions'
    /// shared tier, if any.
    pub fn new(
        name: &'static str,
        capacity: u64,
        local_ttl: Duration,
        versions: Versions,
        metrics: CacheMetrics,
    ) -> Self {
        Self {
            name,
            local: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(local_ttl)
                .build(),
            versions,
            metrics,
        }
    }

    /// The user's current version; read it before computing a value to cache.
    pub async fn version(&self, user: &str) -> Version {
        self.versions.current(user).await
    }

    /// The value cached for `key` at `version`: in process, else in Redis (then kept in process).
    /// A Redis entry that does not open (altered, moved, other keys) is a miss.
    pub async fn get(&self, user: &str, version: Version, key: &K) -> Option<Arc<V>> {
        let local_key = (user.to_owned(), version, key.clone());
        if let Some(hit) = self.local.get(&local_key).await {
            self.metrics.lookup(self.name, "memory", true);
            return Some(hit);
        }
        self.metrics.lookup(self.name, "memory", false);
        let (Version::Shared(v), Some(shared)) = (version, self.shared()) else {
            return None;
        };
        let bytes = shared
            .get(shared.entry_key(user, self.name, v, &key_bytes(key)?))
            .await;
        let value = bytes.and_then(|b| serde_json::from_slice::<V>(&b).ok());
        self.metrics.lookup(self.name, "redis", value.is_some());
        let value = Arc::new(value?);
        self.local.insert(local_key, value.clone()).await;
        Some(value)
    }

    /// Caches `value` for `key` at `version` (the version read before computing it), in process
    /// and, for a shared version, in Redis, sealed (one `SET`, bounded by the Redis timeout).
    pub async fn insert(&self, user: &str, version: Version, key: K, value: V) -> Arc<V> {
        if let (Version::Shared(v), Some(shared)) = (version, self.shared())
            && let Some(bytes) = key_bytes(&key)
            && let Ok(json) = serde_json::to_vec(&value)
        {
            shared
                .put(shared.entry_key(user, self.name, v, &bytes), &json)
                .await;
        }
        let value = Arc::new(value);
        self.local
            .insert((user.to_owned(), version, key), value.clone())
            .await;
        value
    }

    /// Makes every entry of the user unreachable, in every process sharing the versions.
    pub async fn invalidate_user(&self, user: &str) {
        self.versions.bump(user).await;
    }

    /// The Redis tier, if it keeps entries (it does only when it can seal them).
    fn shared(&self) -> Option<&SharedTier> {
        self.versions
            .shared()
            .filter(|shared| shared.holds_entries())
    }
}

/// The bytes a key is hashed from in Redis key names; `None` (Redis tier skipped) for a key
/// that does not serialize, so two such keys can never share an entry.
fn key_bytes<K: Serialize>(key: &K) -> Option<Vec<u8>> {
    serde_json::to_vec(key).ok()
}
