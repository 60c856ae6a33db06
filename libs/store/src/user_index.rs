//! The per-user in-memory index both backends search: a user's memories with the attributes
//! search filters on, the embedded ones' vectors as one contiguous `f32` matrix, and every
//! indexed memory's lexical postings (`postings`), so a search scans memory instead of reading
//! and decoding every row (SQLite) or ranking every row in SQL (PostgreSQL), and a lexical
//! search needs no full-text statement. A memory is in the index when it has a vector or
//! lexical tokens: a just-recorded call's episodes are found by their words before the
//! embedding worker gives them vectors.
//!
//! Correctness rests on the user's *vectors version* (`users.vectors_version`), which database
//! triggers move to a never-reused value in the transaction of every write that changes what the
//! index holds (a vector, a memory's tokens, a filter attribute), whichever process writes. A
//! search reads the version first (one primary-key read), uses the cached index only if it was
//! loaded at that very version, and otherwise loads the index *after* reading the version: a
//! write committed in between moves the version again, so the next search reloads, and a stale
//! index is never used. Search results are re-read from the database and re-checked against the
//! filter, so salience, content and state are current.

use std::sync::Arc;

use memvox_core::{MemoryId, MemoryKind, MemoryState, Sector, UnixMillis, vector::dot};
use moka::future::Cache;

use crate::{
    MemoryFilter, Neighbour,
    postings::Postings,
    quantised::{CodedRows, QUANTISE_FROM, code, shortlist},
};

/// Bytes of cached indexes across all users.
const CAPACITY_BYTES: u64 = 256 * 1024 * 1024;

/// Users with fewer indexed memories are read afresh on every search: a few dozen rows load in
/// well under a millisecond, and caching the long tail of light users would only evict the
/// heavy users whose loads are expensive (10,000 vectors take tens of milliseconds).
pub const MIN_CACHED_MEMORIES: usize = 100;

/// One memory as the index sees it.
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

/// A user's index: their memories by id, the vectors of the embedded ones (row `r` of `matrix`
/// belongs to `memories[embedded[r]]`) and the postings of those in the lexical index (rows are
/// positions in `memories`).
#[derive(Debug, Default)]
pub struct UserIndex {
    /// Every memory with a vector or lexical tokens, ordered by id.
    pub memories: Vec<IndexedMemory>,
    /// For each row of `matrix`, the position in `memories` of its memory (ascending).
    pub embedded: Vec<u32>,
    /// Row-major vectors, `dimension` values per embedded memory.
    pub matrix: Vec<f32>,
    /// The lexical postings.
    pub postings: Postings,
    /// 8-bit codes of `matrix`, for users with at least `QUANTISE_FROM` vectors ([`Self::code`]).
    pub coded: Option<CodedRows>,
}

impl UserIndex {
    /// The `limit` best `(similarity, memory id)` pairs passing `filter`, best first.
    /// A heavy user's rows are first scanned through their 8-bit codes (see `quantised`), and
    /// only the shortlist is scored on the `f32` vectors.
    pub fn top(&self, query: &[f32], filter: &MemoryFilter, limit: usize) -> Vec<(f32, MemoryId)> {
        let dimension = query.len();
        let passing = self
            .embedded
            .iter()
            .enumerate()
            .map(|(row, &at)| (row, &self.memories[at as usize]))
            .filter(|(_, memory)| memory.passes(filter));
        let exact = |row: usize| dot(query, &self.matrix[row * dimension..(row + 1) * dimension]);
        let mut scored: Vec<(f32, MemoryId)> = match &self.coded {
            Some(coded) if dimension > 0 => {
                let coded_query = code(query);
                let mut approximate: Vec<(f32, usize, MemoryId)> = passing
                    .map(|(row, memory)| (coded.similarity(&coded_query, row), row, memory.id))
                    .collect();
                keep_best(&mut approximate, shortlist(limit), |a, b| {
                    b.0.total_cmp(&a.0)
                });
                approximate
                    .into_iter()
                    .map(|(_, row, id)| (exact(row), id))
                    .collect()
            }
            _ => passing
                .map(|(row, memory)| (exact(row), memory.id))
                .collect(),
        };
        let keep = limit.min(scored.len());
        if keep < scored.len() {
            scored.select_nth_unstable_by(keep, |a, b| b.0.total_cmp(&a.0));
            scored.truncate(keep);
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
    }
}

/// Keeps the `keep` best of `items` by `order` (best first), in no particular order.
fn keep_best<T>(items: &mut Vec<T>, keep: usize, order: impl FnMut(&T, &T) -> std::cmp::Ordering) {
    if keep < items.len() {
        items.select_nth_unstable_by(keep, order);
        items.truncate(keep);
    }
}

impl UserIndex {
    /// Codes the vectors of a user with at least `QUANTISE_FROM` of them, `dimension` values
    /// each (called once the index is loaded).
    pub fn code(&mut self, dimension: usize) {
        if self.embedded.len() >= QUANTISE_FROM {
            self.coded = Some(CodedRows::of(&self.matrix, dimension));
        }
    }

