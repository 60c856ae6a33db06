//! Events and the outbox: raw webhook events stored once on arrival, published to the bus,
//! processed, retried, dead-lettered and replayed.

use std::collections::HashSet;

use async_trait::async_trait;
use memvox_core::UnixMillis;

use crate::{
    Acceptance, EventStatus, MovedEvent, NewEvent, RecordedEvent, StoreError, StoreResult,
    StoredEvent,
    backend::Backend,
    dialect::{Conn, Dialect, Record, query},
    event_batch::{EVENTS, SealedEvent, record_events_atomically},
    rows::event_from_row,
    sql::{self, INSERT_CHUNK},
};

macro_rules! event_columns {
    () => {
        "id, event_type, conversation_id, event_timestamp, payload, status, attempts, \
         error_message, received_at, published_at, traceparent"
    };
}

/// One raw event.
const SELECT_EVENT: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM webhook_events WHERE id = $1"
);

/// Pending events last published (or received) before `$1`, oldest first, at most `$2`.
const SELECT_STALE_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM webhook_events WHERE status = 'pending' AND COALESCE(published_at, received_at) < $1 \
     ORDER BY id LIMIT $2"
);

/// Records an event's outcome and counts the attempt.
const FINISH_EVENT: &str = "UPDATE webhook_events SET status = $1, error_message = $2, \
     processed_at = $3, attempts = attempts + 1 WHERE id = $4";

/// Marks an event dead-lettered unless it got further than pending (a completed event stays
/// completed).
const ABANDON_EVENT: &str = "UPDATE webhook_events SET status = 'dead_letter', \
     error_message = $1, processed_at = $2 WHERE id = $3 AND status = 'pending'";

/// Puts an event back to pending, as never published.
const REOPEN_EVENT: &str = "UPDATE webhook_events SET status = 'pending', error_message = NULL, \
     published_at = NULL WHERE id = $1";

/// Raw webhook events and their processing state (the outbox).
#[async_trait]
pub trait Events: Send + Sync {
    /// Stores a raw webhook event idempotently on (type, conversation id); an event of an
    /// erased conversation is refused with [`StoreError::Erased`] and nothing is stored.
    async fn record_event(&self, event: &NewEvent) -> StoreResult<RecordedEvent>;

    /// Stores several raw webhook events in one transaction (a group commit: concurrent
    /// deliveries pay for one write transaction together), each as [`Events::record_event`]
    /// would; `None` for an event its conversation's tombstone refused. If the transaction
    /// fails, none is stored and the error is returned.
    async fn record_events(&self, events: &[NewEvent]) -> StoreResult<Vec<Option<RecordedEvent>>>;

    /// Stores concurrent deliveries where the acknowledgement path stores them, in one
    /// transaction: the events table ([`Events::record_events`]), or on SQLite the ingest file
    /// beside the database, whose writer the pipeline never holds. What became of each, in
    /// order. If the transaction fails, none is stored and the error is returned.
    async fn accept_events(&self, events: &[NewEvent]) -> StoreResult<Vec<Acceptance>>;

    /// How many [`Events::accept_events`] calls are worth running at once: 1 where one
    /// connection writes them (SQLite), up to [`MAX_CONCURRENT_ACCEPTANCES`] where the database
    /// runs concurrent transactions and flushes their commits together (PostgreSQL), so that a
    /// batch waiting for its commit does not hold up the next.
    fn concurrent_acceptances(&self) -> usize;

    /// Moves the oldest deliveries in the ingest file (at most `limit`) into the events table,
    /// idempotently, and returns those that are new there, to announce; `None` when nothing
    /// was staged (always, on a store without an ingest file).
    async fn move_staged(&self, limit: usize) -> StoreResult<Option<Vec<MovedEvent>>>;

    /// Reads a raw event.
    async fn get_event(&self, id: i64) -> StoreResult<Option<StoredEvent>>;

    /// Which of `conversation_ids` have an event of `event_type` stored (an import skips them).
    async fn stored_conversations(
        &self,
        event_type: &str,
        conversation_ids: &[String],
    ) -> StoreResult<HashSet<String>>;

