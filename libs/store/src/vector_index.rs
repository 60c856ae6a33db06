//! The per-user in-memory vector index both backends search: a user's embedded memories as one
//! contiguous `f32` matrix plus the attributes search filters on, so a search scans memory
//! instead of reading and decoding every row (SQLite) or ranking every row in SQL (PostgreSQL).
//!
//! Correctness rests on the user's *vectors version* (`users.vectors_version`), which database
//! triggers move to a never-reused value in the transaction of every write that changes what the
//! index holds, whichever process writes. A search reads the version first (one primary-key
//! read), uses the cached index only if it was loaded at that very version, and otherwise loads
//! the index *after* reading the version: a write committed in between moves the version again,
//! so the next search reloads, and a stale index is never used. Search results are re-read from
//! the database and re-checked against the filter, so salience, content and state are current.

use std::{collections::HashMap, sync::Arc};

use memvox_core::{MemoryId, MemoryKind, MemoryState, Sector, UnixMillis, vector::dot};
use moka::future::Cache;

use crate::{MemoryFilter, Neighbour};

/// Bytes of cached vectors across all users.
const CAPACITY_BYTES: u64 = 256 * 1024 * 1024;

/// Users with fewer embedded memories are read afresh on every search: a few dozen rows load in
/// well under a millisecond, and caching the long tail of light users would only evict the
/// heavy users whose loads are expensive (10,000 vectors take tens of milliseconds).
pub const MIN_CACHED_MEMORIES: usize = 100;

/// One embedded memory as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedMemory {
    /// The memory.
    pub id: MemoryId,
    /// Its layer.
    pub kind: MemoryKind,
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
        filter.admits(
            self.kind,
            self.sector,
            self.state,
            self.superseded,
            self.created_at,
        )
    }
}

/// A user's vectors: row `i` of `matrix` belongs to `memories[i]`.
#[derive(Debug, Default)]
pub struct UserVectors {
    /// Memories in matrix order.
    pub memories: Vec<IndexedMemory>,
    /// Row-major vectors, `dimension` values per memory.
    pub matrix: Vec<f32>,
    /// Lexical counts made at this index's version.
    pub lexical: LexicalCounts,
}

/// Query tokens' counts remembered per user between writes.
const MAX_COUNTED_TOKENS: usize = 4_096;

/// The lexical index's counts for a user, made at the version of the index they hang on (so
/// dropped with it when a write moves the version): how many memories the user has in the
/// lexical index, and how many of them hold each query token counted so far. A word's count
/// reads its whole posting list (thousands of rows for a common word of a heavy caller), so
/// each is counted once per version instead of on every query. Bounded: forgets everything
/// once it holds [`MAX_COUNTED_TOKENS`] tokens.
#[derive(Debug, Default)]
pub struct LexicalCounts {
    counts: std::sync::Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    memories: Option<usize>,
    document_frequency: HashMap<String, usize>,
}

impl LexicalCounts {
    /// The remembered memory count and, per token, its remembered document frequency.
    pub fn lookup(&self, tokens: &[String]) -> (Option<usize>, Vec<Option<usize>>) {
        let Ok(counts) = self.counts.lock() else {
            return (None, vec![None; tokens.len()]);
        };
        let frequencies = tokens
            .iter()
            .map(|token| counts.document_frequency.get(token).copied())
            .collect();
        (counts.memories, frequencies)
    }

    /// Remembers a memory count and the document frequencies of `tokens`.
    pub fn record(&self, memories: usize, tokens: &[String], frequencies: &[usize]) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        if counts.document_frequency.len() + tokens.len() > MAX_COUNTED_TOKENS {
            counts.document_frequency.clear();
        }
        counts.memories = Some(memories);
        for (token, frequency) in tokens.iter().zip(frequencies) {
            counts.document_frequency.insert(token.clone(), *frequency);
        }
    }
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
    /// Cosine similarity of `query` to memory `id`'s vector (`None` when it has none).
    /// Rows are ordered by memory id (`SELECT_USER_VECTORS`), so this is a binary search.
    pub fn similarity(&self, query: &[f32], id: MemoryId) -> Option<f32> {
        let row = self.memories.binary_search_by_key(&id, |m| m.id).ok()?;
        let dimension = query.len();
        let start = row * dimension;
        self.matrix
            .get(start..start + dimension)
            .map(|vector| dot(query, vector))
    }

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

