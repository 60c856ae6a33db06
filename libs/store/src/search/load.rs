//! Loading a user's in-memory index (`user_index`) at their current vectors version: the cached
//! one if it was loaded at that version, else read now, after reading the version (database
//! triggers move it on every write to what the index holds, in any process).

use std::sync::Arc;

use memvox_core::UnknownVariant;

use crate::{
    StoreError, StoreResult,
    backend::{Backend, RowOf},
    dialect::{Record, query},
    lexical::{TokenId, parse_token},
    postings::PostingsBuilder,
    user_index::{IndexedMemory, UserIndex},
};

/// The version of a user's index (moved by triggers on every write the index depends on).
const SELECT_VECTORS_VERSION: &str = "SELECT vectors_version FROM users WHERE user_id = $1";

/// A user's memories that have a vector or lexical tokens, with the attributes search filters
/// on, their tokens and their vector (one statement, so one snapshot on either database). The
/// ids come from the two per-user indexes (a token or vector row carries its memory's user), so
/// SQLite reads the rows in id order by primary key and needs no sort: driven from the
/// memories' user index instead, the rows came in salience order and were sorted afterwards:
/// the load of a caller with 40,000 memories took 1.9 s instead of 1.0 s (loadtest, SQLite).
const SELECT_USER_INDEX: &str = "SELECT m.id, m.kind, m.sector, m.state, m.superseded_by, \
     m.created_at, t.terms, e.embedding FROM memories m \
     LEFT JOIN memory_terms t ON t.memory_id = m.id \
     LEFT JOIN memory_embeddings e ON e.memory_id = m.id AND e.model = $2 \
     WHERE m.id IN (SELECT memory_id FROM memory_terms WHERE user_id = $1 \
     UNION SELECT memory_id FROM memory_embeddings WHERE user_id = $1) \
     ORDER BY m.id";

/// The user's index at their current vectors version: the cached one if it was loaded at that
/// version, else loaded now (after reading the version).
pub(crate) async fn user_index<B: Backend>(
    store: &B,
    user_id: &str,
) -> StoreResult<Arc<(i64, UserIndex)>> {
    let version: Option<i64> = query::<B::Sql>(SELECT_VECTORS_VERSION)
        .bind(user_id)
        .fetch_optional(&mut *store.read().await?)
        .await?
        .map(|row| row.value("vectors_version"))
        .transpose()?;
    let Some(version) = version else {
        // Not a user yet: no memories, so nothing to load.
        return Ok(Arc::new((0, UserIndex::default())));
    };
    let cache = &store.core().index;
    if let Some(entry) = cache.get(user_id, version).await {
        return Ok(entry);
    }
    let loaded = load_user_index(store, user_id).await?;
    Ok(cache.insert(user_id, version, loaded).await)
}

/// Reads a user's memories, vectors and tokens into an index.
async fn load_user_index<B: Backend>(store: &B, user_id: &str) -> StoreResult<UserIndex> {
    let space = &store.core().space;
    let rows = query::<B::Sql>(SELECT_USER_INDEX)
        .bind(user_id)
        .bind(&space.model)
        .fetch_all(&mut *store.read().await?)
        .await?;
    let mut index = UserIndex {
        memories: Vec::with_capacity(rows.len()),
        embedded: Vec::with_capacity(rows.len()),
        matrix: Vec::with_capacity(rows.len() * space.dimension),
        ..UserIndex::default()
    };
    let mut postings = PostingsBuilder::default();
    let mut tokens: Vec<TokenId> = Vec::new();
    for row in &rows {
        let position = u32::try_from(index.memories.len())
            .map_err(|_| StoreError::Corrupt("more memories than an index holds".into()))?;
        if store.push_row_vector(row, &mut index.matrix)? {
            index.embedded.push(position);
        }
        let terms: Option<String> = row.value("terms")?;
        match terms {
            Some(terms) => {
                tokens.clear();
                for token in terms.split_ascii_whitespace() {
                    tokens.push(parse_token(token).ok_or_else(|| {
                        StoreError::Corrupt(format!("malformed lexical token {token:?}"))
                    })?);
                }
                tokens.sort_unstable();
                tokens.dedup();
                postings.push(Some(&tokens));
            }
            None => postings.push(None),
        }
        index.memories.push(indexed_memory::<B>(row)?);
    }
    index.embedded.shrink_to_fit();
    index.matrix.shrink_to_fit();
    index.postings = postings.build();
    index.code(space.dimension);
    Ok(index)
}

/// The attributes search filters a row's memory on.
fn indexed_memory<B: Backend>(row: &RowOf<B>) -> StoreResult<IndexedMemory> {
    let corrupt = |e: UnknownVariant| StoreError::Corrupt(e.to_string());
    let superseded: Option<i64> = row.value("superseded_by")?;
    let sector: String = row.value("sector")?;
    let state: String = row.value("state")?;
    let kind: String = row.value("kind")?;
    Ok(IndexedMemory {
        id: row.value("id")?,
        kind: kind.parse().map_err(corrupt)?,
        sector: sector.parse().map_err(corrupt)?,
        state: state.parse().map_err(corrupt)?,
        superseded: superseded.is_some(),
        created_at: row.value("created_at")?,
    })
}
