//! Changing memories: adding one, editing its text or standing, superseding, reinforcing and
//! deleting; every change of text keeps the earlier text in the memory's history.

use async_trait::async_trait;
use memvox_core::{Memory, MemoryId, NewMemory, UnixMillis};
use memvox_crypto::Keyring;

use crate::{
    LexicalKey, Memories, MemoryEdit, StoreError, StoreResult,
    backend::Backend,
    dialect::{Conn, Dialect, expect_row, query},
    encryption::columns,
    rows::memory_from_row,
    sql,
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
    /// 1); returns how many of the user's memories were touched.
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
        let stored = insert_memory_in::<B::Sql>(
            &mut tx,
            &core.keyring,
            &core.lexical,
            &mut written,
            memory,
            at,
            "manual",
        )
        .await?;
        flush_written_in::<B::Sql>(&mut tx, &mut written).await?;
        tx.commit().await?;
        Ok(stored)
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
        let mut tx = self.begin().await?;
        let mut touched = 0;
        for id in ids {
            touched += query::<B::Sql>(sql::REINFORCE_MEMORY)
                .bind(bump)
                .bind(now)
                .bind(*id)
                .bind(user_id)
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

/// Inserts a memory inside an open transaction; `extraction_type` labels its link to the
/// conversation it came from (`auto` or `manual`).
pub(crate) async fn insert_memory_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    memory: &NewMemory,
    at: Times,
    extraction_type: &str,
) -> StoreResult<Memory> {
    if memory.content.trim().is_empty() {
        return Err(StoreError::Invalid("memory content is empty".into()));
    }
    ensure_user_in::<D>(conn, written, &memory.user_id, at.said).await?;
    let conversation_fk = match &memory.provenance {
        Some(provenance) => Some(
            conversation_fk_in::<D>(conn, written, &provenance.conversation_id)
                .await?
                .ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "memory cites conversation {} which is not recorded",
                        provenance.conversation_id
                    ))
                })?,
        ),
        None => None,
    };
    let turns_json = memory
        .provenance
        .as_ref()
        .map(|p| serde_json::json!(p.turn_indexes).to_string());
    let sealed = keyring.encrypt(&memory.content, columns::MEMORY_CONTENT.at(&memory.user_id))?;
    let row = query::<D>(sql::INSERT_MEMORY)
        .bind(&memory.user_id)
        .bind(&sealed)
        .bind(keyring.fingerprint(&memory.content))
        .bind(memory.sector.as_str())
        .bind(memory.salience.clamp(0.0, 1.0))
        .bind(memory.sector.default_decay_per_day())
        .bind(at.said)
        .bind(
            memory
                .provenance
                .as_ref()
                .map(|p| p.conversation_id.clone()),
        )
        .bind(&turns_json)
        .bind(at.now)
        .fetch_one(conn)
        .await?;
    let stored = memory_from_row(keyring, &row)?;
    let terms = lexical.memory_terms(&memory.user_id, &memory.content);
    written.index_terms(stored.id, &memory.user_id, terms);
    if let (Some(fk), Some(provenance)) = (conversation_fk, &memory.provenance) {
        written.cite(Citation::new(
            fk,
            stored.id,
            extraction_type,
            provenance,
            at.said,
        ));
    }
    Ok(stored)
}
