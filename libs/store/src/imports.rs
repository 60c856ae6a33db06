//! Imports of past conversations from the ElevenLabs conversations API: where each stands
//! (`elevenlabs_imports`, migration 0014), which conversations were listed before they were
//! done (`elevenlabs_pending_conversations`), and the lease that lets one of several processes
//! run the periodic poll at a time. The imported events themselves go through [`Events`], as
//! a webhook's do.
//!
//! [`Events`]: crate::Events

use async_trait::async_trait;
use memvox_core::UnixMillis;

use crate::{
    StoreResult,
    backend::Backend,
    dialect::{Record, query},
    sql::{self, INSERT_CHUNK},
};

/// An import's row.
const SELECT_IMPORT: &str = "SELECT name, window_after, window_before, cursor, imported_until \
     FROM elevenlabs_imports WHERE name = $1";

/// Records where an import stands, leaving its lease as it is.
const UPSERT_IMPORT: &str = "INSERT INTO elevenlabs_imports \
     (name, window_after, window_before, cursor, imported_until, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET \
     window_after = excluded.window_after, window_before = excluded.window_before, \
     cursor = excluded.cursor, imported_until = excluded.imported_until, \
     updated_at = excluded.updated_at";

/// Takes an import's lease until `$3` if it expired by `$2`; affects no row otherwise.
const CLAIM_LEASE: &str = "INSERT INTO elevenlabs_imports (name, lease_until, updated_at) \
     VALUES ($1, $3, $2) ON CONFLICT (name) DO UPDATE SET lease_until = excluded.lease_until, \
     updated_at = excluded.updated_at WHERE elevenlabs_imports.lease_until <= $2";

/// Pending conversations, first seen first, at most `$1`.
const SELECT_PENDING: &str = "SELECT conversation_id, agent_id, first_seen_at \
     FROM elevenlabs_pending_conversations ORDER BY first_seen_at, conversation_id LIMIT $1";

/// Where an import stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportState {
    /// Which import: `import:<agent id>`, `import:*`, `poll`.
    pub name: String,
    /// `call_start_after_unix` of the run under way (unix seconds); `None`: from the first call.
    pub window_after: Option<i64>,
    /// `call_start_before_unix` of the run under way (unix seconds); `None`: no run under way.
    pub window_before: Option<i64>,
    /// The list's `next_cursor` after the last page stored; `None`: from the first page.
    pub cursor: Option<String>,
    /// End of the last finished run's window (unix seconds): the next run starts from it.
    pub imported_until: Option<i64>,
}

/// A conversation listed before it was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConversation {
    /// The conversation.
    pub conversation_id: String,
    /// Its agent.
    pub agent_id: String,
    /// When an import first saw it unfinished (unix ms).
    pub first_seen_at: UnixMillis,
}

/// Where imports from the ElevenLabs conversations API stand.
#[async_trait]
pub trait Imports: Send + Sync {
    /// The import named `name`, if it ever ran.
    async fn import_state(&self, name: &str) -> StoreResult<Option<ImportState>>;

    /// Records where an import stands (its lease is left as it is).
    async fn save_import_state(&self, state: &ImportState, at: UnixMillis) -> StoreResult<()>;

    /// Takes the lease of import `name` until `until` if nobody holds it at `now`; whether it
    /// was taken. Processes that share a store run a periodic import one at a time this way.
    async fn claim_import_lease(
        &self,
        name: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> StoreResult<bool>;

    /// Records conversations as pending; one already pending keeps its `first_seen_at`.
    async fn add_pending_conversations(
        &self,
        conversations: &[PendingConversation],
    ) -> StoreResult<()>;

    /// Up to `limit` pending conversations, first seen first.
    async fn pending_conversations(&self, limit: usize) -> StoreResult<Vec<PendingConversation>>;

    /// Forgets pending conversations (imported, failed or gone).
    async fn remove_pending_conversations(&self, conversation_ids: &[String]) -> StoreResult<()>;
}

#[async_trait]
impl<B: Backend> Imports for B {
    async fn import_state(&self, name: &str) -> StoreResult<Option<ImportState>> {
        let row = query::<B::Sql>(SELECT_IMPORT)
            .bind(name)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.map(|r| {
            Ok(ImportState {
                name: r.value("name")?,
                window_after: r.value("window_after")?,
                window_before: r.value("window_before")?,
                cursor: r.value("cursor")?,
                imported_until: r.value("imported_until")?,
            })
        })
        .transpose()
    }

    async fn save_import_state(&self, state: &ImportState, at: UnixMillis) -> StoreResult<()> {
        query::<B::Sql>(UPSERT_IMPORT)
            .bind(&state.name)
            .bind(state.window_after)
            .bind(state.window_before)
            .bind(&state.cursor)
            .bind(state.imported_until)
            .bind(at)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(())
    }

    async fn claim_import_lease(
        &self,
        name: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> StoreResult<bool> {
        let claimed = query::<B::Sql>(CLAIM_LEASE)
            .bind(name)
            .bind(now)
            .bind(until)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(claimed > 0)
    }

    async fn add_pending_conversations(
        &self,
        conversations: &[PendingConversation],
    ) -> StoreResult<()> {
        for chunk in conversations.chunks(INSERT_CHUNK) {
            let statement = format!(
                "INSERT INTO elevenlabs_pending_conversations \
                 (conversation_id, agent_id, first_seen_at) VALUES {} \
                 ON CONFLICT (conversation_id) DO NOTHING",
                sql::values_rows(chunk.len(), 3)
            );
            chunk
                .iter()
                .fold(query::<B::Sql>(statement), |q, c| {
                    q.bind(&c.conversation_id)
                        .bind(&c.agent_id)
                        .bind(c.first_seen_at)
                })
                .execute(&mut *self.write().await?)
                .await?;
        }
        Ok(())
    }

    async fn pending_conversations(&self, limit: usize) -> StoreResult<Vec<PendingConversation>> {
        let rows = query::<B::Sql>(SELECT_PENDING)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingConversation {
                    conversation_id: r.value("conversation_id")?,
                    agent_id: r.value("agent_id")?,
                    first_seen_at: r.value("first_seen_at")?,
                })
            })
            .collect()
    }

    async fn remove_pending_conversations(&self, conversation_ids: &[String]) -> StoreResult<()> {
        for chunk in conversation_ids.chunks(INSERT_CHUNK) {
            let statement = format!(
                "DELETE FROM elevenlabs_pending_conversations WHERE conversation_id IN ({})",
                sql::placeholders(1, chunk.len())
            );
            chunk
                .iter()
                .fold(query::<B::Sql>(statement), |q, id| q.bind(id))
                .execute(&mut *self.write().await?)
                .await?;
        }
        Ok(())
    }
}
