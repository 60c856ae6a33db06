//! The cache of per-user indexes (`user_index`), and what keeps a cached index honest across
//! processes: the user's versions, three columns of `users` read with one primary-key lookup.
//!
//! - `vectors_version` moves on every write to what the index holds (a vector, a memory's tokens,
//!   a filter attribute, a link) and `answers_version` on a memory added or its text changed;
//!   together they are the `UserVersion` an index was loaded at. A search reads them first and
//!   uses a cached index only if it was loaded at those very values; otherwise it loads the index
//!   *after* reading them, so a write committed in between moves them again and the next search
//!   reloads: a stale index is never used.
//! - `recall_version` moves when a memory's salience or last-seen time drifts (recall
//!   reinforcement, a fact said again). That drift must neither reload a heavy caller's index nor
//!   drop their cached answers, so the index keeps those two values apart ([`Recall`]) and
//!   re-reads just them when the recall version moved.
//!
//! Loads and re-reads are single-flight per user: concurrent searches of a caller whose index is
//! cold wait for one load. The cache is bounded by bytes (`store.index_cache_mb`; each index
//! weighs its vectors, postings, rows and links) with least-recently-used eviction.

use std::sync::{Arc, RwLock};

use memvox_core::{Memory, UnixMillis};
use moka::future::Cache;

use crate::{StoreResult, UserVersion, user_index::UserIndex};

/// Users with fewer indexed memories are read afresh on every search: a few dozen rows load in
/// well under a millisecond, and caching the long tail of light users would only evict the
/// heavy users whose loads are expensive (10,000 memories take tens of milliseconds).
pub const MIN_CACHED_MEMORIES: usize = 100;

/// A user's versions as one read found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserVersions {
    /// What the index must have been loaded at (`vectors_version`, `answers_version`).
    pub index: UserVersion,
    /// `users.recall_version`.
    pub recall: i64,
}

/// The current salience and last-seen time of each indexed memory (by position), and the
/// recall version they were read at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recall {
    /// The recall version read before these values.
    pub version: i64,
    /// Per position in the index: salience and last-seen time.
    pub values: Vec<(f64, UnixMillis)>,
}

impl Recall {
    /// The values of `records` as loaded, at `version`.
    pub fn of(records: &[Memory], version: i64) -> Self {
        Self {
            version,
            values: records
                .iter()
                .map(|m| (m.salience, m.last_seen_at))
                .collect(),
        }
    }
}

/// A loaded index with its versions.
#[derive(Debug)]
pub struct CachedIndex {
    /// What it was loaded at.
    pub version: UserVersion,
    /// The index.
    pub index: UserIndex,
    /// Current salience and last-seen times.
    recall: RwLock<Arc<Recall>>,
    /// Held while the recall values are re-read, so concurrent searches re-read once.
    refreshing: tokio::sync::Mutex<()>,
}

impl CachedIndex {
    /// An index loaded after reading `versions`.
    pub fn new(versions: UserVersions, index: UserIndex) -> Self {
        let recall = Recall::of(&index.records, versions.recall);
        Self {
            version: versions.index,
            index,
            recall: RwLock::new(Arc::new(recall)),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The current recall values.
    pub fn recall(&self) -> Arc<Recall> {
        self.recall
            .read()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |r| r.clone())
    }

    /// Brings the recall values up to `version` (read before calling) with `read`, which
    /// returns `(memory id, salience, last seen)` of the user's memories; at most one re-read
    /// runs at a time, and none when another already reached `version`.
    pub async fn refresh_recall<F, Fut>(&self, version: i64, read: F) -> StoreResult<Arc<Recall>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<Vec<(memvox_core::MemoryId, f64, UnixMillis)>>>,
    {
        let _one_at_a_time = self.refreshing.lock().await;
        let current = self.recall();
        if current.version >= version {
            return Ok(current);
        }
        let mut values = current.values.clone();
        for (id, salience, last_seen) in read().await? {
            if let Some(position) = self.index.position(id) {
                values[position] = (salience, last_seen);
            }
        }
        let fresh = Arc::new(Recall { version, values });
        match self.recall.write() {
            Ok(mut recall) => *recall = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }
}

/// Cached per-user indexes, each with the versions it was loaded at.
#[derive(Clone)]
pub struct UserIndexCache {
    cache: Cache<String, Arc<CachedIndex>>,
}

impl std::fmt::Debug for UserIndexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserIndexCache")
            .field("users", &self.cache.entry_count())
            .finish()
    }
}

impl Default for UserIndexCache {
    fn default() -> Self {
        Self::with_capacity(256 << 20)
    }
}

impl UserIndexCache {
    /// A cache holding at most `bytes` of indexes.
    pub fn with_capacity(bytes: u64) -> Self {
        Self {
            // Least-recently-used eviction: the default TinyLFU admission compares a large entry
            // with the combined frequency of all the small ones it would evict, and so would
            // refuse a heavy user's index for good once light users have filled the cache.
            cache: Cache::builder()
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .weigher(|_, entry: &Arc<CachedIndex>| {
                    u32::try_from(entry.index.bytes()).unwrap_or(u32::MAX)
                })
                .max_capacity(bytes)
                .build(),
        }
    }
}

