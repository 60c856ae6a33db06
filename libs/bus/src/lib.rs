//! memvox event bus: the only way services talk to each other.
//!
//! Owns the [`Bus`] trait (shaped like Redis Streams consumer groups), the types it exchanges,
//! and re-exports its two implementations ([`RedisBus`], [`InProcessBus`]), the worker runner,
//! the retry policy, the outbox reconciler and the metrics.
//!
//! Delivery contract, identical for both implementations and proven by one conformance suite
//! (`tests/conformance.rs`):
//! - **at-least-once**: an entry read by a group member stays *pending* for that group until it is
//!   acked; if its reader dies, another member claims it once it has been idle long enough;
//! - **one reader at a time**: a new entry is delivered to exactly one member of a group, and a
//!   pending entry can only be claimed by one member per idle period;
//! - **order**: a stream is read in publication order; redeliveries (claims) come out of order;
//! - **attempts**: every delivery (read or claim) counts; the count is reported on the delivery;
//! - **dead letters**: an entry can be moved, with a reason, to its stream's dead-letter list,
//!   from where an operator lists, shows, replays (as a new entry, attempts starting over) or
//!   purges it;
//! - groups start from the beginning of the stream, so nothing published before a group existed
//!   is missed;
//! - **deletion**: an entry can be read and deleted outside any group (erasure); a deleted entry
//!   still pending in a group is dropped by its next claim, never delivered again.
//!
//! Consumers must be idempotent: a claim after a slow (not dead) reader, a lost ack, or an outbox
//! re-publish all deliver a message twice.

mod error;
pub mod in_process;
mod message;
pub mod metrics;
pub mod outbox;
mod progress;
pub mod redis_streams;
pub mod retry;
mod settings;
pub mod worker;

use std::{fmt, time::Duration};

use async_trait::async_trait;

pub use error::BusError;
pub use in_process::InProcessBus;
pub use message::{DecodeError, EVENTS, Envelope, MEMORIES, Message, now_unix_ms};
pub use metrics::{BusMetrics, Outcome};
pub use outbox::{OutboxError, OutboxRow, OutboxSource, ReconcileError, Reconciler};
pub use progress::{Progress, metric_sum};
pub use redis_streams::{KeySpace, RedisBus};
pub use retry::{Decision, HandlerError, RetryPolicy};
pub use settings::{BusBackend, BusSettings, SettingsError};
pub use worker::{BatchReport, Handler, Worker, WorkerConfig, unique_consumer_name};

/// The id of an entry in a stream (`<ms>-<seq>` on Redis). Opaque to callers; only the bus that
/// issued it understands it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub String);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for EntryId {
    fn from(s: &str) -> Self {
        EntryId(s.to_owned())
    }
}

/// One delivery of a stream entry to a group member.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Logical stream name (e.g. [`EVENTS`]).
    pub stream: String,
    /// Entry id, to ack, retry or dead-letter it.
    pub id: EntryId,
    /// How many times this entry has been delivered to the group, this delivery included.
    pub delivery_count: u32,
    /// The raw payload as stored, kept so a malformed entry can be dead-lettered verbatim.
    pub payload: String,
    /// The decoded envelope, or why the payload could not be decoded.
    pub envelope: Result<Envelope, DecodeError>,
}

/// What a claim returned.
#[derive(Debug, Clone, Default)]
pub struct Claimed {
    /// Entries now owned by the claiming member, with their delivery counts.
    pub deliveries: Vec<Delivery>,
    /// Pending entries whose payload had been trimmed away: removed from the pending list and
    /// reported so the caller can log them; the outbox reconciler re-publishes their messages.
    pub lost: Vec<EntryId>,
}

/// Counters of one consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStats {
    /// Group name.
    pub group: String,
    /// Entries delivered to the group and not yet acked.
    pub pending: u64,
    /// Entries in the stream not yet delivered to the group; `None` when the backend cannot tell
    /// (Redis after some deletions).
    pub lag: Option<u64>,
    /// Members the group has seen.
    pub consumers: u64,
}

/// Counters of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStats {
    /// Logical stream name.
    pub stream: String,
    /// Entries currently in the stream (acked ones stay until trimmed).
    pub length: u64,
    /// Entries in the stream's dead-letter list.
    pub dead_letters: u64,
    /// Every consumer group of the stream.
    pub groups: Vec<GroupStats>,
}

impl StreamStats {
    /// The counters of `group`, if the stream has it.
    pub fn group(&self, group: &str) -> Option<&GroupStats> {
        self.groups.iter().find(|g| g.group == group)
    }
}

/// An entry of a stream as it is stored, delivered or not, acknowledged or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// Its entry id.
    pub id: EntryId,
    /// The encoded envelope, verbatim.
    pub payload: String,
}

