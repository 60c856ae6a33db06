//! Search: storing memories' vectors and finding memories by meaning (cosine similarity), by
//! exact words (BM25 over the lexical postings) and by neighbourhood (memories similar to given
//! ones), all through the user's in-memory index (`user_index`, loaded by `load`), which a
//! [`UserView`] searches in process.

mod indexing;
mod load;
mod view;

use std::collections::HashMap;

use async_trait::async_trait;
use memvox_core::{MemoryId, UnixMillis};

pub(crate) use indexing::ensure_lexical_index;
pub(crate) use load::{index_for_pipeline, user_index, user_versions};
pub use view::UserView;

use crate::{
    IndexFootprint, LexicalSearch, MemoryFilter, Neighbour, SearchHit, StoreResult,
    backend::Backend,
};

/// Vectors and search over a user's memories.
#[async_trait]
pub trait Search: Send + Sync {
    /// The user's memories as one version read finds them (the cached index when it was loaded
    /// at the versions read, else loaded now): a warm query's only statement. An unknown or
    /// erased user's view is empty, with no version.
    async fn user_view(&self, user_id: &str) -> StoreResult<UserView>;

    /// The user's view when their index is already cached at their current versions (one
    /// version read, no load): `None` for a cold, light, unknown or erased user.
    async fn warm_view(&self, user_id: &str) -> StoreResult<Option<UserView>>;

    /// Stores (or replaces) the vectors of memories, in the store's embedding space.
    async fn store_embeddings(
        &self,
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()>;

    /// The `limit` memories of a user most similar (cosine) to `query` that pass `filter`: for
    /// the pipeline, which reads an uncached caller afresh and leaves the cache to the answers
    /// (queries search a [`Search::user_view`]).
    async fn search_memories(
        &self,
        user_id: &str,
        query: &[f32],
        filter: &MemoryFilter,
        limit: usize,
    ) -> StoreResult<Vec<SearchHit>>;

    /// The at most `limit` memories of a user that contain words of `query` (exact words, see
    /// `memvox_core::text::lexical_terms`) and pass `filter`, most matching first, each with its
    /// cosine similarity to `query_vector`. Finds names, numbers and product codes an embedding
    /// may miss; a query with no content word finds nothing, and words most of the user's
    /// memories share are not looked up (they still count in `matched` and in the ranking). A
    /// memory without a vector yet is found too (similarity `0`). A user with fewer than
    /// `min_memories` embedded memories is not searched (only `memories` is filled in, with
    /// that count).
    async fn search_lexical(
        &self,
        user_id: &str,
        query: &str,
        query_vector: &[f32],
        filter: &MemoryFilter,
        limit: usize,
        min_memories: usize,
    ) -> StoreResult<LexicalSearch>;

    /// What the user's in-memory index holds and weighs (loaded if it is not cached).
    async fn index_footprint(&self, user_id: &str) -> StoreResult<IndexFootprint>;

    /// For each of the user's embedded memories in `ids`, up to `limit` other memories of the
    /// user that pass `filter` and whose cosine similarity to it is above `threshold`, best first,
    /// grouped in the order of `ids`: one read for a whole batch of memories to link (an
    /// uncached caller's memories read afresh, without links, and not cached). An id without a
    /// vector, or not the user's, has no neighbours.
    async fn similar_memories(
        &self,
        user_id: &str,
        ids: &[MemoryId],
        filter: &MemoryFilter,
        threshold: f64,
        limit: usize,
    ) -> StoreResult<Vec<Neighbour>>;
}

#[async_trait]
impl<B: Backend> Search for B {
    async fn user_view(&self, user_id: &str) -> StoreResult<UserView> {
        let (versions, entry) = user_index(self, user_id).await?;
        Ok(UserView::new(self, user_id, versions, entry))
    }

    async fn warm_view(&self, user_id: &str) -> StoreResult<Option<UserView>> {
        let Some(versions) = load::user_versions(self, user_id).await? else {
            return Ok(None);
        };
        let entry = load::cached_at(self, user_id, versions).await?;
        Ok(entry.map(|entry| UserView::new(self, user_id, Some(versions), entry)))
    }

    async fn store_embeddings(
        &self,
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()> {
        for (_, vector) in vectors {
            self.core().space.check_dimension(vector.len())?;
        }
        let mut tx = self.begin().await?;
        self.write_vectors(&mut tx, vectors, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn search_memories(
        &self,
        user_id: &str,
        query: &[f32],
        filter: &MemoryFilter,
        limit: usize,
    ) -> StoreResult<Vec<SearchHit>> {
        let entry = index_for_pipeline(self, user_id).await?;
        UserView::new(self, user_id, None, entry).search(query, filter, limit)
    }

    async fn search_lexical(
        &self,
        user_id: &str,
        query: &str,
        query_vector: &[f32],
        filter: &MemoryFilter,
        limit: usize,
        min_memories: usize,
    ) -> StoreResult<LexicalSearch> {
        self.user_view(user_id).await?.search_lexical(
            query,
            query_vector,
            filter,
            limit,
            min_memories,
        )
    }

    async fn index_footprint(&self, user_id: &str) -> StoreResult<IndexFootprint> {
        Ok(user_index(self, user_id).await?.1.index.footprint())
    }

    async fn similar_memories(
        &self,
        user_id: &str,
        ids: &[MemoryId],
        filter: &MemoryFilter,
        threshold: f64,
        limit: usize,
    ) -> StoreResult<Vec<Neighbour>> {
        let mut position = HashMap::with_capacity(ids.len());
        let mut unique = Vec::with_capacity(ids.len());
        for id in ids {
            if !position.contains_key(id) {
                position.insert(*id, unique.len());
                unique.push(*id);
            }
        }
        if unique.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // Each memory's own row in the user's index is the query: nothing but the index is
        // read, and the scan runs in this process, not in the database's.
        let entry = index_for_pipeline(self, user_id).await?;
        let mut found = entry.index.neighbours(&unique, filter, threshold, limit);
        found.sort_by(|a, b| {
            position
                .get(&a.memory)
                .cmp(&position.get(&b.memory))
                .then(b.similarity.total_cmp(&a.similarity))
                .then(a.neighbour.cmp(&b.neighbour))
        });
        Ok(found)
    }
}
