//! The SQLite backend's in-memory per-user vector index: a user's embedded memories as one
//! contiguous `f32` matrix plus the attributes search filters on, so a search scans memory
//! instead of reading and decoding every row.
//!
//! Correctness rests on two rules. Every write that changes a user's vectors or filterable
//! attributes calls [`VectorIndex::invalidate`], which also bumps the user's epoch; and a loaded
//! index is only cached if the user's epoch did not move while it was read, so a load racing a
//! write can never put a stale index in the cache. Search results are re-read from the database
//! and re-checked against the filter, so salience, content and state are always current.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use memvox_core::{MemoryId, MemoryState, Sector, UnixMillis, vector::dot};
use moka::future::Cache;

use crate::{MemoryFilter, Neighbour};

/// Bytes of cached vectors across all users.
const CAPACITY_BYTES: u64 = 256 * 1024 * 1024;

/// One embedded memory as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedMemory {
    /// The memory.
    pub id: MemoryId,
    /// Its sector.
    pub sector: Sector,
    /// Its state.
    pub state: MemoryState,
    /// Whether a later memory superseded it.
    pub superseded: bool,
    /// Creation time.
    pub created_at: UnixMillis,
}

impl IndexedMemory {
    fn passes(&self, filter: &MemoryFilter) -> bool {
        (filter.sectors.is_empty() || filter.sectors.contains(&self.sector))
            && filter.effective_states().contains(&self.state)
            && (filter.include_superseded || !self.superseded)
            && filter.created_after.is_none_or(|t| self.created_at >= t)
            && filter.created_before.is_none_or(|t| self.created_at < t)
    }
}

/// A user's vectors: row `i` of `matrix` belongs to `memories[i]`.
#[derive(Debug, Default)]
pub struct UserVectors {
    /// Memories in matrix order.
    pub memories: Vec<IndexedMemory>,
    /// Row-major vectors, `dimension` values per memory.
    pub matrix: Vec<f32>,
}

impl UserVectors {
    /// The `limit` best `(similarity, memory id)` pairs passing `filter`, best first.
    pub fn top(&self, query: &[f32], filter: &MemoryFilter, limit: usize) -> Vec<(f32, MemoryId)> {
        let dimension = query.len();
        let mut scored: Vec<(f32, MemoryId)> = self
            .memories
            .iter()
            .zip(self.matrix.chunks_exact(dimension.max(1)))
            .filter(|(memory, _)| memory.passes(filter))
            .map(|(memory, row)| (dot(query, row), memory.id))
            .collect();
        let keep = limit.min(scored.len());
        if keep < scored.len() {
            scored.select_nth_unstable_by(keep, |a, b| b.0.total_cmp(&a.0));
            scored.truncate(keep);
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
    }
}

impl UserVectors {
    /// For each memory of `ids` in the index, up to `limit` other memories passing `filter`
    /// with a similarity above `threshold`, best first.
    pub fn neighbours(
        &self,
        ids: &[MemoryId],
        filter: &MemoryFilter,
        threshold: f64,
        limit: usize,
    ) -> Vec<Neighbour> {
        let Some(dimension) = self.matrix.len().checked_div(self.memories.len()) else {
            return Vec::new();
        };
        let rows: HashMap<MemoryId, usize> = self
            .memories
            .iter()
            .enumerate()
            .map(|(row, memory)| (memory.id, row))
            .collect();
        let mut found = Vec::new();
        for id in ids {
            let Some(&row) = rows.get(id) else {
                continue;
            };
            let query = &self.matrix[row * dimension..(row + 1) * dimension];
            found.extend(
                self.top(query, filter, limit + 1)
                    .into_iter()
                    .filter(|(similarity, other)| other != id && f64::from(*similarity) > threshold)
                    .take(limit)
                    .map(|(similarity, other)| Neighbour {
                        memory: *id,
                        neighbour: other,
                        similarity: f64::from(similarity),
                    }),
            );
        }
        found
    }
}

/// Cached per-user indexes with write epochs.
#[derive(Clone)]
pub struct VectorIndex {
    cache: Cache<String, Arc<UserVectors>>,
    epochs: Arc<Mutex<HashMap<String, u64>>>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("users", &self.cache.entry_count())
            .finish()
    }
}

impl Default for VectorIndex {
    fn default() -> Self {
        Self {
            cache: Cache::builder()
                .weigher(|_, vectors: &Arc<UserVectors>| {
                    u32::try_from(vectors.matrix.len() * 4 + vectors.memories.len() * 48)
                        .unwrap_or(u32::MAX)
                })
                .max_capacity(CAPACITY_BYTES)
                .build(),
            epochs: Arc::default(),
        }
    }
}

impl VectorIndex {
    /// The cached index of a user.
    pub async fn get(&self, user_id: &str) -> Option<Arc<UserVectors>> {
        self.cache.get(user_id).await
    }

    /// The user's current write epoch; read it before loading an index.
    pub fn epoch(&self, user_id: &str) -> u64 {
        self.epochs
            .lock()
            .map_or(0, |epochs| epochs.get(user_id).copied().unwrap_or(0))
    }

    /// Caches a loaded index unless the user was written since `epoch`.
    pub async fn offer(&self, user_id: &str, epoch: u64, vectors: Arc<UserVectors>) {
        if self.epoch(user_id) == epoch {
            self.cache.insert(user_id.to_owned(), vectors).await;
        }
    }

    /// Forgets a user's index after a write.
    pub async fn invalidate(&self, user_id: &str) {
        if let Ok(mut epochs) = self.epochs.lock() {
            *epochs.entry(user_id.to_owned()).or_insert(0) += 1;
        }
        self.cache.invalidate(user_id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(id: MemoryId, sector: Sector) -> IndexedMemory {
        IndexedMemory {
            id,
            sector,
            state: MemoryState::Active,
            superseded: false,
            created_at: 0,
        }
    }

    #[test]
    fn top_ranks_by_dot_and_applies_the_filter() {
        let vectors = UserVectors {
            memories: vec![
                memory(1, Sector::Semantic),
                memory(2, Sector::Emotional),
                memory(3, Sector::Semantic),
            ],
            matrix: vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8],
        };
        let all = vectors.top(&[1.0, 0.0], &MemoryFilter::default(), 2);
        assert_eq!(all.iter().map(|h| h.1).collect::<Vec<_>>(), vec![1, 3]);
        let emotional = MemoryFilter {
            sectors: vec![Sector::Emotional],
            ..MemoryFilter::default()
        };
        assert_eq!(vectors.top(&[1.0, 0.0], &emotional, 5).len(), 1);
    }

    #[tokio::test]
    async fn a_load_racing_a_write_is_not_cached() {
        let index = VectorIndex::default();
        let epoch = index.epoch("u1");
        index.invalidate("u1").await;
        index
            .offer("u1", epoch, Arc::new(UserVectors::default()))
            .await;
        assert!(index.get("u1").await.is_none(), "stale load discarded");
        let epoch = index.epoch("u1");
        index
            .offer("u1", epoch, Arc::new(UserVectors::default()))
            .await;
        assert!(index.get("u1").await.is_some());
    }
}
