//! Calls: the conversations the store recorded, with their transcript turns and analysis, and
//! the episodes (what was said, in the caller's words) a call leaves among the memories.

mod episodes;
mod read;
mod write;

use async_trait::async_trait;
use memvox_core::UnixMillis;

pub use episodes::EPISODE_SALIENCE;
pub(crate) use episodes::{CallEpisodes, write_episodes_in};
pub(crate) use write::record_call_in;

use crate::{
    CallRecord, StoreResult,
    backend::Backend,
    dialect::{Record, query},
    written::Written,
};

/// Start times of a user's completed calls, newest first.
/// The conversation ids of a user's calls, oldest first.
const SELECT_USER_CONVERSATIONS: &str = "SELECT conversation_id FROM conversations \
     WHERE user_id = $1 ORDER BY started_at, id";

const SELECT_CALL_TIMES: &str = "SELECT started_at FROM conversations WHERE user_id = $1 \
     AND status = 'completed' ORDER BY started_at DESC LIMIT $2";

/// Recorded calls.
#[async_trait]
pub trait Calls: Send + Sync {
    /// Start times of the user's recorded calls, newest first.
    async fn user_call_times(&self, user_id: &str, limit: usize) -> StoreResult<Vec<UnixMillis>>;

    /// Records a call (conversation, turns, analysis), replacing what an earlier delivery of
    /// the same conversation recorded.
    async fn record_call(&self, call: &CallRecord, now: UnixMillis) -> StoreResult<()>;

    /// Reads a call back.
    async fn get_call(&self, conversation_id: &str) -> StoreResult<Option<CallRecord>>;

    /// The conversation ids of the user's recorded calls (every status), oldest first.
    async fn user_conversations(&self, user_id: &str) -> StoreResult<Vec<String>>;
}

#[async_trait]
impl<B: Backend> Calls for B {
    async fn user_call_times(&self, user_id: &str, limit: usize) -> StoreResult<Vec<UnixMillis>> {
        let rows = query::<B::Sql>(SELECT_CALL_TIMES)
            .bind(user_id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(|row| row.value("started_at")).collect()
    }

    async fn record_call(&self, call: &CallRecord, now: UnixMillis) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let mut written = Written::default();
        record_call_in::<B::Sql>(&mut tx, &self.core().keyring, &mut written, call, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_call(&self, conversation_id: &str) -> StoreResult<Option<CallRecord>> {
        read::get_call(self, conversation_id).await
    }

    async fn user_conversations(&self, user_id: &str) -> StoreResult<Vec<String>> {
        let rows = query::<B::Sql>(SELECT_USER_CONVERSATIONS)
            .bind(user_id)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter()
            .map(|row| row.value("conversation_id"))
            .collect()
    }
}