    /// Bytes held: what the cache weighs.
    pub fn bytes(&self) -> usize {
        self.memories.len() * size_of::<IndexedMemory>()
            + self.embedded.len() * size_of::<u32>()
            + self.matrix.len() * size_of::<f32>()
            + self.postings.bytes()
            + self.coded.as_ref().map_or(0, CodedRows::bytes)
    }

    /// How many memories have a vector.
    pub fn embedded_count(&self) -> usize {
        self.embedded.len()
    }

    /// Whether the memory at `position` in `memories` passes `filter`.
    pub fn admits(&self, position: u32, filter: &MemoryFilter) -> bool {
        self.memories
            .get(position as usize)
            .is_some_and(|memory| memory.passes(filter))
    }

    /// The matrix row of the memory at `position` in `memories`, if it has a vector.
    fn vector_row(&self, position: u32) -> Option<usize> {
        self.embedded.binary_search(&position).ok()
    }

    /// Cosine similarity of `query` to the vector of the memory at `position` in `memories`
    /// (`None` when it has none).
    pub fn similarity_at(&self, query: &[f32], position: u32) -> Option<f32> {
        let row = self.vector_row(position)?;
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
        let Some(dimension) = self.matrix.len().checked_div(self.embedded.len()) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for id in ids {
            let Some(row) = self
                .memories
                .binary_search_by_key(id, |m| m.id)
                .ok()
                .and_then(|position| self.vector_row(u32::try_from(position).ok()?))
            else {
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
pub struct UserIndexCache {
    cache: Cache<String, Arc<(i64, UserIndex)>>,
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
        Self {
            // Least-recently-used eviction: the default TinyLFU admission compares a large entry
            // with the combined frequency of all the small ones it would evict, and so would
            // refuse a heavy user's index for good once light users have filled the cache.
            cache: Cache::builder()
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .weigher(|_, entry: &Arc<(i64, UserIndex)>| {
                    u32::try_from(entry.1.bytes()).unwrap_or(u32::MAX)
                })
                .max_capacity(CAPACITY_BYTES)
                .build(),
        }
    }
}

impl UserIndexCache {
    /// The cached index of a user if it was loaded at `version`.
    pub async fn get(&self, user_id: &str, version: i64) -> Option<Arc<(i64, UserIndex)>> {
        self.cache
            .get(user_id)
            .await
            .filter(|entry| entry.0 == version)
    }

    /// An index loaded after reading `version`, cached (replacing any older one) when it holds
    /// at least [`MIN_CACHED_MEMORIES`] memories.
    pub async fn insert(
        &self,
        user_id: &str,
        version: i64,
        loaded: UserIndex,
    ) -> Arc<(i64, UserIndex)> {
        let entry = Arc::new((version, loaded));
        if entry.1.memories.len() >= MIN_CACHED_MEMORIES {
            self.cache.insert(user_id.to_owned(), entry.clone()).await;
        }
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Memories 1, 2 (emotional), 3 (no vector yet) and 4.
    fn three_embedded_of_four() -> UserIndex {
        UserIndex {
            memories: vec![
                memory(1, Sector::Semantic),
                memory(2, Sector::Emotional),
                memory(3, Sector::Semantic),
                memory(4, Sector::Semantic),
            ],
            embedded: vec![0, 1, 3],
            matrix: vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8],
            ..UserIndex::default()
        }
    }

    #[test]
    fn top_ranks_by_dot_and_applies_the_filter() {
        let index = three_embedded_of_four();
        let all = index.top(&[1.0, 0.0], &MemoryFilter::default(), 2);
        assert_eq!(all.iter().map(|h| h.1).collect::<Vec<_>>(), vec![1, 4]);
        let emotional = MemoryFilter {
            sectors: vec![Sector::Emotional],
            ..MemoryFilter::default()
        };
        assert_eq!(index.top(&[1.0, 0.0], &emotional, 5).len(), 1);
        assert_eq!(index.embedded_count(), 3);
    }

    #[test]
    fn a_memory_without_a_vector_has_no_similarity_and_no_neighbours() {
        let index = three_embedded_of_four();
        assert_eq!(index.similarity_at(&[1.0, 0.0], 2), None);
        assert_eq!(index.similarity_at(&[1.0, 0.0], 3), Some(0.6));
        assert!(index.admits(2, &MemoryFilter::default()));
        assert!(!index.admits(4, &MemoryFilter::default()), "out of range");
        assert!(
            index
                .neighbours(&[3], &MemoryFilter::default(), 0.0, 3)
                .is_empty()
        );
        let of_four: Vec<_> = index
            .neighbours(&[4], &MemoryFilter::default(), 0.5, 3)
            .iter()
            .map(|n| n.neighbour)
            .collect();
        assert_eq!(of_four, [2, 1], "0.8 and 0.6 above 0.5, never itself");
    }

    #[test]
    fn the_footprint_splits_every_byte_by_layer() {
        let mut index = three_embedded_of_four();
        index.memories[2].kind = MemoryKind::Episode;
        let mut postings = crate::postings::PostingsBuilder::default();
        for tokens in [Some(&[1, 2][..]), None, Some(&[1, 3, 4]), Some(&[2])] {
            postings.push(tokens);
        }
        index.postings = postings.build();
        let footprint = index.footprint();
        assert_eq!(footprint.bytes(), index.bytes());
        assert_eq!((footprint.facts.memories, footprint.facts.embedded), (3, 3));
        assert_eq!(footprint.facts.vector_bytes, 3 * 2 * 4);
        assert_eq!(
            (footprint.episodes.memories, footprint.episodes.embedded),
            (1, 0)
        );
        assert_eq!(footprint.episodes.posting_bytes, 3 * 4 + 2);
        assert_eq!(footprint.dictionary_bytes, 4 * 8 + 5 * 4);
    }

    fn vectors(count: usize) -> UserIndex {
        UserIndex {
            memories: (0..count)
                .map(|i| memory(i as MemoryId, Sector::Semantic))
                .collect(),
            embedded: (0..count).map(|i| i as u32).collect(),
            matrix: vec![0.5; count * 4],
            ..UserIndex::default()
        }
    }

    #[test]
    fn a_coded_scan_returns_the_exact_ranking() {
        let (count, dimension) = (QUANTISE_FROM + 500, 64);
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut unit = |_| {
            let v: Vec<f32> = (0..dimension).map(|_| next()).collect();
            let n = memvox_core::vector::norm(&v);
            v.into_iter().map(|x| x / n).collect::<Vec<f32>>()
        };
        let mut index = UserIndex {
            memories: (0..count)
                .map(|i| memory(i as MemoryId, Sector::Semantic))
                .collect(),
            embedded: (0..count).map(|i| i as u32).collect(),
            matrix: (0..count).flat_map(&mut unit).collect(),
            ..UserIndex::default()
        };
        let queries: Vec<Vec<f32>> = (0..20).map(&mut unit).collect();
        let exact: Vec<_> = queries
            .iter()
            .map(|q| index.top(q, &MemoryFilter::default(), 10))
            .collect();
        index.code(dimension);
        assert!(index.coded.is_some());
        for (query, exact) in queries.iter().zip(exact) {
            assert_eq!(index.top(query, &MemoryFilter::default(), 10), exact);
        }
    }

    #[tokio::test]
    async fn an_index_is_only_used_at_the_version_it_was_loaded_at() {
        let index = UserIndexCache::default();
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
        let index = UserIndexCache::default();
        let entry = index
            .insert("u1", 3, vectors(MIN_CACHED_MEMORIES - 1))
            .await;
        assert_eq!(entry.1.memories.len(), MIN_CACHED_MEMORIES - 1);
        assert!(index.get("u1", 3).await.is_none());
    }
}
