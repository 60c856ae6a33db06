//! Loading a user's in-memory index (`user_index`) at their current versions (`index_cache`):
//! the cached one if it was loaded at those versions, else read now, after reading them
//! (database triggers move them on every write to what the index holds, in any process); and
//! the recall values (salience, last seen) re-read when only they moved.

use std::sync::Arc;

use memvox_core::{MemoryId, UnixMillis, UnknownVariant};

use crate::{
    StoreError, StoreResult, UserVersion,
    backend::{Backend, RowOf},
    dialect::{Record, query},
    index_cache::{CachedIndex, UserVersions},
    lexical::{TokenId, parse_token},
    postings::PostingsBuilder,
    rows::memory_from_row,
    sql::memory_columns,
    user_index::{IndexedMemory, UserIndex},
};

/// The versions of a user's index and recall values (moved by triggers on every write they
/// depend on).
const SELECT_VERSIONS: &str =
    "SELECT vectors_version, answers_version, recall_version FROM users WHERE user_id = $1";

/// A user's memories that have a vector or lexical tokens — full rows, their tokens and their
/// vector — in one statement, so one snapshot on either database; the rows are those of the
/// backend's `Backend::USER_INDEX_ROWS`, in id order.
fn select_user_index<B: Backend>() -> String {
    format!(
        "SELECT {}, t.terms, e.embedding FROM memories m \
         LEFT JOIN memory_terms t ON t.memory_id = m.id \
         LEFT JOIN memory_embeddings e ON e.memory_id = m.id AND e.model = $2 \
         WHERE {} ORDER BY m.id",
        memory_columns!(),
        B::USER_INDEX_ROWS
    )
}

/// Every memory's salience and last-seen time (an index-only read on both databases).
const SELECT_RECALL: &str = "SELECT id, salience, last_seen_at FROM memories WHERE user_id = $1";

/// A user's versions (`None`: no such user, never created or erased).
pub(crate) async fn user_versions<B: Backend>(
    store: &B,
    user_id: &str,
) -> StoreResult<Option<UserVersions>> {
    let Some(row) = query::<B::Sql>(SELECT_VERSIONS)
        .bind(user_id)
        .fetch_optional(&mut *store.read().await?)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(UserVersions {
        index: UserVersion {
            vectors: row.value("vectors_version")?,
            answers: row.value("answers_version")?,
        },
        recall: row.value("recall_version")?,
    }))
}

/// The user's index at `versions` (read just before), with its recall values at least as
/// recent: the cached one, else loaded now.
pub(crate) async fn index_at<B: Backend>(
    store: &B,
    user_id: &str,
    versions: UserVersions,
) -> StoreResult<Arc<CachedIndex>> {
    let entry = store
        .core()
        .index
        .get_or_load(user_id, versions, || {
            load_user_index(store, user_id, Links::Read)
        })
        .await?;
    fresh_recall(store, user_id, entry, versions).await
}

/// The user's index at their current versions for a search by the pipeline (similar memories,
/// memories to compare a call with): the cached one when it is current, else read now without
/// links and not cached. The pipeline searches a caller just before writing to them, so what
/// it would cache is stale at once, and it would push answering callers out of the cache.
pub(crate) async fn index_for_pipeline<B: Backend>(
    store: &B,
    user_id: &str,
) -> StoreResult<Arc<CachedIndex>> {
    let Some(versions) = user_versions(store, user_id).await? else {
        return Ok(empty_index());
    };
    if let Some(entry) = cached_at(store, user_id, versions).await? {
        return Ok(entry);
    }
    let index = load_user_index(store, user_id, Links::Skipped).await?;
    Ok(Arc::new(CachedIndex::new(versions, index)))
}

/// Whether an index load reads the memories' links (ranking follows them; the pipeline's
/// searches do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Links {
    Read,
    Skipped,
}

/// The user's index if it is cached at `versions`, with its recall values at least as recent;
/// `None` without loading anything.
pub(crate) async fn cached_at<B: Backend>(
    store: &B,
    user_id: &str,
    versions: UserVersions,
) -> StoreResult<Option<Arc<CachedIndex>>> {
    match store.core().index.get(user_id, versions.index).await {
        Some(entry) => Ok(Some(fresh_recall(store, user_id, entry, versions).await?)),
        None => Ok(None),
    }
}

/// `entry` with its recall values brought up to `versions.recall`.
async fn fresh_recall<B: Backend>(
    store: &B,
    user_id: &str,
    entry: Arc<CachedIndex>,
    versions: UserVersions,
) -> StoreResult<Arc<CachedIndex>> {
    if entry.recall().version < versions.recall {
        entry
            .refresh_recall(versions.recall, || read_recall(store, user_id))
            .await?;
    }
    Ok(entry)
}

/// The user's index at their current versions, with the versions read (`None` and an empty
/// index for no such user).
pub(crate) async fn user_index<B: Backend>(
    store: &B,
    user_id: &str,
) -> StoreResult<(Option<UserVersions>, Arc<CachedIndex>)> {
    let versions = user_versions(store, user_id).await?;
    let entry = match versions {
        Some(versions) => index_at(store, user_id, versions).await?,
        None => empty_index(),
    };
    Ok((versions, entry))
}

/// The index of a user who does not exist.
fn empty_index() -> Arc<CachedIndex> {
    let none = UserVersion {
        vectors: 0,
        answers: 0,
    };
    Arc::new(CachedIndex::new(
        UserVersions {
            index: none,
            recall: 0,
        },
        UserIndex::default(),
    ))
}

/// Every memory's `(id, salience, last seen)` of a user.
async fn read_recall<B: Backend>(
    store: &B,
    user_id: &str,
) -> StoreResult<Vec<(MemoryId, f64, UnixMillis)>> {
    let rows = query::<B::Sql>(SELECT_RECALL)
        .bind(user_id)
        .fetch_all(&mut *store.read().await?)
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.value("id")?,
                row.value("salience")?,
                row.value("last_seen_at")?,
            ))
        })
        .collect()
}

/// Reads a user's memories, vectors, tokens and (unless skipped) links into an index.
async fn load_user_index<B: Backend>(
    store: &B,
    user_id: &str,
    links: Links,
) -> StoreResult<UserIndex> {
    let space = &store.core().space;
    let rows = query::<B::Sql>(select_user_index::<B>())
        .bind(user_id)
        .bind(&space.model)
        .fetch_all(&mut *store.read().await?)
        .await?;
    let mut index = UserIndex {
        memories: Vec::with_capacity(rows.len()),
        records: Vec::with_capacity(rows.len()),
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
        index
            .records
            .push(memory_from_row(&store.core().keyring, row)?);
    }
    index.embedded.shrink_to_fit();
    index.matrix.shrink_to_fit();
    index.postings = postings.build();
    index.code(space.dimension);
    if links == Links::Read && !index.memories.is_empty() {
        read_links(store, user_id, &mut index).await?;
    }
    Ok(index)
}

/// Reads the outgoing links of the user's memories into `index`.
async fn read_links<B: Backend>(
    store: &B,
    user_id: &str,
    index: &mut UserIndex,
) -> StoreResult<()> {
    let rows = query::<B::Sql>(B::USER_LINKS)
        .bind(user_id)
        .fetch_all(&mut *store.read().await?)
        .await?;
    for row in &rows {
        let source: MemoryId = row.value("source_memory_id")?;
        index
            .links
            .entry(source)
            .or_default()
            .push((row.value("target_memory_id")?, row.value("weight")?));
    }
    index.links.shrink_to_fit();
    Ok(())
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
