//! Retention: what is kept only for a while. Raw payloads of processed events and the turns of
//! old calls are deleted in batches once past their age, and, when a deployment's policy says
//! so, the episodes of old calls (windows of their transcript, deleted with their vectors,
//! tokens and links); facts, summaries and the call headers stay. Pending and dead-lettered
//! events are kept: they still have work to do.

use async_trait::async_trait;
use memvox_core::UnixMillis;

use crate::{StoreResult, backend::Backend, dialect::query};

/// Deleting what is kept only for a while.
#[async_trait]
pub trait Retention: Send + Sync {
    /// Deletes one batch (at most `limit` rows of each) of what is past its age: raw payloads of
    /// completed events, turns of old calls and, with a cutoff for them, episodes of old calls;
    /// facts and call headers stay. Call until it deletes fewer than `limit` of each.
    async fn purge_expired(
        &self,
        cutoffs: &RetentionCutoffs,
        limit: usize,
    ) -> StoreResult<RetentionReport>;
}

#[async_trait]
impl<B: Backend> Retention for B {
    async fn purge_expired(
        &self,
        cutoffs: &RetentionCutoffs,
        limit: usize,
    ) -> StoreResult<RetentionReport> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut report = RetentionReport::default();
        let steps = [
            (
                cutoffs.payloads_before,
                PURGE_PAYLOADS,
                &mut report.payloads,
            ),
            (cutoffs.turns_before, PURGE_TURNS, &mut report.turns),
            (
                cutoffs.episodes_before,
                PURGE_EPISODES,
                &mut report.episodes,
            ),
        ];
        for (cutoff, statement, deleted) in steps {
            if let Some(cutoff) = cutoff {
                *deleted = query::<B::Sql>(statement)
                    .bind(cutoff)
                    .bind(limit)
                    .execute(&mut *self.write().await?)
                    .await?;
            }
        }
        Ok(report)
    }
}

/// Ages past which data is deleted, as absolute cutoffs (`None`: kept forever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Raw payloads of completed events received before this are deleted.
    pub payloads_before: Option<UnixMillis>,
    /// Transcript turns of calls that started before this are deleted.
    pub turns_before: Option<UnixMillis>,
    /// Episodes of calls that started before this are deleted (a policy: `None`, keeping
    /// them with the facts, unless a deployment asks).
    pub episodes_before: Option<UnixMillis>,
}

/// Rows one retention batch deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Raw events (with their payloads).
    pub payloads: u64,
    /// Transcript turns.
    pub turns: u64,
    /// Episodes (memories of kind `episode`, with their vectors, tokens and links).
    pub episodes: u64,
}

impl RetentionReport {
    /// Rows of every kind.
    pub fn total(&self) -> u64 {
        self.payloads + self.turns + self.episodes
    }
}

/// Up to `$2` completed raw events received before `$1`.
const PURGE_PAYLOADS: &str = "DELETE FROM webhook_events WHERE id IN (SELECT id \
     FROM webhook_events WHERE status = 'completed' AND received_at < $1 ORDER BY id LIMIT $2)";

/// Up to `$2` turns of calls that started before `$1`.
const PURGE_TURNS: &str = "DELETE FROM conversation_turns WHERE id IN (SELECT t.id \
     FROM conversation_turns t JOIN conversations c ON c.id = t.conversation_fk \
     WHERE c.started_at < $1 ORDER BY t.id LIMIT $2)";

/// Up to `$2` episodes of calls that started before `$1`; their vectors, tokens, links and
/// citations go with them (foreign keys cascade), and the user's vectors version moves.
const PURGE_EPISODES: &str = "DELETE FROM memories WHERE id IN (SELECT m.id \
     FROM memories m JOIN conversations c ON c.conversation_id = m.source_conversation \
     WHERE m.kind = 'episode' AND c.started_at < $1 ORDER BY m.id LIMIT $2)";
