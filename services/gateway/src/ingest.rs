//! The durable part of accepting an event: row (stored with concurrent deliveries in one
//! transaction, see `group_commit`), then the answer, then the announcement on the events
//! stream and its published mark. On SQLite the row is written to the ingest file beside the
//! database and announced once it has moved to the events table (`staged`).
//!
//! Order matters. The row is written first and is the source of truth: once it is committed the
//! delivery is acknowledged, whatever happens to the bus — so the answer does not wait for the
//! announcement (on PostgreSQL + Redis it waited a Redis round trip for nothing the caller
//! needs), and the rows a transaction stored are announced together, in one exchange with the
//! bus ([`Announcer`]). A publish failure is logged and counted, because the outbox reconciler
//! re-publishes rows that were never marked published; so is an announcement a crash cut off.
//! A duplicate delivery (row already there) announces nothing; if its first delivery's
//! announcement was lost, the reconciler covers that too. The mark itself is written after the
//! announcement, in batches (see `marks`). An event of an erased conversation is refused by the
//! store's tombstone in the statement that would insert it, and dropped.
//!
//! The steps run in the group commit's tasks, so a client hanging up cannot cut them in half.
//!
//! Tracing: the row keeps the `traceparent` of the request that accepted it, and each
//! announcement has a `publish_event` span continuing it, whoever announces (the group commit,
//! the ingest file's mover, or the outbox reconciler), so the extraction worker's span joins
//! the webhook's trace on every path.

use std::sync::Arc;

use memvox_bus::{Bus, EVENTS, Envelope, Message};
use memvox_store::{Acceptance, NewEvent, Store, StoreError};
use memvox_telemetry::trace::{continue_trace, traceparent_of};

use crate::error::GatewayError;
use crate::marks::ExpectedMarks;
use crate::{Clock, GatewayMetrics, GatewayState, PublishedMarks};

/// Whether the event was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// First delivery: stored in the events table; announced after the answer (a failed
    /// announcement is left to the outbox reconciler).
    Stored,
    /// First delivery: stored in the ingest file (SQLite), announced once it has moved to the
    /// events table (see `staged`).
    Staged,
    /// Already stored by an earlier delivery; nothing published.
    Duplicate,
    /// Of a conversation whose caller was erased: refused by its tombstone, nothing stored.
    Erased,
}

/// Stores `event` idempotently; when it is new, it is announced on the events stream once the
/// answer is out.
///
/// # Errors
/// [`GatewayError::StoreUnavailable`] / [`GatewayError::Store`] when the row could not be
/// written (nothing is published then).
pub(crate) async fn record(
    state: &GatewayState,
    event: NewEvent,
) -> Result<Recorded, GatewayError> {
    match state.group_commit.record(event).await {
        Ok(Acceptance::Stored(_)) => Ok(Recorded::Stored),
        Ok(Acceptance::Staged) => Ok(Recorded::Staged),
        Ok(Acceptance::Duplicate) => Ok(Recorded::Duplicate),
        Ok(Acceptance::Erased) => Ok(Recorded::Erased),
        Err(Some(error)) => Err(store_error(error)),
        Err(None) => Err(GatewayError::TaskFailed),
    }
}

/// A stored event to announce on the events stream.
#[derive(Debug, Clone)]
pub(crate) struct Announcement {
    /// Its row id in the events table.
    pub(crate) id: i64,
    pub(crate) event_type: String,
    pub(crate) conversation_id: String,
    /// The trace context it was accepted under.
    pub(crate) traceparent: Option<String>,
}

/// What announcing stored events needs: the bus, and the published marks with the store and
/// clock that write them. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Announcer {
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) metrics: GatewayMetrics,
    pub(crate) published: Arc<PublishedMarks>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Clock,
}

impl Announcer {
    /// Counts the published marks of `events` as outstanding now — before their deliveries are
    /// acknowledged, so whoever waits for the marks (a stopping process, a test) waits for
    /// these too; [`Expected::announce`] announces them.
    pub(crate) fn expect(&self, events: Vec<Announcement>) -> Expected {
        Expected {
            marks: self.published.expect(events.len()),
            announcer: self.clone(),
            events,
        }
    }

    /// This announcer with its marks dated by `clock`.
    pub(crate) fn with_clock(&self, clock: Clock) -> Self {
        Self {
            clock,
            ..self.clone()
        }
    }
}

/// Stored events whose marks are counted, to announce.
pub(crate) struct Expected {
    announcer: Announcer,
    events: Vec<Announcement>,
    marks: ExpectedMarks,
}

impl Expected {
    /// Announces the events in one exchange with the bus and queues the marks of those
    /// published (their write runs in a task of its own).
    pub(crate) async fn announce(self) {
        let Self {
            announcer,
            events,
            marks,
        } = self;
        let published = announce_all(&*announcer.bus, &announcer.metrics, events).await;
        if published.is_empty() {
            return;
        }
        marks.queue(published);
        tokio::spawn(async move {
            let Announcer {
                published,
                store,
                clock,
                ..
            } = announcer;
            published.flush(store.as_ref(), &clock).await;
        });
    }
}

/// Announces stored `events` on the events stream in one exchange, each under a
/// `publish_event` span continuing the trace it was accepted in; the ids of those published
/// (a failure is logged and counted for each event, and left to the outbox reconciler).
pub(crate) async fn announce_all(
    bus: &dyn Bus,
    metrics: &GatewayMetrics,
    events: Vec<Announcement>,
) -> Vec<i64> {
    let envelopes: Vec<Envelope> = events
        .iter()
        .map(|event| {
            let span = tracing::debug_span!("publish_event", event_id = event.id, stream = EVENTS);
            continue_trace(&span, event.traceparent.as_deref());
            let mut envelope = Envelope::new(Message::EventAccepted {
                event_id: event.id,
                event_type: event.event_type.clone(),
                conversation_id: event.conversation_id.clone(),
            });
            envelope.traceparent = traceparent_of(&span).or_else(|| event.traceparent.clone());
            envelope
        })
        .collect();
    match bus.publish_all(EVENTS, &envelopes).await {
        Ok(_) => events.into_iter().map(|event| event.id).collect(),
        Err(error) => {
            for event in &events {
                metrics.publish_failed();
                tracing::warn!(
                    event_id = event.id,
                    conversation_id = %event.conversation_id,
                    error = %error,
                    "event stored but not published; the outbox reconciler will publish it"
                );
            }
            Vec::new()
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