/// An entry in a stream's dead-letter list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Id of the dead letter itself (to show, replay or purge it).
    pub id: EntryId,
    /// Logical stream the entry came from.
    pub stream: String,
    /// Its entry id in that stream.
    pub origin_id: EntryId,
    /// The consumer group that gave up on it.
    pub group: String,
    /// Why it was dead-lettered.
    pub reason: String,
    /// Deliveries made before giving up.
    pub attempts: u32,
    /// When it was dead-lettered, in unix milliseconds.
    pub dead_at_ms: u64,
    /// The original payload, verbatim.
    pub payload: String,
}

/// A stream bus with consumer groups. Object safe: services hold an `Arc<dyn Bus>`.
///
/// Streams and groups are logical names (`"events"`, `"extraction"`); implementations map them
/// to their own storage. Every method is safe to call concurrently.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Appends `envelope` to `stream` (creating it) and returns the new entry id.
    async fn publish(&self, stream: &str, envelope: &Envelope) -> Result<EntryId, BusError>;

    /// Appends `envelopes` to `stream` in order, in one exchange where the bus allows it (one
    /// Redis pipeline), and returns their entry ids. On an error some may have been appended.
    async fn publish_all(
        &self,
        stream: &str,
        envelopes: &[Envelope],
    ) -> Result<Vec<EntryId>, BusError> {
        let mut ids = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            ids.push(self.publish(stream, envelope).await?);
        }
        Ok(ids)
    }

    /// Creates `group` on `stream` (and the stream) if missing, reading from the very first entry.
    async fn ensure_group(&self, stream: &str, group: &str) -> Result<(), BusError>;

    /// Delivers up to `count` entries never delivered to `group` to member `consumer`, waiting up
    /// to `block` for the first one (`Duration::ZERO`: don't wait). The entries become pending.
    async fn read(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Delivery>, BusError>;

    /// Acknowledges entries: they leave the group's pending list. Returns how many were pending.
    async fn ack(&self, stream: &str, group: &str, ids: &[EntryId]) -> Result<u64, BusError>;

    /// Transfers to `consumer` up to `count` entries pending in `group` that have been idle for at
    /// least `min_idle`, counting one more delivery for each. Oldest first.
    async fn claim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Claimed, BusError>;

    /// Makes pending entry `id` look idle for `idle` as of now, owned by `consumer`, without
    /// counting a delivery. A claim with `min_idle` then takes it after `min_idle − idle`: this is
    /// how a retry is scheduled (see [`retry`]). No-op if the entry is not pending.
    async fn set_idle(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        id: &EntryId,
        idle: Duration,
    ) -> Result<(), BusError>;

    /// Moves a delivered entry to its stream's dead-letter list with `reason`, and acks it in
    /// `group`. Returns the dead letter's id.
    async fn dead_letter(
        &self,
        group: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<EntryId, BusError>;

    /// Length, dead letters, and pending / lag per group of `stream` (zeros if it doesn't exist).
    async fn stats(&self, stream: &str) -> Result<StreamStats, BusError>;

    /// Dead letters of `stream`, oldest first, starting after `after` (exclusive).
    async fn list_dead_letters(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BusError>;

    /// One dead letter of `stream`.
    async fn get_dead_letter(
        &self,
        stream: &str,
        id: &EntryId,
    ) -> Result<Option<DeadLetter>, BusError>;

    /// Re-publishes a dead letter's payload onto its origin stream as a new entry (so its delivery
    /// count starts over) and removes it from the dead-letter list, atomically. Returns the new
    /// entry id; [`BusError::NotFound`] if there is no such dead letter.
    async fn replay_dead_letter(&self, stream: &str, id: &EntryId) -> Result<EntryId, BusError>;

    /// Deletes one dead letter; returns whether it existed.
    async fn purge_dead_letter(&self, stream: &str, id: &EntryId) -> Result<bool, BusError>;

    /// Deletes every dead letter of `stream`; returns how many there were.
    async fn purge_dead_letters(&self, stream: &str) -> Result<u64, BusError>;

    /// Entries of `stream` after `after` (exclusive), oldest first, up to `limit`: every entry
    /// the stream still holds, acknowledged ones included (they stay until trimmed), so erasure
    /// can find an erased caller's messages.
    async fn entries(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, BusError>;

    /// Deletes entries from `stream`, acknowledged or not; returns how many it held. A deleted
    /// entry still pending in a group is never delivered again: a claim drops it.
    async fn delete_entries(&self, stream: &str, ids: &[EntryId]) -> Result<u64, BusError>;

    /// Deletes `stream` with its groups and pending lists (its dead letters stay). For operators
    /// and for tests that simulate a lost stream; the outbox reconciler restores what mattered.
    async fn delete_stream(&self, stream: &str) -> Result<(), BusError>;
}

/// Connects the configured bus: the one place that matches on the backend. Validates the
/// settings first.
pub async fn connect_bus(settings: &BusSettings) -> Result<std::sync::Arc<dyn Bus>, BusError> {
    settings
        .validate()
        .map_err(|e| BusError::Invalid(e.to_string()))?;
    Ok(match settings.backend {
        BusBackend::InProcess => std::sync::Arc::new(InProcessBus::new(settings.maxlen)),
        BusBackend::Redis => std::sync::Arc::new(RedisBus::connect(settings).await?),
    })
}
