//! Retention: what is kept only for a while. Raw payloads of processed events and the turns of
//! old calls are deleted in batches once past their age; memories, episodes, summaries and the
//! call headers stay. Pending and dead-lettered events are kept: they still have work to do.

use memvox_core::UnixMillis;

/// Ages past which data is deleted, as absolute cutoffs (`None`: kept forever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Raw payloads of completed events received before this are deleted.
    pub payloads_before: Option<UnixMillis>,
    /// Transcript turns of calls that started before this are deleted.
    pub turns_before: Option<UnixMillis>,
}

/// Rows one retention batch deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Raw events (with their payloads).
    pub payloads: u64,
    /// Transcript turns.
    pub turns: u64,
}

/// Up to `$2` completed raw events received before `$1`.
pub(crate) const PURGE_PAYLOADS: &str = "DELETE FROM webhook_events WHERE id IN (SELECT id \
     FROM webhook_events WHERE status = 'completed' AND received_at < $1 ORDER BY id LIMIT $2)";

/// Up to `$2` turns of calls that started before `$1`.
pub(crate) const PURGE_TURNS: &str = "DELETE FROM conversation_turns WHERE id IN (SELECT t.id \
     FROM conversation_turns t JOIN conversations c ON c.id = t.conversation_fk \
     WHERE c.started_at < $1 ORDER BY t.id LIMIT $2)";
