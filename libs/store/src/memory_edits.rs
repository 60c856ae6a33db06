//! Changing memories: adding one, editing its text or standing, superseding, reinforcing and
//! deleting; every change of text keeps the earlier text in the memory's history.

use std::collections::BTreeSet;

use async_trait::async_trait;
use memvox_core::{Memory, MemoryId, NewMemory, UnixMillis};
use memvox_crypto::Keyring;

use crate::{
    LexicalKey, Memories, MemoryEdit, StoreError, StoreResult,
    backend::Backend,
    dialect::{Conn, Dialect, Record, expect_row, query},
    encryption::columns,
    rows::memory_from_row,
    sql::{self, INSERT_CHUNK},
    users::ensure_user_in,
    written::{Citation, Times, Written, conversation_fk_in, flush_written_in, index_terms_in},
};

/// Adding and changing a user's memories. Another user's id reads as not found.
#[async_trait]
pub trait MemoryEdits: Send + Sync {
    /// Inserts a memory (salience clamped to `[0, 1]`, decay from its sector). A memory with
    /// provenance is linked to its conversation, which must have been recorded.
    async fn insert_memory(&self, memory: &NewMemory, now: UnixMillis) -> StoreResult<Memory>;

    /// Changes a memory's text, sector, salience or state.
    async fn edit_memory(
        &self,
        user_id: &str,
        id: MemoryId,
        edit: &MemoryEdit,
        now: UnixMillis,
    ) -> StoreResult<Memory>;

    /// Marks `old` as superseded by `new` (both the user's).
    async fn supersede_memory(
        &self,
        user_id: &str,
        old: MemoryId,
        new: MemoryId,
        now: UnixMillis,
    ) -> StoreResult<()>;

    /// Marks memories as recalled now (recency restarts, salience nudged up by `bump`, capped at
    /// 1), each once however often `ids` names it; returns how many of the user's memories were
    /// touched.
    async fn reinforce_memories(
        &self,
        user_id: &str,
        ids: &[MemoryId],
        bump: f64,
        now: UnixMillis,
    ) -> StoreResult<u64>;

    /// Deletes one memory with its vector and links; `false` if it did not exist.
    async fn delete_memory(&self, user_id: &str, id: MemoryId) -> StoreResult<bool>;
}

#[async_trait]
impl<B: Backend> MemoryEdits for B {
    async fn insert_memory(&self, memory: &NewMemory, now: UnixMillis) -> StoreResult<Memory> {
        let core = self.core();
        let mut tx = self.begin().await?;
        let mut written = Written::default();
        let at = Times::now(now);
        let ids = insert_memories_in::<B::Sql>(
            &mut tx,
            &core.keyring,
            &core.lexical,
            &mut written,
            &[memory],
            at,
            "manual",
        )
        .await?;
        flush_written_in::<B::Sql>(&mut tx, &mut written).await?;
        let row = query::<B::Sql>(sql::SELECT_MEMORY)
            .bind(ids[0])
            .bind(&memory.user_id)
            .fetch_one(&mut tx)
            .await?;
        tx.commit().await?;
        memory_from_row(&core.keyring, &row)
    }

    async fn edit_memory(
        &self,
        user_id: &str,
        id: MemoryId,
        edit: &MemoryEdit,
        now: UnixMillis,
    ) -> StoreResult<Memory> {
        let what = || format!("memory {id}");
        let current = expect_row(self.get_memory(user_id, id).await?, what)?;
        let content = edit
            .content
            .clone()
            .unwrap_or_else(|| current.content.clone());
        if content.trim().is_empty() {
            return Err(StoreError::Invalid("memory content is empty".into()));
        }
        let sector = edit.sector.unwrap_or(current.sector);
        let decay = if edit.sector.is_some() {
            sector.default_decay_per_day()
        } else {
            current.decay_per_day
        };
        let (keyring, lexical) = (&self.core().keyring, &self.core().lexical);
        let mut tx = self.begin().await?;
        if content != current.content {
            query::<B::Sql>(sql::INSERT_HISTORY)
                .bind("edit")
                .bind(Option::<String>::None)
                .bind(now)
                .bind(id)
                .bind(keyring.encrypt(&current.content, columns::HISTORY_CONTENT.at(user_id))?)
                .execute(&mut tx)
                .await?;
        }
        let sealed = keyring.encrypt(&content, columns::MEMORY_CONTENT.at(user_id))?;
        let row = query::<B::Sql>(sql::UPDATE_MEMORY)
            .bind(&sealed)
            .bind(keyring.fingerprint(&content))
            .bind(sector.as_str())
            .bind(edit.salience.unwrap_or(current.salience).clamp(0.0, 1.0))
            .bind(decay)
            .bind(edit.state.unwrap_or(current.state).as_str())
            .bind(now)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&mut tx)
            .await?;
        let row = expect_row(row, what)?;
        index_terms_in::<B::Sql>(&mut tx, lexical, id, user_id, &content).await?;
        tx.commit().await?;
        memory_from_row(keyring, &row)
    }

    async fn supersede_memory(
        &self,
        user_id: &str,
        old: MemoryId,
        new: MemoryId,
        now: UnixMillis,
    ) -> StoreResult<()> {
        if old == new {
            return Err(StoreError::Invalid(
                "a memory cannot supersede itself".into(),
            ));
        }
        query::<B::Sql>(sql::SUPERSEDE_MEMORY)
            .bind(new)
            .bind(now)
            .bind(old)
            .bind(user_id)
            .execute_expecting(&mut *self.write().await?, || {
                format!("memory {old} or {new} of user {user_id}")
            })
            .await?;
        Ok(())
    }

    async fn reinforce_memories(
        &self,
        user_id: &str,
        ids: &[MemoryId],
        bump: f64,
        now: UnixMillis,
    ) -> StoreResult<u64> {
        // One statement per chunk, not one per memory: on PostgreSQL the recall-version
        // trigger runs once per statement, and each statement is a round trip.
        let unique: BTreeSet<MemoryId> = ids.iter().copied().collect();
        let unique: Vec<MemoryId> = unique.into_iter().collect();
        let mut tx = self.begin().await?;
        let mut touched = 0;
        for chunk in unique.chunks(INSERT_CHUNK) {
            touched += chunk
                .iter()
                .fold(
                    query::<B::Sql>(sql::reinforce_memories(chunk.len()))
                        .bind(bump)
                        .bind(now)
                        .bind(user_id),
                    |q, id| q.bind(*id),
                )
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(touched)
    }

    async fn delete_memory(&self, user_id: &str, id: MemoryId) -> StoreResult<bool> {
        let deleted = query::<B::Sql>(sql::DELETE_MEMORY)
            .bind(id)
            .bind(user_id)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(deleted > 0)
    }
}

