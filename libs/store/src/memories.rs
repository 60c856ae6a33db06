//! Memories and their history: reading a user's memories, by id, by exact text, as a listing,
//! their counts, and page by page with their earlier texts (for export).

use async_trait::async_trait;
use memvox_core::{Memory, MemoryId, MemoryState, Sector, UnixMillis};

use crate::{
    MemoryFilter, StoreError, StoreResult,
    backend::Backend,
    dialect::{Record, query},
    encryption::columns,
    rows::memory_from_row,
    sql::{self, INSERT_CHUNK, memory_columns},
};

/// Earlier texts of a user's memories with ids from `$2` to `$3`, grouped by memory, oldest
/// first.
const SELECT_USER_HISTORY: &str = "SELECT memory_id, content, changed_at FROM memory_history \
     WHERE user_id = $1 AND memory_id BETWEEN $2 AND $3 ORDER BY memory_id, changed_at, id";

/// An earlier text of a memory: `(memory, content, changed_at)`.
pub type HistoryEntry = (MemoryId, String, UnixMillis);

/// How many of a user's memories there are per sector, state and supersession, counted in
/// the database (nothing is read or decrypted).
const COUNT_MEMORIES: &str = "SELECT sector, state, \
     CASE WHEN superseded_by IS NULL THEN 0 ELSE 1 END AS superseded, COUNT(*) AS n \
     FROM memories WHERE user_id = $1 \
     GROUP BY sector, state, CASE WHEN superseded_by IS NULL THEN 0 ELSE 1 END";

/// How many of a user's memories (both layers) share a sector, a state and whether a later
/// memory superseded them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryTally {
    /// Their sector.
    pub sector: Sector,
    /// Their state.
    pub state: MemoryState,
    /// Whether they were superseded.
    pub superseded: bool,
    /// How many.
    pub count: u64,
}

/// Order of memory listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryOrder {
    /// Most recently created first.
    #[default]
    Newest,
    /// Highest salience first, then most recently seen: what matters most about a caller.
    Salience,
}

/// Reading a user's memories. Another user's id reads as not found.
#[async_trait]
pub trait Memories: Send + Sync {
    /// A page of everything held of a user's memories, for export: up to `limit` memories —
    /// facts and episodes, in every state, superseded ones included — in the order they were
    /// written (by id), after memory `after` (`None`: from the first), with the history of
    /// those memories. The next page starts after the last id returned.
    async fn memory_page(
        &self,
        user_id: &str,
        after: Option<MemoryId>,
        limit: usize,
    ) -> StoreResult<(Vec<Memory>, Vec<HistoryEntry>)>;

    /// Reads one of a user's memories.
    async fn get_memory(&self, user_id: &str, id: MemoryId) -> StoreResult<Option<Memory>>;

    /// Reads several of a user's memories in one statement, in no particular order; ids that
    /// do not exist (or belong to another user) are left out.
    async fn get_memories(&self, user_id: &str, ids: &[MemoryId]) -> StoreResult<Vec<Memory>>;

    /// A user's memories whose normalised text equals `content`'s (exact duplicates).
    async fn find_exact_duplicates(&self, user_id: &str, content: &str)
    -> StoreResult<Vec<Memory>>;

    /// For each of `contents`, the user's memories whose normalised text equals it (as
    /// [`Memories::find_exact_duplicates`]), in one statement.
    async fn find_exact_duplicates_of(
        &self,
        user_id: &str,
        contents: &[&str],
    ) -> StoreResult<Vec<Vec<Memory>>>;

    /// How many memories a user has, per sector, state and supersession, without reading them.
    async fn memory_counts(&self, user_id: &str) -> StoreResult<Vec<MemoryTally>>;

    /// Lists a user's memories.
    async fn list_memories(
        &self,
        user_id: &str,
        filter: &MemoryFilter,
        order: MemoryOrder,
        limit: usize,
    ) -> StoreResult<Vec<Memory>>;
}

