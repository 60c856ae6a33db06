//! Vector search through the user's in-memory index (`search::load`); hits are re-read from the
//! database and re-checked against the filter.

use std::collections::HashMap;

use memvox_core::MemoryId;

use crate::{Memories, MemoryFilter, SearchHit, StoreResult, backend::Backend};

use super::load::user_index;

/// The `limit` memories most similar to `query` through the user's index.
pub(super) async fn indexed_search<B: Backend>(
    store: &B,
    user_id: &str,
    query: &[f32],
    filter: &MemoryFilter,
    limit: usize,
) -> StoreResult<Vec<SearchHit>> {
    let entry = user_index(store, user_id).await?;
    let top = entry.1.top(query, filter, limit);
    if top.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<MemoryId> = top.iter().map(|(_, id)| *id).collect();
    let mut memories: HashMap<_, _> = store
        .get_memories(user_id, &ids)
        .await?
        .into_iter()
        .map(|memory| (memory.id, memory))
        .collect();
    Ok(top
        .into_iter()
        .filter_map(|(similarity, id)| {
            let memory = memories.remove(&id)?;
            filter.matches(&memory).then(|| SearchHit {
                memory,
                similarity: f64::from(similarity),
            })
        })
        .collect())
}