/// Cached per-user indexes, each with the vectors version it was loaded at.
#[derive(Clone)]
pub struct VectorIndex {
    cache: Cache<String, Arc<(i64, UserVectors)>>,
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
            // Least-recently-used eviction: the default TinyLFU admission compares a large entry
            // with the combined frequency of all the small ones it would evict, and so would
            // refuse a heavy user's index for good once light users have filled the cache.
            cache: Cache::builder()
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .weigher(|_, entry: &Arc<(i64, UserVectors)>| {
                    let vectors = &entry.1;
                    u32::try_from(vectors.matrix.len() * 4 + vectors.memories.len() * 48)
                        .unwrap_or(u32::MAX)
                })
                .max_capacity(CAPACITY_BYTES)
                .build(),
        }
    }
}

impl VectorIndex {
    /// The cached index of a user if it was loaded at `version`.
    pub async fn get(&self, user_id: &str, version: i64) -> Option<Arc<(i64, UserVectors)>> {
        self.cache
            .get(user_id)
            .await
            .filter(|entry| entry.0 == version)
    }

    /// An index loaded after reading `version`, cached (replacing any older one) when the user
    /// has at least [`MIN_CACHED_MEMORIES`] embedded memories.
    pub async fn insert(
        &self,
        user_id: &str,
        version: i64,
        vectors: UserVectors,
    ) -> Arc<(i64, UserVectors)> {
        let entry = Arc::new((version, vectors));
        if entry.1.memories.len() >= MIN_CACHED_MEMORIES {
            self.cache.insert(user_id.to_owned(), entry.clone()).await;
        }
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_counts_are_remembered_and_bounded() {
        let counts = LexicalCounts::default();
        let tokens = ["ta".to_owned(), "tb".to_owned()];
        assert_eq!(counts.lookup(&tokens), (None, vec![None, None]));
        counts.record(10, &tokens[..1], &[3]);
        assert_eq!(counts.lookup(&tokens), (Some(10), vec![Some(3), None]));
        let many: Vec<String> = (0..MAX_COUNTED_TOKENS).map(|i| format!("t{i}")).collect();
        counts.record(10, &many, &vec![1; many.len()]);
        assert_eq!(
            counts.lookup(&tokens).1,
            vec![None, None],
            "forgotten when full"
        );
        assert_eq!(counts.lookup(&many[..1]).1, vec![Some(1)]);
    }

    fn memory(id: MemoryId, sector: Sector) -> IndexedMemory {
        IndexedMemory {
            id,
            kind: MemoryKind::Fact,
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
            ..UserVectors::default()
        };
        let all = vectors.top(&[1.0, 0.0], &MemoryFilter::default(), 2);
        assert_eq!(all.iter().map(|h| h.1).collect::<Vec<_>>(), vec![1, 3]);
        let emotional = MemoryFilter {
            sectors: vec![Sector::Emotional],
            ..MemoryFilter::default()
        };
        assert_eq!(vectors.top(&[1.0, 0.0], &emotional, 5).len(), 1);
    }

    fn vectors(count: usize) -> UserVectors {
        UserVectors {
            memories: (0..count)
                .map(|i| memory(i as MemoryId, Sector::Semantic))
                .collect(),
            matrix: vec![0.5; count * 4],
            ..UserVectors::default()
        }
    }

    #[tokio::test]
    async fn an_index_is_only_used_at_the_version_it_was_loaded_at() {
        let index = VectorIndex::default();
        index.insert("u1", 7, vectors(MIN_CACHED_MEMORIES)).await;
        assert!(index.get("u1", 7).await.is_some());
        assert!(
            index.get("u1", 8).await.is_none(),
            "a write moved the version"
        );
        assert!(index.get("u2", 7).await.is_none());
    }

    #[tokio::test]
    async fn light_users_are_not_cached() {
        let index = VectorIndex::default();
        let entry = index
            .insert("u1", 3, vectors(MIN_CACHED_MEMORIES - 1))
            .await;
        assert_eq!(entry.1.memories.len(), MIN_CACHED_MEMORIES - 1);
        assert!(index.get("u1", 3).await.is_none());
    }
}
