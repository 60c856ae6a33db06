//! Storing a batch of raw webhook events (the gateway's group commit) with two statements
//! whatever its size: one multi-row insert that skips events of tombstoned conversations and
//! events already stored, then one read of the ids of those it skipped.
//!
//! The same statements fill the events table and, on SQLite, the ingest file's staging table
//! ([`EventTable`]): an event is sealed (payload encrypted, tombstone digest computed) once, and
//! moves from the staging table to the events table as those sealed bytes.

use std::collections::{HashMap, HashSet};

use memvox_core::UnixMillis;
use memvox_crypto::Keyring;
use sqlx::Pool;

use crate::{
    Erased, NewEvent, RecordedEvent, StoreResult,
    dialect::{Conn, Dialect, Record, query},
    encryption::columns,
    sql,
};

/// Values per event in the insert: type, conversation, timestamp, payload, received at,
/// tombstone digest, trace context.
const WIDTH: usize = 7;

/// Most events per insert statement (well inside both backends' parameter limits).
const CHUNK: usize = 400;

/// Stores `events` into `table` atomically through `pool` (see [`record_events_in`]). A batch
/// that fits one insert statement runs without BEGIN and COMMIT — one statement is atomic
/// alone, and whatever is read after it is committed already — so it costs one round trip
/// (PostgreSQL) or one hop to SQLite's thread instead of three; a larger one runs in a
/// transaction.
pub(crate) async fn record_events_atomically<D: Dialect>(
    pool: &Pool<D::Db>,
    table: EventTable,
    events: &[SealedEvent],
) -> StoreResult<Vec<Option<RecordedEvent>>> {
    if events.len() <= CHUNK {
        return record_events_in::<D>(&mut *pool.acquire().await?, table, events).await;
    }
    let mut tx = pool.begin().await?;
    let recorded = record_events_in::<D>(&mut tx, table, events).await?;
    tx.commit().await?;
    Ok(recorded)
}

/// A table raw events are inserted into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventTable {
    /// Its name.
    name: &'static str,
    /// Whether an event already in the events table counts as stored too (the staging table's
    /// events end up there).
    behind_events: bool,
}

/// The events table, `webhook_events`: the outbox and the source of truth.
pub(crate) const EVENTS: EventTable = EventTable {
    name: "webhook_events",
    behind_events: false,
};

/// The ingest file's staging table (SQLite), whose rows move to [`EVENTS`].
pub(crate) const STAGED: EventTable = EventTable {
    name: "staged_events",
    behind_events: true,
};

/// A raw event ready to insert: its payload encrypted, its conversation's tombstone digest
/// computed.
#[derive(Debug, Clone)]
pub(crate) struct SealedEvent {
    pub(crate) event_type: String,
    pub(crate) conversation_id: String,
    pub(crate) event_timestamp: i64,
    /// The payload as stored (encrypted when encryption is on).
    pub(crate) payload: String,
    pub(crate) received_at: UnixMillis,
    /// The conversation's tombstone digest.
    pub(crate) digest: String,
    /// The trace context it was accepted under.
    pub(crate) traceparent: Option<String>,
}

impl SealedEvent {
    /// Seals `event` with `keyring`.
    pub(crate) fn seal(keyring: &Keyring, event: &NewEvent) -> StoreResult<Self> {
        let conversation = &event.conversation_id;
        Ok(Self {
            event_type: event.event_type.clone(),
            conversation_id: conversation.clone(),
            event_timestamp: event.event_timestamp,
            payload: keyring.encrypt(&event.payload, columns::EVENT_PAYLOAD.at(conversation))?,
            received_at: event.received_at,
            digest: Erased::Conversation(conversation).digest(keyring),
            traceparent: event.traceparent.clone(),
        })
    }

    /// Seals every event of `events`, in order.
    pub(crate) fn seal_all(keyring: &Keyring, events: &[NewEvent]) -> StoreResult<Vec<Self>> {
        events.iter().map(|e| Self::seal(keyring, e)).collect()
    }

    /// Its identity: type and conversation.
    pub(crate) fn key(&self) -> Key {
        (self.event_type.clone(), self.conversation_id.clone())
    }
}

