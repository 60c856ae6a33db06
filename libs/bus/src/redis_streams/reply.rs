//! Turning Redis stream entries into bus types.
//!
//! Owns the field names of stream and dead-letter entries and their parsing. Invariant: parsing a
//! stream entry never fails; whatever is wrong with it ends up in [`Delivery::envelope`] as a
//! [`DecodeError`], so a foreign or corrupt entry is dead-lettered instead of stopping a worker.

use std::collections::HashMap;

use redis::{Value, streams::StreamId};

use crate::{BusError, DeadLetter, DecodeError, Delivery, EntryId, Envelope, StreamEntry};

/// Field holding the JSON envelope in a stream entry.
pub(super) const PAYLOAD: &str = "envelope";
/// Field holding the message kind in a stream entry (for people reading the stream).
pub(super) const KIND: &str = "kind";

/// Fields of a dead-letter entry, in the order they are written.
pub(super) mod dlq {
    pub(in crate::redis_streams) const ORIGIN_STREAM: &str = "origin_stream";
    pub(in crate::redis_streams) const ORIGIN_ID: &str = "origin_id";
    pub(in crate::redis_streams) const GROUP: &str = "group";
    pub(in crate::redis_streams) const REASON: &str = "reason";
    pub(in crate::redis_streams) const ATTEMPTS: &str = "attempts";
    pub(in crate::redis_streams) const DEAD_AT_MS: &str = "dead_at_ms";
    pub(in crate::redis_streams) const KIND: &str = "kind";
    pub(in crate::redis_streams) const PAYLOAD: &str = "payload";
}

fn bytes(v: &Value) -> Option<Vec<u8>> {
    redis::from_redis_value_ref::<Vec<u8>>(v).ok()
}

fn text(map: &HashMap<String, Value>, field: &str) -> Option<String> {
    map.get(field)
        .and_then(bytes)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A delivery of `entry`, delivered `count` times so far.
pub(super) fn delivery(stream: &str, entry: StreamId, count: u32) -> Delivery {
    let (payload, envelope) = match entry.map.get(PAYLOAD).and_then(bytes) {
        Some(raw) => match String::from_utf8(raw) {
            Ok(s) => {
                let envelope = Envelope::decode(&s, count);
                (s, envelope)
            }
            Err(e) => (
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
                Err(DecodeError::NotUtf8),
            ),
        },
        None => (
            all_fields_as_json(&entry.map),
            Err(DecodeError::MissingPayload),
        ),
    };
    Delivery {
        stream: stream.to_owned(),
        id: EntryId(entry.id),
        delivery_count: count,
        payload,
        envelope,
    }
}

/// A stream entry as stored: its envelope, or all its fields for a foreign entry.
pub(super) fn stream_entry(entry: StreamId) -> StreamEntry {
    let payload = text(&entry.map, PAYLOAD).unwrap_or_else(|| all_fields_as_json(&entry.map));
    StreamEntry {
        id: EntryId(entry.id),
        payload,
    }
}

/// The fields of a foreign entry as a JSON object, so its dead letter shows what it held.
fn all_fields_as_json(map: &HashMap<String, Value>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = map
        .keys()
        .map(|k| (k.clone(), text(map, k).unwrap_or_default().into()))
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// A dead letter read back from a dead-letter stream.
pub(super) fn dead_letter(entry: StreamId) -> Result<DeadLetter, BusError> {
    let map = &entry.map;
    let need = |field: &str| {
        text(map, field).ok_or_else(|| {
            BusError::Backend(format!("dead letter {} has no `{field}` field", entry.id))
        })
    };
    Ok(DeadLetter {
        stream: need(dlq::ORIGIN_STREAM)?,
        origin_id: EntryId(need(dlq::ORIGIN_ID)?),
        group: need(dlq::GROUP)?,
        reason: need(dlq::REASON)?,
        attempts: need(dlq::ATTEMPTS)?.parse().unwrap_or(0),
        dead_at_ms: need(dlq::DEAD_AT_MS)?.parse().unwrap_or(0),
        payload: need(dlq::PAYLOAD)?,
        id: EntryId(entry.id.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fields: &[(&str, &[u8])]) -> StreamId {
        StreamId {
            id: "1-0".into(),
            map: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::BulkString(v.to_vec())))
                .collect(),
            ..StreamId::default()
        }
    }

    #[test]
    fn foreign_entries_become_decode_errors_not_failures() {
        let d = delivery("events", entry(&[("other", b"x")]), 1);
        assert_eq!(d.envelope.unwrap_err(), DecodeError::MissingPayload);
        assert_eq!(d.payload, r#"{"other":"x"}"#);
        let d = delivery("events", entry(&[(PAYLOAD, &[0xff, 0xfe])]), 2);
        assert_eq!(d.envelope.unwrap_err(), DecodeError::NotUtf8);
        assert_eq!(d.delivery_count, 2);
    }

    #[test]
    fn a_dead_letter_missing_a_field_is_reported() {
        let err = dead_letter(entry(&[(dlq::ORIGIN_STREAM, b"events")])).unwrap_err();
        assert!(err.to_string().contains("origin_id"), "{err}");
    }
}