impl UserIndexCache {
    /// The cached index of a user if it was loaded at `version`.
    pub async fn get(&self, user_id: &str, version: UserVersion) -> Option<Arc<CachedIndex>> {
        self.cache
            .get(user_id)
            .await
            .filter(|entry| entry.version == version)
    }

    /// The index of a user at `versions`: the cached one, else `load`ed (after `versions` were
    /// read) and cached when it holds at least [`MIN_CACHED_MEMORIES`] memories. Concurrent
    /// calls for one user run one at a time, so a cold caller is loaded once.
    pub async fn get_or_load<F, Fut>(
        &self,
        user_id: &str,
        versions: UserVersions,
        load: F,
    ) -> StoreResult<Arc<CachedIndex>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<UserIndex>>,
    {
        if let Some(entry) = self.get(user_id, versions.index).await {
            return Ok(entry);
        }
        let mut loaded = None;
        let slot = &mut loaded;
        self.cache
            .entry_by_ref(user_id)
            .and_try_compute_with(|current| async move {
                if let Some(current) = current.map(moka::Entry::into_value)
                    && current.version == versions.index
                {
                    *slot = Some(current);
                    return Ok(moka::ops::compute::Op::Nop);
                }
                let entry = Arc::new(CachedIndex::new(versions, load().await?));
                *slot = Some(entry.clone());
                Ok::<_, crate::StoreError>(if entry.index.memories.len() >= MIN_CACHED_MEMORIES {
                    moka::ops::compute::Op::Put(entry)
                } else {
                    moka::ops::compute::Op::Nop
                })
            })
            .await?;
        loaded.ok_or_else(|| crate::StoreError::Corrupt("index load returned nothing".into()))
    }
}

#[cfg(test)]
mod tests {
    use memvox_core::{MemoryId, MemoryKind, MemoryState, Sector};

    use super::*;
    use crate::user_index::IndexedMemory;

    fn versions(vectors: i64, recall: i64) -> UserVersions {
        UserVersions {
            index: UserVersion {
                vectors,
                answers: 1,
            },
            recall,
        }
    }

    fn index(count: usize) -> UserIndex {
        UserIndex {
            memories: (0..count)
                .map(|i| IndexedMemory {
                    id: i as MemoryId,
                    kind: MemoryKind::Fact,
                    sector: Sector::Semantic,
                    state: MemoryState::Active,
                    superseded: false,
                    created_at: 0,
                })
                .collect(),
            embedded: (0..count).map(|i| i as u32).collect(),
            matrix: vec![0.5; count * 4],
            ..UserIndex::default()
        }
    }

    #[tokio::test]
    async fn an_index_is_only_used_at_the_version_it_was_loaded_at() {
        let cache = UserIndexCache::default();
        let load = || async { Ok(index(MIN_CACHED_MEMORIES)) };
        cache.get_or_load("u1", versions(7, 0), load).await.unwrap();
        assert!(cache.get("u1", versions(7, 0).index).await.is_some());
        assert!(
            cache.get("u1", versions(8, 0).index).await.is_none(),
            "a write moved the version"
        );
        assert!(cache.get("u2", versions(7, 0).index).await.is_none());
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let counted = || async {
            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(index(MIN_CACHED_MEMORIES))
        };
        cache
            .get_or_load("u1", versions(7, 3), counted)
            .await
            .unwrap();
        assert_eq!(loads.into_inner(), 0, "recall drift reloads nothing");
    }

    #[tokio::test]
    async fn light_users_are_not_cached() {
        let cache = UserIndexCache::default();
        let load = || async { Ok(index(MIN_CACHED_MEMORIES - 1)) };
        let entry = cache.get_or_load("u1", versions(3, 0), load).await.unwrap();
        assert_eq!(entry.index.memories.len(), MIN_CACHED_MEMORIES - 1);
        assert!(cache.get("u1", versions(3, 0).index).await.is_none());
    }

    #[tokio::test]
    async fn a_cold_caller_is_loaded_once_by_concurrent_searches() {
        let cache = UserIndexCache::default();
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(index(MIN_CACHED_MEMORIES))
        };
        let (a, b) = tokio::join!(
            cache.get_or_load("u1", versions(5, 0), load),
            cache.get_or_load("u1", versions(5, 0), load)
        );
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        assert_eq!(loads.into_inner(), 1);
    }

    #[tokio::test]
    async fn recall_values_are_re_read_once_per_version() {
        let mut loaded = index(2);
        loaded.records = (0..2)
            .map(|i| Memory {
                id: i,
                salience: 0.5,
                last_seen_at: 10,
                ..crate::user_index::tests::record(i)
            })
            .collect();
        let entry = CachedIndex::new(versions(1, 4), loaded);
        assert_eq!(entry.recall().values, [(0.5, 10), (0.5, 10)]);
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let read = || async {
            reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(vec![(1, 0.75, 20), (99, 1.0, 30)])
        };
        let stale = entry.refresh_recall(4, read).await.unwrap();
        assert_eq!(stale.values[1], (0.5, 10), "already at version 4");
        let fresh = entry.refresh_recall(6, read).await.unwrap();
        assert_eq!(fresh.values, [(0.5, 10), (0.75, 20)], "unknown ids ignored");
        assert_eq!(entry.refresh_recall(5, read).await.unwrap().version, 6);
        assert_eq!(reads.into_inner(), 1);
    }
}
