//! The events of one batch on their way through the extraction handler: read and parsed
//! (`Loaded`), gathered in waves of events that share no key (prepared concurrently), then in
//! the group a transaction commits (`Member`s), each with the span of its message's trace.

use std::collections::HashSet;

use memvox_elevenlabs::WebhookEvent;

use crate::{identity::Resolution, prepare::Prepared};

/// A prepared event waiting in the group commit, with what to do once it is committed.
pub(crate) struct Member {
    /// Position in the batch.
    pub(crate) index: usize,
    /// The raw event.
    pub(crate) event_id: i64,
    /// Delivery attempts so far (to tell a last attempt).
    pub(crate) attempts: u32,
    /// `type` of the webhook, for metrics.
    pub(crate) event_type: String,
    /// The changes and whom they concern.
    pub(crate) prepared: Prepared,
    /// The event's span, continuing the trace its message carried.
    pub(crate) span: tracing::Span,
}

/// Events prepared but not yet committed.
pub(crate) type Group = Vec<Member>;

/// A read and parsed event waiting to be prepared, with the keys it may conflict on (its
/// conversation, caller number, claimed and resolved user).
pub(crate) struct Loaded {
    pub(crate) member: Member,
    pub(crate) parsed: WebhookEvent,
    pub(crate) keys: Vec<String>,
    /// A served transcription's caller, resolved before the event joins a wave; `None` for
    /// other events and calls of agents memvox does not serve.
    pub(crate) resolution: Option<Resolution>,
}

/// Events read but not yet prepared, none sharing a key with another: they are prepared
/// concurrently, as none reads what another writes.
#[derive(Default)]
pub(crate) struct Wave {
    pub(crate) events: Vec<Loaded>,
    pub(crate) keys: HashSet<String>,
}

impl Wave {
    pub(crate) fn touches(&self, keys: &[String]) -> bool {
        keys.iter().any(|k| self.keys.contains(k))
    }
}

/// Events of one wave prepared at once: their reads and extraction overlap, so a batch keeps
/// both cores busy, while the store's read pool and the model are not flooded.
pub(crate) const PREPARING_AT_ONCE: usize = 4;
