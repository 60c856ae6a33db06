//! The per-user in-memory index both backends search and a warm query answers from: a user's
//! memories — each full row, content decrypted, with the attributes search filters on — the
//! embedded ones' vectors as one contiguous `f32` matrix, every indexed memory's lexical postings
//! (`postings`) and their outgoing links, so a search scans memory instead of reading and
//! decoding rows (SQLite) or ranking every row in SQL (PostgreSQL), a lexical search needs no
//! full-text statement, and ranking reads no link or memory row. A memory is in the index when
//! it has a vector or lexical tokens: a just-recorded call's episodes are found by their words
//! before the embedding worker gives them vectors.
//!
//! Correctness rests on the user's versions (`index_cache`), which database triggers move in the
//! transaction of every write that changes what the index holds, whichever process writes.

use std::collections::HashMap;

use memvox_core::{Memory, MemoryId, MemoryKind, MemoryState, Sector, UnixMillis, vector::dot};

use crate::{
    MemoryFilter, Neighbour,
    postings::Postings,
    quantised::{CodedRows, QUANTISE_FROM, code, shortlist},
};

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
    /// The same memories' full rows, position for position (salience and last-seen time as
    /// loaded: `index_cache::Recall` holds their current values).
    pub records: Vec<Memory>,
    /// Each indexed memory's outgoing links `(target, weight)`, strongest first.
    pub links: HashMap<MemoryId, Vec<(MemoryId, f64)>>,
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

/// Bytes of one memory's current salience and last-seen time (`index_cache::Recall`).
pub(crate) const RECALL_BYTES: usize = size_of::<(f64, UnixMillis)>();

/// Bytes a memory's full row holds: the struct and its heap text and turns.
pub(crate) fn record_bytes(memory: &Memory) -> usize {
    size_of::<Memory>()
        + memory.content.capacity()
        + memory.user_id.capacity()
        + memory.provenance.as_ref().map_or(0, |p| {
            p.conversation_id.capacity() + p.turn_indexes.capacity() * size_of::<u32>()
        })
}

/// Bytes of one memory's outgoing links (with the map entry holding them).
pub(crate) fn links_bytes(links: &Vec<(MemoryId, f64)>) -> usize {
    size_of::<(MemoryId, Vec<(MemoryId, f64)>)>() + links.capacity() * size_of::<(MemoryId, f64)>()
}

/// Keeps the `keep` best of `items` by `order` (best first), in no particular order.
pub(crate) fn keep_best<T>(
    items: &mut Vec<T>,
    keep: usize,
    order: impl FnMut(&T, &T) -> std::cmp::Ordering,
) {
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
            + self.records.iter().map(record_bytes).sum::<usize>()
            + self.records.len() * RECALL_BYTES
            + self.links.values().map(links_bytes).sum::<usize>()
            + self.embedded.len() * size_of::<u32>()
            + self.matrix.len() * size_of::<f32>()
            + self.postings.bytes()
            + self.coded.as_ref().map_or(0, CodedRows::bytes)
    }

    /// The position in `memories` (and `records`) of memory `id`.
    pub fn position(&self, id: MemoryId) -> Option<usize> {
        self.memories.binary_search_by_key(&id, |m| m.id).ok()
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
                .position(*id)
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stored memory `id` of user `u`, for index tests.
    pub(crate) fn record(id: MemoryId) -> Memory {
        Memory {
            id,
            user_id: "u".into(),
            content: format!("memory {id}"),
            kind: MemoryKind::Fact,
            sector: Sector::Semantic,
            salience: 0.5,
            decay_per_day: 0.01,
            state: MemoryState::Active,
            last_seen_at: 0,
            created_at: 0,
            updated_at: 0,
            provenance: None,
            superseded_by: None,
            superseded_at: None,
        }
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
}
