//! Storing a batch of raw webhook events (the gateway's group commit) with two statements
//! whatever its size: one multi-row insert that skips events of tombstoned conversations and
//! events already stored, then one read of the ids of those it skipped.

use std::collections::{HashMap, HashSet};

use memvox_crypto::Keyring;

use crate::{
    Erased, NewEvent, RecordedEvent, StoreResult,
    dialect::{Conn, Dialect, Record, query},
    encryption::columns,
    sql,
};

/// Values per event in the insert: type, conversation, timestamp, payload, received at,
/// tombstone digest.
const WIDTH: usize = 6;

/// Most events per insert statement (well inside both backends' parameter limits).
const CHUNK: usize = 400;

/// The insert of `rows` events (see [`WIDTH`]): a live tombstone of the conversation, or a row
/// already stored for its type and conversation, inserts nothing.
fn insert_events(rows: usize) -> String {
    format!(
        "INSERT INTO webhook_events \
         (event_type, conversation_id, event_timestamp, payload, received_at) \
         SELECT v.column1, v.column2, CAST(v.column3 AS BIGINT), v.column4, \
         CAST(v.column5 AS BIGINT) FROM (VALUES {}) AS v \
         WHERE NOT EXISTS (SELECT 1 FROM erasure_tombstones t WHERE t.digest = v.column6 \
         AND (t.expires_at IS NULL OR t.expires_at > CAST(v.column5 AS BIGINT))) \
         ON CONFLICT (event_type, conversation_id) DO NOTHING \
         RETURNING id, event_type, conversation_id",
        sql::values_rows(rows, WIDTH)
    )
}

/// An event's identity: type and conversation.
type Key = (String, String);

/// Stores `events` inside an open transaction; for each, in order, its row id and whether this
/// inserted it (the first of several deliveries of one event in the batch did), or `None` when
/// its conversation's tombstone refused it.
pub(crate) async fn record_events_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    events: &[NewEvent],
) -> StoreResult<Vec<Option<RecordedEvent>>> {
    let mut inserted: HashMap<Key, i64> = HashMap::new();
    for chunk in events.chunks(CHUNK) {
        let mut insert = query::<D>(insert_events(chunk.len()));
        for event in chunk {
            let conversation = &event.conversation_id;
            insert = insert
                .bind(&event.event_type)
                .bind(conversation)
                .bind(event.event_timestamp)
                .bind(keyring.encrypt(&event.payload, columns::EVENT_PAYLOAD.at(conversation))?)
                .bind(event.received_at)
                .bind(Erased::Conversation(conversation).digest(keyring));
        }
        for row in insert.fetch_all(&mut *conn).await? {
            let key = (row.value("event_type")?, row.value("conversation_id")?);
            inserted.insert(key, row.value("id")?);
        }
    }
    let skipped: Vec<&NewEvent> = events
        .iter()
        .filter(|e| !inserted.contains_key(&key_of(e)))
        .collect();
    let existing = existing_in::<D>(conn, &skipped).await?;
    let mut first = HashSet::new();
    Ok(events
        .iter()
        .map(|event| {
            let key = key_of(event);
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

fn key_of(event: &NewEvent) -> Key {
    (event.event_type.clone(), event.conversation_id.clone())
}

/// The ids of the rows already stored for `events`' types and conversations.
async fn existing_in<D: Dialect>(
    conn: &mut Conn<D>,
    events: &[&NewEvent],
) -> StoreResult<HashMap<Key, i64>> {
    let mut found = HashMap::new();
    for chunk in events.chunks(CHUNK) {
        let types: HashSet<&str> = chunk.iter().map(|e| e.event_type.as_str()).collect();
        let statement = format!(
            "SELECT id, event_type, conversation_id FROM webhook_events \
             WHERE event_type IN ({}) AND conversation_id IN ({})",
            sql::placeholders(1, types.len()),
            sql::placeholders(1 + types.len(), chunk.len())
        );
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
