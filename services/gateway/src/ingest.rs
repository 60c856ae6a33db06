//! The durable part of accepting an event: row (stored with concurrent deliveries in one
//! transaction, see `group_commit`), then publish; the published mark comes after. On SQLite
//! the row is written to the ingest file beside the database and announced once it has moved
//! to the events table (`staged`).
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
//!
//! Tracing: the row keeps the `traceparent` of the request that accepted it, and the announce
//! publishes under a `publish_event` span continuing it, whoever announces (this request, the
//! ingest file's mover, or the outbox reconciler), so the extraction worker's span joins the
//! webhook's trace on every path.

use memvox_bus::{Bus, EVENTS, Envelope, Message};
use memvox_store::{Acceptance, NewEvent, StoreError};
use memvox_telemetry::trace::{continue_trace, traceparent_of};
use tokio::sync::oneshot;
use tracing::Instrument as _;

use crate::error::GatewayError;
use crate::{GatewayMetrics, GatewayState};

/// Whether the event was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// First delivery: stored and published (row id), its mark still to be written.
    Published(i64),
    /// First delivery: stored, but the publish failed; left to the outbox reconciler.
    Unpublished,
    /// First delivery: stored in the ingest file (SQLite), announced once it has moved to the
    /// events table (see `staged`).
    Staged,
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
    let span = tracing::debug_span!("accept_event", event_type = %event.event_type);
    tokio::spawn(async move {
        // The span covers storing and announcing, not the published marks written after.
        let result = store_and_publish(&state, event).instrument(span).await;
        match result {
            Ok(Recorded::Published(id)) => state.published.enqueue(id),
            Ok(Recorded::Staged) => state.staged.wake(),
            _ => {}
        }
        let published = matches!(result, Ok(Recorded::Published(_)));
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
    let traceparent = event.traceparent.clone();
    let id = match state.group_commit.record(event).await {
        Ok(Acceptance::Stored(id)) => id,
        Ok(Acceptance::Staged) => return Ok(Recorded::Staged),
        Ok(Acceptance::Duplicate) => return Ok(Recorded::Duplicate),
        Ok(Acceptance::Erased) => return Ok(Recorded::Erased),
        Err(Some(error)) => return Err(store_error(error)),
        Err(None) => return Err(GatewayError::TaskFailed),
    };
    Ok(
        if announce(
            &*state.bus,
            &state.metrics,
            id,
            event_type,
            conversation_id,
            traceparent,
        )
        .await
        {
            Recorded::Published(id)
        } else {
            Recorded::Unpublished
        },
    )
}

/// Announces stored event `id` on the events stream, continuing the trace it was accepted in;
/// whether it was published (a failure is logged and counted, and left to the outbox
/// reconciler).
pub(crate) async fn announce(
    bus: &dyn Bus,
    metrics: &GatewayMetrics,
    id: i64,
    event_type: String,
    conversation_id: String,
    traceparent: Option<String>,
) -> bool {
    let span = tracing::debug_span!("publish_event", event_id = id, stream = EVENTS);
    continue_trace(&span, traceparent.as_deref());
    let mut envelope = Envelope::new(Message::EventAccepted {
        event_id: id,
        event_type,
        conversation_id: conversation_id.clone(),
    });
    envelope.traceparent = traceparent_of(&span).or(traceparent);
    match bus.publish(EVENTS, &envelope).instrument(span).await {
        Ok(_) => true,
        Err(error) => {
            metrics.publish_failed();
            tracing::warn!(
                event_id = id,
                %conversation_id,
                error = %error,
                "event stored but not published; the outbox reconciler will publish it"
            );
            false
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