/// The insert of `rows` events (see [`WIDTH`]) into `table`: a live tombstone of the
/// conversation, or a row already stored for its type and conversation, inserts nothing.
fn insert_events(table: EventTable, rows: usize) -> String {
    let stored_behind = if table.behind_events {
        " AND NOT EXISTS (SELECT 1 FROM webhook_events w \
         WHERE w.event_type = v.column1 AND w.conversation_id = v.column2)"
    } else {
        ""
    };
    format!(
        "INSERT INTO {} \
         (event_type, conversation_id, event_timestamp, payload, received_at, traceparent) \
         SELECT v.column1, v.column2, CAST(v.column3 AS BIGINT), v.column4, \
         CAST(v.column5 AS BIGINT), v.column7 FROM (VALUES {}) AS v \
         WHERE NOT EXISTS (SELECT 1 FROM erasure_tombstones t WHERE t.digest = v.column6 \
         AND (t.expires_at IS NULL OR t.expires_at > CAST(v.column5 AS BIGINT))){stored_behind} \
         ON CONFLICT (event_type, conversation_id) DO NOTHING \
         RETURNING id, event_type, conversation_id",
        table.name,
        sql::values_rows(rows, WIDTH)
    )
}

/// An event's identity: type and conversation.
type Key = (String, String);

/// Stores `events` into `table` inside an open transaction; for each, in order, its row id and
/// whether this inserted it (the first of several deliveries of one event in the batch did), or
/// `None` when its conversation's tombstone refused it. For the staging table, an event already
/// in the events table counts as stored (its id is then the events table's).
pub(crate) async fn record_events_in<D: Dialect>(
    conn: &mut Conn<D>,
    table: EventTable,
    events: &[SealedEvent],
) -> StoreResult<Vec<Option<RecordedEvent>>> {
    let mut inserted: HashMap<Key, i64> = HashMap::new();
    for chunk in events.chunks(CHUNK) {
        let mut insert = query::<D>(insert_events(table, chunk.len()));
        for event in chunk {
            insert = insert
                .bind(&event.event_type)
                .bind(&event.conversation_id)
                .bind(event.event_timestamp)
                .bind(&event.payload)
                .bind(event.received_at)
                .bind(&event.digest)
                .bind(&event.traceparent);
        }
        for row in insert.fetch_all(&mut *conn).await? {
            let key = (row.value("event_type")?, row.value("conversation_id")?);
            inserted.insert(key, row.value("id")?);
        }
    }
    let skipped: Vec<&SealedEvent> = events
        .iter()
        .filter(|e| !inserted.contains_key(&e.key()))
        .collect();
    let existing = existing_in::<D>(conn, table, &skipped).await?;
    let mut first = HashSet::new();
    Ok(events
        .iter()
        .map(|event| {
            let key = event.key();
            match inserted.get(&key) {
                Some(&id) => Some(RecordedEvent {
                    id,
                    inserted: first.insert(key),
                }),
                None => existing.get(&key).map(|&id| RecordedEvent {
                    id,
                    inserted: false,
                }),
            }
        })
        .collect())
}

/// The ids of the rows already stored for `events`' types and conversations.
async fn existing_in<D: Dialect>(
    conn: &mut Conn<D>,
    table: EventTable,
    events: &[&SealedEvent],
) -> StoreResult<HashMap<Key, i64>> {
    let mut found = HashMap::new();
    let tables: &[&str] = if table.behind_events {
        &[table.name, EVENTS.name]
    } else {
        &[table.name]
    };
    for chunk in events.chunks(CHUNK) {
        let types: HashSet<&str> = chunk.iter().map(|e| e.event_type.as_str()).collect();
        let condition = format!(
            "WHERE event_type IN ({}) AND conversation_id IN ({})",
            sql::placeholders(1, types.len()),
            sql::placeholders(1 + types.len(), chunk.len())
        );
        let statement = tables
            .iter()
            .map(|t| format!("SELECT id, event_type, conversation_id FROM {t} {condition}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let select = types.iter().fold(query::<D>(statement), |q, t| q.bind(*t));
        let rows = chunk
            .iter()
            .fold(select, |q, e| q.bind(&e.conversation_id))
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            let key = (row.value("event_type")?, row.value("conversation_id")?);
            found.insert(key, row.value("id")?);
        }
    }
    Ok(found)
}