    /// Records that events were (re)published to the bus at `at`.
    async fn mark_events_published(&self, ids: &[i64], at: UnixMillis) -> StoreResult<()>;

    /// Records the outcome of processing an event and counts the attempt.
    async fn finish_event(
        &self,
        id: i64,
        status: EventStatus,
        error: Option<&str>,
        at: UnixMillis,
    ) -> StoreResult<()>;

    /// Pending events whose last publish (or receipt, if never published) is before `cutoff`:
    /// the outbox reconciler re-publishes these.
    async fn stale_pending_events(
        &self,
        cutoff: UnixMillis,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>>;

    /// Marks a pending event dead-lettered because the worker gave up on its message
    /// (delivered too often without completing): the outbox reconciler then leaves it, and
    /// `memvox dlq replay` reopens it. An event that completed, or no longer exists, is left
    /// as it is; returns whether the row was marked.
    async fn abandon_event(&self, id: i64, reason: &str, at: UnixMillis) -> StoreResult<bool>;

    /// Puts a dead-lettered event back to pending (operator replay).
    async fn reopen_event(&self, id: i64) -> StoreResult<()>;
}

/// Which of `conversation_ids` have an event of `event_type` in `table` (the events table, or
/// the ingest file's staging table).
pub(crate) async fn conversations_in<D: Dialect>(
    conn: &mut Conn<D>,
    table: &str,
    event_type: &str,
    conversation_ids: &[String],
) -> StoreResult<HashSet<String>> {
    let mut stored = HashSet::new();
    for chunk in conversation_ids.chunks(INSERT_CHUNK) {
        let statement = format!(
            "SELECT conversation_id FROM {table} \
             WHERE event_type = $1 AND conversation_id IN ({})",
            sql::placeholders(2, chunk.len())
        );
        let rows = chunk
            .iter()
            .fold(query::<D>(statement).bind(event_type), |q, id| q.bind(id))
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            stored.insert(row.value("conversation_id")?);
        }
    }
    Ok(stored)
}

/// Stores sealed events into the events table in one transaction.
async fn record_sealed<B: Backend>(
    store: &B,
    events: &[SealedEvent],
) -> StoreResult<Vec<Option<RecordedEvent>>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    record_events_atomically::<B::Sql>(store.writes(), EVENTS, events).await
}

/// Most [`Events::accept_events`] calls worth running at once on PostgreSQL: each holds one of
/// the pool's connections for a round trip and its commit (closed loop of 64 deliveries against
/// the gateway on PostgreSQL: README, "Performance").
pub const MAX_CONCURRENT_ACCEPTANCES: usize = 4;

#[async_trait]
impl<B: Backend> Events for B {
    fn concurrent_acceptances(&self) -> usize {
        if self.staging().is_some() {
            return 1;
        }
        usize::try_from(self.writes().options().get_max_connections())
            .unwrap_or(1)
            .clamp(1, MAX_CONCURRENT_ACCEPTANCES)
    }