/// Inserts memories inside an open transaction with one multi-row statement per chunk; returns
/// their ids in `memories` order. `extraction_type` labels their links to the conversations
/// they came from (`auto` or `manual`); each is stamped with `at.said`.
pub(crate) async fn insert_memories_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    memories: &[&NewMemory],
    at: Times,
    extraction_type: &str,
) -> StoreResult<Vec<MemoryId>> {
    let mut ids = Vec::with_capacity(memories.len());
    for chunk in memories.chunks(INSERT_CHUNK) {
        let mut conversation_fks = Vec::with_capacity(chunk.len());
        for memory in chunk {
            if memory.content.trim().is_empty() {
                return Err(StoreError::Invalid("memory content is empty".into()));
            }
            ensure_user_in::<D>(conn, written, &memory.user_id, at.said).await?;
            conversation_fks.push(cited_conversation_in::<D>(conn, written, memory).await?);
        }
        let statement = format!(
            "INSERT INTO memories (user_id, content, content_fingerprint, sector, salience, \
             decay_per_day, state, last_seen_at, source_conversation, source_turns, created_at, \
             updated_at) VALUES {} RETURNING id",
            memory_rows(chunk.len())
        );
        let mut insert = query::<D>(statement);
        for memory in chunk {
            let provenance = memory.provenance.as_ref();
            let context = columns::MEMORY_CONTENT.at(&memory.user_id);
            insert = insert
                .bind(&memory.user_id)
                .bind(keyring.encrypt(&memory.content, context)?)
                .bind(keyring.fingerprint(&memory.content))
                .bind(memory.sector.as_str())
                .bind(memory.salience.clamp(0.0, 1.0))
                .bind(memory.sector.default_decay_per_day())
                .bind(at.said)
                .bind(provenance.map(|p| p.conversation_id.clone()))
                .bind(provenance.map(|p| crate::rows::turns_json(&p.turn_indexes)))
                .bind(at.now);
        }
        // Ids are assigned in `VALUES` order within one statement (SQLite's next rowid, a
        // PostgreSQL sequence's next value per row), whatever order `RETURNING` gives them in.
        let mut chunk_ids = insert
            .fetch_all(conn)
            .await?
            .iter()
            .map(|row| row.value::<MemoryId>("id"))
            .collect::<StoreResult<Vec<_>>>()?;
        chunk_ids.sort_unstable();
        if chunk_ids.len() != chunk.len() {
            return Err(StoreError::Corrupt(format!(
                "{} memories inserted, {} ids returned",
                chunk.len(),
                chunk_ids.len()
            )));
        }
        for ((memory, id), fk) in chunk.iter().zip(&chunk_ids).zip(conversation_fks) {
            let terms = lexical.memory_terms(&memory.user_id, &memory.content);
            written.index_terms(*id, &memory.user_id, terms);
            if let (Some(fk), Some(provenance)) = (fk, &memory.provenance) {
                written.cite(Citation::new(fk, *id, extraction_type, provenance, at.said));
            }
        }
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// `count` rows of a memory insert's ten values: user, content, fingerprint, sector,
/// salience, decay, said-at (also its creation time), conversation, turns, now.
fn memory_rows(count: usize) -> String {
    (0..count)
        .map(|row| {
            let p = |i: usize| format!("${}", row * 10 + i);
            format!(
                "({}, {}, {}, {}, {}, {}, 'active', {}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8),
                p(9),
                p(7),
                p(10)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The row id of the conversation `memory` cites, which must have been recorded.
async fn cited_conversation_in<D: Dialect>(
    conn: &mut Conn<D>,
    written: &mut Written,
    memory: &NewMemory,
) -> StoreResult<Option<i64>> {
    let Some(provenance) = &memory.provenance else {
        return Ok(None);
    };
    let fk = conversation_fk_in::<D>(conn, written, &provenance.conversation_id).await?;
    fk.map(Some).ok_or_else(|| {
        StoreError::Invalid(format!(
            "memory cites conversation {} which is not recorded",
            provenance.conversation_id
        ))
    })
}