#[async_trait]
impl<B: Backend> Memories for B {
    async fn memory_page(
        &self,
        user_id: &str,
        after: Option<MemoryId>,
        limit: usize,
    ) -> StoreResult<(Vec<Memory>, Vec<HistoryEntry>)> {
        let statement = format!(
            "SELECT {} FROM memories m WHERE m.user_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3",
            memory_columns!()
        );
        let rows = query::<B::Sql>(statement)
            .bind(user_id)
            .bind(after.unwrap_or(MemoryId::MIN))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *self.read().await?)
            .await?;
        let memories = rows
            .iter()
            .map(|row| memory_from_row(&self.core().keyring, row))
            .collect::<StoreResult<Vec<_>>>()?;
        let history = match (memories.first(), memories.last()) {
            (Some(first), Some(last)) => {
                history_between::<B>(self, user_id, first.id, last.id).await?
            }
            _ => Vec::new(),
        };
        Ok((memories, history))
    }

    async fn get_memory(&self, user_id: &str, id: MemoryId) -> StoreResult<Option<Memory>> {
        let row = query::<B::Sql>(sql::SELECT_MEMORY)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref()
            .map(|r| memory_from_row(&self.core().keyring, r))
            .transpose()
    }

    async fn get_memories(&self, user_id: &str, ids: &[MemoryId]) -> StoreResult<Vec<Memory>> {
        let mut memories = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(INSERT_CHUNK) {
            let statement = format!(
                "SELECT {} FROM memories m WHERE m.user_id = $1 AND m.id IN ({})",
                memory_columns!(),
                sql::placeholders(2, chunk.len())
            );
            let rows = chunk
                .iter()
                .fold(query::<B::Sql>(statement).bind(user_id), |q, id| {
                    q.bind(*id)
                })
                .fetch_all(&mut *self.read().await?)
                .await?;
            for row in &rows {
                memories.push(memory_from_row(&self.core().keyring, row)?);
            }
        }
        Ok(memories)
    }

    async fn find_exact_duplicates(
        &self,
        user_id: &str,
        content: &str,
    ) -> StoreResult<Vec<Memory>> {
        let mut found = self.find_exact_duplicates_of(user_id, &[content]).await?;
        Ok(found.pop().unwrap_or_default())
    }

    async fn find_exact_duplicates_of(
        &self,
        user_id: &str,
        contents: &[&str],
    ) -> StoreResult<Vec<Vec<Memory>>> {
        let keyring = &self.core().keyring;
        let fingerprints: Vec<String> = contents.iter().map(|c| keyring.fingerprint(c)).collect();
        let mut found: Vec<Vec<Memory>> = vec![Vec::new(); contents.len()];
        for chunk in fingerprints.chunks(INSERT_CHUNK) {
            let statement = format!(
                "SELECT {}, m.content_fingerprint AS fingerprint FROM memories m \
                 WHERE m.user_id = $1 AND m.kind = 'fact' AND m.content_fingerprint IN ({}) \
                 ORDER BY m.id",
                memory_columns!(),
                sql::placeholders(2, chunk.len())
            );
            let rows = chunk
                .iter()
                .fold(query::<B::Sql>(statement).bind(user_id), |q, f| q.bind(f))
                .fetch_all(&mut *self.read().await?)
                .await?;
            for row in &rows {
                let fingerprint: String = row.value("fingerprint")?;
                let memory = memory_from_row(keyring, row)?;
                for (slot, wanted) in found.iter_mut().zip(&fingerprints) {
                    if *wanted == fingerprint {
                        slot.push(memory.clone());
                    }
                }
            }
        }
        Ok(found)
    }

    async fn memory_counts(&self, user_id: &str) -> StoreResult<Vec<MemoryTally>> {
        let corrupt = |e: memvox_core::UnknownVariant| StoreError::Corrupt(e.to_string());
        let rows = query::<B::Sql>(COUNT_MEMORIES)
            .bind(user_id)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter()
            .map(|row| {
                let sector: String = row.value("sector")?;
                let state: String = row.value("state")?;
                let superseded: i32 = row.value("superseded")?;
                let count: i64 = row.value("n")?;
                Ok(MemoryTally {
                    sector: sector.parse().map_err(corrupt)?,
                    state: state.parse().map_err(corrupt)?,
                    superseded: superseded != 0,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn list_memories(
        &self,
        user_id: &str,
        filter: &MemoryFilter,
        order: MemoryOrder,
        limit: usize,
    ) -> StoreResult<Vec<Memory>> {
        let mut next = 2;
        let (conditions, binds) = sql::filter_conditions(filter, &mut next);
        let order_by = match order {
            MemoryOrder::Newest => "m.created_at DESC, m.id DESC",
            MemoryOrder::Salience => "m.salience DESC, m.last_seen_at DESC, m.id DESC",
        };
        let statement = format!(
            "SELECT {} FROM memories m WHERE m.user_id = $1{conditions} \
             ORDER BY {order_by} LIMIT ${next}",
            memory_columns!()
        );
        let rows = query::<B::Sql>(statement)
            .bind(user_id)
            .bind_all(binds)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter()
            .map(|r| memory_from_row(&self.core().keyring, r))
            .collect()
    }
}

/// Earlier texts of the user's memories with ids from `first` to `last`, decrypted.
async fn history_between<B: Backend>(
    store: &B,
    user_id: &str,
    first: MemoryId,
    last: MemoryId,
) -> StoreResult<Vec<HistoryEntry>> {
    let rows = query::<B::Sql>(SELECT_USER_HISTORY)
        .bind(user_id)
        .bind(first)
        .bind(last)
        .fetch_all(&mut *store.read().await?)
        .await?;
    let context = columns::HISTORY_CONTENT.at(user_id);
    rows.iter()
        .map(|row| {
            let stored: String = row.value("content")?;
            Ok((
                row.value("memory_id")?,
                store.core().keyring.decrypt(&stored, context)?,
                row.value("changed_at")?,
            ))
        })
        .collect()
}
