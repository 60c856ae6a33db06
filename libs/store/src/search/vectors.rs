//! Vector search through the per-user in-process index (`vector_index`), reloaded when the
//! user's vectors version moved (database triggers move it on every relevant write, in any
//! process).

use std::{collections::HashMap, sync::Arc};

use memvox_core::{MemoryId, UnknownVariant};

use crate::{
    Memories, MemoryFilter, SearchHit, StoreError, StoreResult,
    backend::Backend,
    dialect::{Record, query},
    vector_index::{IndexedMemory, UserVectors},
};

/// The version of a user's vectors (moved by triggers on every write the index depends on).
const SELECT_VECTORS_VERSION: &str = "SELECT vectors_version FROM users WHERE user_id = $1";

/// A user's vectors with the attributes search filters on (the in-memory index).
const SELECT_USER_VECTORS: &str = "SELECT m.id, m.kind, m.sector, m.state, m.superseded_by, \
     m.created_at, e.embedding FROM memory_embeddings e JOIN memories m ON m.id = e.memory_id \
     WHERE e.user_id = $1 AND e.model = $2 ORDER BY m.id";

/// The `limit` memories most similar to `query` through the user's vector index; hits are
/// re-read from the database and re-checked against the filter.
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

/// The user's vector index at their current vectors version: the cached one if it was loaded
/// at that version, else loaded now (after reading the version).
pub(crate) async fn user_index<B: Backend>(
    store: &B,
    user_id: &str,
) -> StoreResult<Arc<(i64, UserVectors)>> {
    let version: Option<i64> = query::<B::Sql>(SELECT_VECTORS_VERSION)
        .bind(user_id)
        .fetch_optional(&mut *store.read().await?)
        .await?
        .map(|row| row.value("vectors_version"))
        .transpose()?;
    let Some(version) = version else {
        // Not a user yet: no memories, so nothing to load.
        return Ok(Arc::new((0, UserVectors::default())));
    };
    let index = &store.core().index;
    if let Some(entry) = index.get(user_id, version).await {
        return Ok(entry);
    }
    let loaded = load_user_vectors(store, user_id).await?;
    Ok(index.insert(user_id, version, loaded).await)
}

/// Reads a user's vectors and filter attributes into an index.
async fn load_user_vectors<B: Backend>(store: &B, user_id: &str) -> StoreResult<UserVectors> {
    let corrupt = |e: UnknownVariant| StoreError::Corrupt(e.to_string());
    let space = &store.core().space;
    let rows = query::<B::Sql>(SELECT_USER_VECTORS)
        .bind(user_id)
        .bind(&space.model)
        .fetch_all(&mut *store.read().await?)
        .await?;
    let mut vectors = UserVectors {
        memories: Vec::with_capacity(rows.len()),
        matrix: Vec::with_capacity(rows.len() * space.dimension),
        ..UserVectors::default()
    };
    for row in &rows {
        store.push_row_vector(row, &mut vectors.matrix)?;
        let superseded: Option<i64> = row.value("superseded_by")?;
        let sector: String = row.value("sector")?;
        let state: String = row.value("state")?;
        let kind: String = row.value("kind")?;
        vectors.memories.push(IndexedMemory {
            id: row.value("id")?,
            kind: kind.parse().map_err(corrupt)?,
            sector: sector.parse().map_err(corrupt)?,
            state: state.parse().map_err(corrupt)?,
            superseded: superseded.is_some(),
            created_at: row.value("created_at")?,
        });
    }
    Ok(vectors)
}
