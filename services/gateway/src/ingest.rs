//! The durable part of accepting an event: row, then publish, then mark published.
//!
//! Order matters. The row is written first and is the source of truth: once it is committed the
//! delivery can be acknowledged, whatever happens to the bus. A publish failure is logged and
//! counted but still answers 200, because the outbox reconciler re-publishes rows that were
//! never marked published. A duplicate delivery (row already there) publishes nothing; if its
//! first delivery's publish was lost, the reconciler covers that too.
//!
//! The steps run in their own task so a client hanging up mid-request cannot cut them in half.

use memvox_bus::{EVENTS, Envelope, Message};
use memvox_store::NewEvent;

use crate::GatewayState;
use crate::error::GatewayError;

/// Whether the event was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// First delivery: stored (and published unless the bus failed).
    New,
    /// Already stored by an earlier delivery; nothing published.
    Duplicate,
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
    let state = state.clone();
    tokio::spawn(async move { record_inline(&state, &event).await })
        .await
        .map_err(GatewayError::Task)?
}

async fn record_inline(state: &GatewayState, event: &NewEvent) -> Result<Recorded, GatewayError> {
    let recorded = state.store.record_event(event).await.map_err(|error| {
        if error.retryable() {
            GatewayError::StoreUnavailable(error)
        } else {
            GatewayError::Store(error)
        }
    })?;
    if !recorded.inserted {
        return Ok(Recorded::Duplicate);
    }
    let envelope = Envelope::new(Message::EventAccepted {
        event_id: recorded.id,
        event_type: event.event_type.clone(),
        conversation_id: event.conversation_id.clone(),
    });
    if let Err(error) = state.bus.publish(EVENTS, &envelope).await {
        state.metrics.publish_failed();
        tracing::warn!(
            event_id = recorded.id,
            conversation_id = %event.conversation_id,
            error = %error,
            "event stored but not published; the outbox reconciler will publish it"
        );
        return Ok(Recorded::New);
    }
    let now = state.clock.now_millis();
    if let Err(error) = state.store.mark_events_published(&[recorded.id], now).await {
        tracing::warn!(
            event_id = recorded.id,
            error = %error,
            "event published but not marked; the reconciler may publish it again"
        );
    }
    Ok(Recorded::New)
}