    async fn record_event(&self, event: &NewEvent) -> StoreResult<RecordedEvent> {
        self.record_events(std::slice::from_ref(event))
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| StoreError::Erased {
                what: "the event's conversation".to_owned(),
            })
    }

    async fn record_events(&self, events: &[NewEvent]) -> StoreResult<Vec<Option<RecordedEvent>>> {
        let sealed = SealedEvent::seal_all(&self.core().keyring, events)?;
        record_sealed(self, &sealed).await
    }

    async fn accept_events(&self, events: &[NewEvent]) -> StoreResult<Vec<Acceptance>> {
        let sealed = SealedEvent::seal_all(&self.core().keyring, events)?;
        if let Some(staging) = self.staging() {
            return staging.stage(&sealed).await;
        }
        // Inserted in key order: concurrent acceptances (the gateway runs several on
        // PostgreSQL) holding the same deliveries then take their keys' locks in one order and
        // never deadlock. The answers go back in the callers' order.
        let mut indexed: Vec<(usize, SealedEvent)> = sealed.into_iter().enumerate().collect();
        indexed.sort_by_cached_key(|(_, event)| event.key());
        let (positions, sorted): (Vec<usize>, Vec<SealedEvent>) = indexed.into_iter().unzip();
        let recorded = record_sealed(self, &sorted).await?;
        let mut accepted = vec![Acceptance::Erased; events.len()];
        for (position, recorded) in positions.into_iter().zip(recorded) {
            accepted[position] = match recorded {
                Some(r) if r.inserted => Acceptance::Stored(r.id),
                Some(_) => Acceptance::Duplicate,
                None => Acceptance::Erased,
            };
        }
        Ok(accepted)
    }

    async fn move_staged(&self, limit: usize) -> StoreResult<Option<Vec<MovedEvent>>> {
        let Some(staging) = self.staging() else {
            return Ok(None);
        };
        let taken = staging.take(&self.core().keyring, limit).await?;
        if taken.is_empty() {
            return Ok(None);
        }
        let (ids, sealed): (Vec<i64>, Vec<SealedEvent>) = taken.into_iter().unzip();
        let recorded = record_sealed(self, &sealed).await?;
        staging.forget(&ids).await?;
        Ok(Some(
            sealed
                .into_iter()
                .zip(recorded)
                .filter_map(|(event, recorded)| {
                    recorded.filter(|r| r.inserted).map(|r| MovedEvent {
                        id: r.id,
                        event_type: event.event_type,
                        conversation_id: event.conversation_id,
                        traceparent: event.traceparent,
                    })
                })
                .collect(),
        ))
    }

    async fn get_event(&self, id: i64) -> StoreResult<Option<StoredEvent>> {
        let row = query::<B::Sql>(SELECT_EVENT)
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref()
            .map(|r| event_from_row(&self.core().keyring, r))
            .transpose()
    }

    async fn stored_conversations(
        &self,
        event_type: &str,
        conversation_ids: &[String],
    ) -> StoreResult<HashSet<String>> {
        let mut stored = conversations_in::<B::Sql>(
            &mut *self.read().await?,
            "webhook_events",
            event_type,
            conversation_ids,
        )
        .await?;
        if let Some(staging) = self.staging() {
            stored.extend(staging.conversations(event_type, conversation_ids).await?);
        }
        Ok(stored)
    }

    async fn mark_events_published(&self, ids: &[i64], at: UnixMillis) -> StoreResult<()> {
        for chunk in ids.chunks(INSERT_CHUNK) {
            let statement = format!(
                "UPDATE webhook_events SET published_at = $1 WHERE id IN ({})",
                sql::placeholders(2, chunk.len())
            );
            chunk
                .iter()
                .fold(query::<B::Sql>(statement).bind(at), |q, id| q.bind(*id))
                .execute(&mut *self.write().await?)
                .await?;
        }
        Ok(())
    }

    async fn finish_event(
        &self,
        id: i64,
        status: EventStatus,
        error: Option<&str>,
        at: UnixMillis,
    ) -> StoreResult<()> {
        query::<B::Sql>(FINISH_EVENT)
            .bind(status.as_str())
            .bind(error)
            .bind(at)
            .bind(id)
            .execute_expecting(&mut *self.write().await?, || format!("event {id}"))
            .await?;
        Ok(())
    }

    async fn stale_pending_events(
        &self,
        cutoff: UnixMillis,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = query::<B::Sql>(SELECT_STALE_EVENTS)
            .bind(cutoff)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter()
            .map(|r| event_from_row(&self.core().keyring, r))
            .collect()
    }

    async fn abandon_event(&self, id: i64, reason: &str, at: UnixMillis) -> StoreResult<bool> {
        let marked = query::<B::Sql>(ABANDON_EVENT)
            .bind(reason)
            .bind(at)
            .bind(id)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(marked > 0)
    }

    async fn reopen_event(&self, id: i64) -> StoreResult<()> {
        query::<B::Sql>(REOPEN_EVENT)
            .bind(id)
            .execute_expecting(&mut *self.write().await?, || format!("event {id}"))
            .await?;
        Ok(())
    }
}
