//! The store's raw-event table as the bus's outbox: events accepted but not yet processed are
//! published again after a grace period (a lost message, a crash between the row write and the
//! publish, or the in-process bus after a restart).

use async_trait::async_trait;
use memvox_bus::{Message, OutboxError, OutboxRow, OutboxSource};
use memvox_store::{Store, StoreError};
use std::sync::Arc;

/// Pending raw events, read from the store.
pub struct StoreOutbox(pub Arc<dyn Store>);

fn outbox_error(error: StoreError) -> OutboxError {
    if error.retryable() {
        OutboxError::Unavailable(error.to_string())
    } else {
        OutboxError::Failed(error.to_string())
    }
}

#[async_trait]
impl OutboxSource for StoreOutbox {
    async fn unfinished_before(
        &self,
        cutoff_unix_ms: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, OutboxError> {
        let cutoff = i64::try_from(cutoff_unix_ms).unwrap_or(i64::MAX);
        let events = self
            .0
            .stale_pending_events(cutoff, limit)
            .await
            .map_err(outbox_error)?;
        Ok(events
            .into_iter()
            .map(|event| OutboxRow {
                id: event.id,
                first_seen_ms: u64::try_from(event.received_at).unwrap_or(0),
                traceparent: event.traceparent,
                message: Message::EventAccepted {
                    event_id: event.id,
                    event_type: event.event_type,
                    conversation_id: event.conversation_id,
                },
            })
            .collect())
    }

    async fn mark_republished(&self, ids: &[i64], now_unix_ms: u64) -> Result<(), OutboxError> {
        self.0
            .mark_events_published(ids, i64::try_from(now_unix_ms).unwrap_or(i64::MAX))
            .await
            .map_err(outbox_error)
    }
}
