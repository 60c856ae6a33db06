//! [`UserView`]: a user's memories as one version read found them, searched in process. A warm
//! query costs that one read: vector search, lexical search, links and the memories themselves
//! all come from the user's index (`user_index`), whose rows carry the current salience and
//! last-seen time (`index_cache::Recall`).

use std::sync::Arc;

use memvox_core::{Memory, MemoryId};

use crate::{
    EmbeddingSpace, LexicalHit, LexicalKey, LexicalSearch, MemoryFilter, SearchHit, StoreResult,
    UserVersion,
    backend::Backend,
    index_cache::{CachedIndex, Recall, UserVersions},
    lexical::searched_tokens,
    user_index::keep_best,
};

/// A user's searchable memories at one moment (see the module documentation). Cheap to hold:
/// it shares the cached index.
#[derive(Debug, Clone)]
pub struct UserView {
    user_id: String,
    version: Option<UserVersion>,
    entry: Arc<CachedIndex>,
    recall: Arc<Recall>,
    lexical: LexicalKey,
    space: EmbeddingSpace,
}

impl UserView {
    /// `store`'s view of `user_id` over `entry` (`versions`: what was read; `None`, no such
    /// user).
    pub(crate) fn new<B: Backend>(
        store: &B,
        user_id: &str,
        versions: Option<UserVersions>,
        entry: Arc<CachedIndex>,
    ) -> Self {
        let core = store.core();
        Self {
            user_id: user_id.to_owned(),
            version: versions.map(|v| v.index),
            recall: entry.recall(),
            entry,
            lexical: core.lexical.clone(),
            space: core.space.clone(),
        }
    }

    /// What the user's memories stood at when read (`None`: no such user — never created, or
    /// erased — so nothing about them may be served from a cache).
    pub fn version(&self) -> Option<UserVersion> {
        self.version
    }

    /// How many memories the view holds (with a vector or lexical tokens).
    pub fn len(&self) -> usize {
        self.entry.index.records.len()
    }

    /// Whether the view holds no memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The memory at `position` in the index, with its current salience and last-seen time.
    fn memory_at(&self, position: usize) -> Memory {
        let mut memory = self.entry.index.records[position].clone();
        if let Some(&(salience, last_seen_at)) = self.recall.values.get(position) {
            memory.salience = salience;
            memory.last_seen_at = last_seen_at;
        }
        memory
    }

    /// The memories of `ids` the view holds, in the order of `ids`.
    pub fn memories(&self, ids: &[MemoryId]) -> Vec<Memory> {
        ids.iter()
            .filter_map(|&id| self.entry.index.position(id))
            .map(|position| self.memory_at(position))
            .collect()
    }

    /// The at most `limit` memories passing `filter` with the highest salience, then the
    /// latest seen, then the highest id: `Memories::list_memories` in `MemoryOrder::Salience`
    /// over the view's memories, read from memory.
    pub fn most_salient(&self, filter: &MemoryFilter, limit: usize) -> Vec<Memory> {
        let index = &self.entry.index;
        let values = &self.recall.values;
        // Positions ascend with ids, so the last tie-break compares positions.
        let order = |a: &usize, b: &usize| {
            let ((salience_a, seen_a), (salience_b, seen_b)) = (values[*a], values[*b]);
            salience_b
                .total_cmp(&salience_a)
                .then(seen_b.cmp(&seen_a))
                .then(b.cmp(a))
        };
        let mut ranked: Vec<usize> = (0..values.len())
            .filter(|&position| u32::try_from(position).is_ok_and(|p| index.admits(p, filter)))
            .collect();
        keep_best(&mut ranked, limit, order);
        ranked.sort_by(order);
        ranked
            .into_iter()
            .map(|position| self.memory_at(position))
            .collect()
    }

    /// Memory `id`'s outgoing links `(target, weight)`, strongest first (none when not held).
    pub fn links_from(&self, id: MemoryId) -> &[(MemoryId, f64)] {
        self.entry.index.links.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The `limit` memories most similar (cosine) to `query` that pass `filter`, best first.
    ///
    /// # Errors
    /// [`crate::StoreError::EmbeddingMismatch`] for a query of another dimension.
    pub fn search(
        &self,
        query: &[f32],
        filter: &MemoryFilter,
        limit: usize,
    ) -> StoreResult<Vec<SearchHit>> {
        self.space.check_dimension(query.len())?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let index = &self.entry.index;
        Ok(index
            .top(query, filter, limit)
            .into_iter()
            .filter_map(|(similarity, id)| {
                Some(SearchHit {
                    memory: self.memory_at(index.position(id)?),
                    similarity: f64::from(similarity),
                })
            })
            .collect())
    }

    /// The at most `limit` memories holding the rarer words of `query` that pass `filter`, best
    /// BM25 first, each with its cosine similarity to `query_vector` (see
    /// [`crate::Search::search_lexical`], whose contract this is).
    ///
    /// # Errors
    /// [`crate::StoreError::EmbeddingMismatch`] for a query vector of another dimension.
    pub fn search_lexical(
        &self,
        query: &str,
        query_vector: &[f32],
        filter: &MemoryFilter,
        limit: usize,
        min_memories: usize,
    ) -> StoreResult<LexicalSearch> {
        self.space.check_dimension(query_vector.len())?;
        let tokens = self.lexical.query_tokens(&self.user_id, query);
        if tokens.is_empty() || limit == 0 {
            return Ok(LexicalSearch::default());
        }
        let index = &self.entry.index;
        if index.embedded_count() < min_memories {
            return Ok(LexicalSearch {
                memories: index.embedded_count(),
                ..LexicalSearch::default()
            });
        }
        let postings = &index.postings;
        let document_frequency: Vec<usize> = tokens
            .iter()
            .map(|&token| postings.frequency(token))
            .collect();
        let searched = searched_tokens(&document_frequency);
        let ranked = if searched.is_empty() {
            Vec::new()
        } else {
            postings.rank(&tokens, &searched, |row| index.admits(row, filter), limit)
        };
        let hits = ranked
            .into_iter()
            .filter(|ranked| (ranked.row as usize) < index.records.len())
            .map(|ranked| LexicalHit {
                memory: self.memory_at(ranked.row as usize),
                similarity: index
                    .similarity_at(query_vector, ranked.row)
                    .map_or(0.0, f64::from),
                matched: postings.matched(&tokens, ranked.row),
            })
            .collect();
        Ok(LexicalSearch {
            memories: postings.documents(),
            document_frequency,
            hits,
        })
    }
}
