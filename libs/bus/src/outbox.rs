//! Outbox reconciliation: the database, not the bus, is the source of truth.
//!
//! Owns the [`OutboxSource`] trait (implemented by the store) and the [`Reconciler`] that
//! re-publishes what the bus may have lost. The gateway writes each accepted event's row before
//! publishing it; the row stays *unfinished* until its consumer has committed the effects. Rows
//! still unfinished a grace period after their last publish are published again. This covers:
//! Redis losing data (failover, eviction, a trimmed backlog), a crash between the row write and
//! the publish, and the in-process bus after a restart (it starts empty).
//!
//! A row whose message is merely queued is not lost: while the consumer group it is read by
//! ([`Reconciler::waiting_for`]) still has entries not yet delivered, a pass re-publishes
//! nothing. Otherwise a burst deeper than the grace period (30,000 deliveries at 1,000/s, drained
//! at a few hundred a second) had every queued row published again, each grace period, behind
//! the backlog it was part of: the workers then handled 96,000 messages for 30,500 events. A
//! message lost while the group lags is re-published at the first pass after it caught up.
//!
//! Invariants: the reconciler never decides that a message is finished (only the consumer's commit
//! does), so it can only cause duplicates, never losses; consumers are idempotent, so a duplicate
//! of a message that was merely slow is harmless. A row is marked re-published only after its
//! publish succeeded, so a failed publish is retried on the next pass.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::{Bus, BusError, Envelope, Message, now_unix_ms};

/// A row of the outbox: a message whose effects are not committed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Row id in the store (e.g. the raw event id).
    pub id: i64,
    /// The message to (re-)publish; it goes to [`Message::stream`].
    pub message: Message,
    /// When the row was first accepted, in unix ms (becomes [`Envelope::first_seen_ms`]).
    pub first_seen_ms: u64,
    /// Trace context recorded with the row, if any.
    pub traceparent: Option<String>,
}

/// Why the outbox could not be read or updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// The store is unreachable or busy; the next pass retries.
    #[error("outbox unavailable: {0}")]
    Unavailable(String),
    /// The store failed in a way retrying will not fix.
    #[error("outbox failed: {0}")]
    Failed(String),
}

impl OutboxError {
    /// Whether the next pass may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, OutboxError::Unavailable(_))
    }
}

/// The store side of the outbox.
#[async_trait]
pub trait OutboxSource: Send + Sync {
    /// Up to `limit` unfinished rows whose last publish (or acceptance) is before
    /// `cutoff_unix_ms`, oldest first.
    async fn unfinished_before(
        &self,
        cutoff_unix_ms: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, OutboxError>;

    /// Records that rows `ids` were published again at `now_unix_ms`, so the next pass waits
    /// another grace period for them.
    async fn mark_republished(&self, ids: &[i64], now_unix_ms: u64) -> Result<(), OutboxError>;
}

/// Why a reconciliation pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// Publishing failed.
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl ReconcileError {
    /// Whether the next pass may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            ReconcileError::Outbox(e) => e.retryable(),
            ReconcileError::Bus(e) => e.retryable(),
        }
    }
}

/// Re-publishes outbox rows left unfinished longer than a grace period.
pub struct Reconciler {
    bus: Arc<dyn Bus>,
    source: Arc<dyn OutboxSource>,
    grace: Duration,
    batch: usize,
    /// The stream and consumer group whose undelivered entries hold a pass back.
    backlog: Option<(String, String)>,
}

impl Reconciler {
    /// A reconciler re-publishing rows unfinished for longer than `grace`, `batch` rows per query.
    /// Choose `grace` well above the normal time from acceptance to commit, or healthy but slow
    /// messages get duplicated (harmlessly, but wastefully).
    pub fn new(
        bus: Arc<dyn Bus>,
        source: Arc<dyn OutboxSource>,
        grace: Duration,
        batch: usize,
    ) -> Self {
        Self {
            bus,
            source,
            grace,
            batch: batch.max(1),
            backlog: None,
        }
    }

    /// Holds every pass back while `group` has entries of `stream` not yet delivered (the
    /// rows' messages may be queued among them), when the bus can tell.
    pub fn waiting_for(mut self, stream: &str, group: &str) -> Self {
        self.backlog = Some((stream.to_owned(), group.to_owned()));
        self
    }

    /// Whether the watched group still has undelivered entries.
    async fn backlogged(&self) -> Result<bool, BusError> {
        let Some((stream, group)) = &self.backlog else {
            return Ok(false);
        };
        let stats = self.bus.stats(stream).await?;
        Ok(stats
            .group(group)
            .and_then(|group| group.lag)
            .is_some_and(|lag| lag > 0))
    }

    /// One pass at time `now_unix_ms`: re-publishes every overdue row (in batches) and returns how
    /// many it re-published; none while the watched group lags (see [`Reconciler::waiting_for`]).
    pub async fn reconcile_once(&self, now_unix_ms: u64) -> Result<usize, ReconcileError> {
        if self.backlogged().await? {
            return Ok(0);
        }
        let grace_ms = u64::try_from(self.grace.as_millis()).unwrap_or(u64::MAX);
        let cutoff = now_unix_ms.saturating_sub(grace_ms);
        let mut total = 0;
        loop {
            let rows = self.source.unfinished_before(cutoff, self.batch).await?;
            if rows.is_empty() {
                return Ok(total);
            }
            let mut ids = Vec::with_capacity(rows.len());
            for row in &rows {
                let envelope = Envelope {
                    id: format!("outbox:{}:{}", row.message.kind(), row.id),
                    first_seen_ms: row.first_seen_ms,
                    attempts: 0,
                    traceparent: row.traceparent.clone(),
                    message: row.message.clone(),
                };
                self.bus.publish(row.message.stream(), &envelope).await?;
                ids.push(row.id);
            }
            self.source.mark_republished(&ids, now_unix_ms).await?;
            tracing::info!(count = ids.len(), "re-published unfinished outbox rows");
            total += ids.len();
            if rows.len() < self.batch {
                return Ok(total);
            }
        }
    }

    /// Runs a pass every `interval` until `shutdown` is cancelled; failures are logged and the
    /// next pass retries.
    pub async fn run(&self, interval: Duration, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(e) = self.reconcile_once(now_unix_ms()).await {
                tracing::warn!(error = %e, retryable = e.retryable(), "outbox reconciliation failed");
            }
        }
    }
}
