//! The durable part of accepting an event: row (stored with concurrent deliveries in one
//! transaction, see `group_commit`), then publish; the published mark comes after.
//!
//! Order matters. The row is written first and is the source of truth: once it is committed the
//! delivery can be acknowledged, whatever happens to the bus. A publish failure is logged and
//! counted but still answers 200, because the outbox reconciler re-publishes rows that were
//! never marked published. A duplicate delivery (row already there) publishes nothing; if its
//! first delivery's publish was lost, the reconciler covers that too. The mark itself is written
//! after the answer, in batches (see `marks`). An event of an erased conversation is refused by
//! the store's tombstone in the statement that would insert it, and dropped.
//!
//! The steps run in their own task so a client hanging up cannot cut them in half.

use memvox_bus::{EVENTS, Envelope, Message};
use memvox_store::{NewEvent, StoreError};
use tokio::sync::oneshot;

use crate::GatewayState;
use crate::error::GatewayError;

/// Whether the event was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// First delivery: stored and published (row id), its mark still to be written.
    Published(i64),
    /// First delivery: stored, but the publish failed; left to the outbox reconciler.
    Unpublished,
    /// Already stored by an earlier delivery; nothing published.
    Duplicate,
    /// Of a conversation whose caller was erased: refused by its tombstone, nothing stored.
    Erased,
}

/// Stores `event` idempotently and, when it is new, announces it on the events stream.
///
/// # Errors
/// [`GatewayError::StoreUnavailable`] / [`GatewayError::Store`] when the row could not be
/// written (nothing is published then).
pub(crate) async fn record(
    state: &GatewayState,
    event: NewEvent,
) -> Result<Recorded, GatewayError> {
    let (answer, answered) = oneshot::channel();
    let state = state.clone();
    tokio::spawn(async move {
        let result = store_and_publish(&state, event).await;
        let published = matches!(result, Ok(Recorded::Published(_)));
        if let Ok(Recorded::Published(id)) = result {
            state.published.enqueue(id);
        }
        // The handler may be gone (client hung up); the row and the publish stand regardless.
        let _ = answer.send(result);
        if published {
            state
                .published
                .flush(state.store.as_ref(), &state.clock)
                .await;
        }
    });
    answered.await.map_err(|_| GatewayError::TaskFailed)?
}

async fn store_and_publish(
    state: &GatewayState,
    event: NewEvent,
) -> Result<Recorded, GatewayError> {
    let (event_type, conversation_id) = (event.event_type.clone(), event.conversation_id.clone());
    let recorded = match state.group_commit.record(event).await {
        Ok(Some(recorded)) => recorded,
        Ok(None) => return Ok(Recorded::Erased),
        Err(Some(error)) => return Err(store_error(error)),
        Err(None) => return Err(GatewayError::TaskFailed),
    };
    if !recorded.inserted {
        return Ok(Recorded::Duplicate);
    }
    let envelope = Envelope::new(Message::EventAccepted {
        event_id: recorded.id,
        event_type,
        conversation_id: conversation_id.clone(),
    });
    match state.bus.publish(EVENTS, &envelope).await {
        Ok(_) => Ok(Recorded::Published(recorded.id)),
        Err(error) => {
            state.metrics.publish_failed();
            tracing::warn!(
                event_id = recorded.id,
                %conversation_id,
                error = %error,
                "event stored but not published; the outbox reconciler will publish it"
            );
            Ok(Recorded::Unpublished)
        }
    }
}

/// A store failure as the gateway answers it: 503 when worth retrying.
pub(crate) fn store_error(error: StoreError) -> GatewayError {
    if error.retryable() {
        GatewayError::StoreUnavailable(error)
    } else {
        GatewayError::Store(error)
    }
}
