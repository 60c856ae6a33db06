//! Messages carried on the bus and their wire encoding.
//!
//! Owns [`Message`] (the serde-tagged enum of everything services tell each other), the
//! [`Envelope`] around it (id, attempt count, first-seen time, trace context) and the decoding of
//! a raw stream entry, which never panics: a malformed entry becomes a [`DecodeError`] that the
//! worker dead-letters with a reason.
//!
//! Invariants:
//! - messages carry ids only, never transcript or memory text, so the bus (and its dead letters,
//!   which operators read) holds no personal content beyond user ids;
//! - each message kind belongs to exactly one stream ([`Message::stream`]);
//! - the JSON shape is `{"id", "first_seen_ms", "attempts", "traceparent", "message": {"kind", ..}}`
//!   and adding a field to a variant must keep old entries decodable (use `#[serde(default)]`).

use serde::{Deserialize, Serialize};

/// Stream of accepted webhook events, published by the gateway, consumed by the extraction worker.
pub const EVENTS: &str = "events";
/// Stream of memory changes, published by the extraction worker and the query service, consumed by
/// the embedding worker.
pub const MEMORIES: &str = "memories";

/// Everything services tell each other, tagged by `kind` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Message {
    /// The gateway stored a webhook event (row `event_id`) and accepted it.
    EventAccepted {
        /// Primary key of the stored raw event row.
        event_id: i64,
        /// ElevenLabs event type, e.g. `post_call_transcription`.
        event_type: String,
        /// ElevenLabs conversation id.
        conversation_id: String,
    },
    /// Memories of a user were created or updated and need embedding, links and a summary refresh.
    MemoriesChanged {
        /// The user whose memories changed.
        user_id: String,
        /// Ids of the changed memories.
        memory_ids: Vec<i64>,
        /// The conversation they were extracted from, when there was one.
        conversation_id: Option<String>,
    },
    /// Memories were returned by a query; their salience is reinforced off the hot path.
    MemoryRecalled {
        /// The user whose memories were recalled.
        user_id: String,
        /// Ids of the recalled memories.
        memory_ids: Vec<i64>,
    },
    /// A user was erased. No longer published — the entry would keep the erased id on the
    /// stream (erasure deletes the user's messages instead, and cached answers are keyed on the
    /// store's version of the user); kept so entries written before still decode.
    UserErased {
        /// The erased user.
        user_id: String,
    },
}

impl Message {
    /// The `kind` tag of this message as written on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::EventAccepted { .. } => "EventAccepted",
            Message::MemoriesChanged { .. } => "MemoriesChanged",
            Message::MemoryRecalled { .. } => "MemoryRecalled",
            Message::UserErased { .. } => "UserErased",
        }
    }

    /// The logical stream this kind of message is published to.
    pub fn stream(&self) -> &'static str {
        match self {
            Message::EventAccepted { .. } => EVENTS,
            Message::MemoriesChanged { .. }
            | Message::MemoryRecalled { .. }
            | Message::UserErased { .. } => MEMORIES,
        }
    }
}

/// A [`Message`] with the metadata every hop needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Message id, stable across redeliveries and replays (not the stream entry id).
    pub id: String,
    /// When the message was first published, in unix milliseconds.
    pub first_seen_ms: u64,
    /// Delivery attempt this copy is on: filled in by the bus on delivery from its pending-entry
    /// list (1 on the first delivery); 0 in an envelope that has not been delivered. Replaying a
    /// dead letter publishes a new entry, so the count starts again at 1.
    pub attempts: u32,
    /// W3C `traceparent` of the span that published the message, to continue the trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The message itself.
    pub message: Message,
}

impl Envelope {
    /// Wraps `message` with a fresh random id, the current time and no trace context.
    pub fn new(message: Message) -> Self {
        Self {
            id: random_id(),
            first_seen_ms: now_unix_ms(),
            attempts: 0,
            traceparent: None,
            message,
        }
    }

    /// Sets the W3C `traceparent` to carry across the bus.
    pub fn with_traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }

    /// Sets the W3C `traceparent` to carry when there is one (`None`: the publisher is not
    /// traced, and neither is the message).
    pub fn with_trace_context(mut self, traceparent: Option<String>) -> Self {
        self.traceparent = traceparent;
        self
    }

    /// The `kind` tag of the carried message.
    pub fn kind(&self) -> &'static str {
        self.message.kind()
    }

    /// Encodes the envelope as the JSON payload stored in a stream entry.
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Decodes a stream entry payload; `delivery_count` becomes [`Envelope::attempts`].
    pub fn decode(payload: &str, delivery_count: u32) -> Result<Self, DecodeError> {
        let mut envelope: Envelope = serde_json::from_str(payload).map_err(DecodeError::from)?;
        envelope.attempts = delivery_count;
        Ok(envelope)
    }
}

/// Why a stream entry could not be turned into an [`Envelope`]. Never retryable: the same bytes
/// decode the same way next time, so the worker dead-letters the entry with this as the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The entry has no payload field (written by something other than this bus).
    #[error("entry has no `envelope` field")]
    MissingPayload,
    /// The payload is not UTF-8.
    #[error("payload is not UTF-8")]
    NotUtf8,
    /// The payload is not JSON.
    #[error("payload is not JSON: {0}")]
    Syntax(String),
    /// The payload is JSON of the wrong shape: unknown `kind`, missing or mistyped fields.
    #[error("payload has the wrong shape: {0}")]
    Shape(String),
}

impl From<serde_json::Error> for DecodeError {
    fn from(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => DecodeError::Shape(e.to_string()),
            _ => DecodeError::Syntax(e.to_string()),
        }
    }
}

/// Current wall-clock time in unix milliseconds ([`memvox_core::now_millis`]) as the bus
/// counts it, unsigned (0 if the clock is before 1970).
pub fn now_unix_ms() -> u64 {
    u64::try_from(memvox_core::now_millis()).unwrap_or(0)
}

fn random_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Message {
        Message::EventAccepted {
            event_id: 7,
            event_type: "post_call_transcription".into(),
            conversation_id: "conv_1".into(),
        }
    }

    #[test]
    fn round_trips_and_takes_attempts_from_the_delivery() {
        let env = Envelope::new(event()).with_traceparent("00-abc-def-01");
        let json = env.encode().unwrap();
        assert!(json.contains(r#""kind":"EventAccepted""#), "{json}");
        let back = Envelope::decode(&json, 3).unwrap();
        assert_eq!(back.attempts, 3);
        assert_eq!(back.message, env.message);
        assert_eq!(back.traceparent.as_deref(), Some("00-abc-def-01"));
    }

    #[test]
    fn every_kind_names_its_stream() {
        assert_eq!(event().stream(), EVENTS);
        let erased = Message::UserErased {
            user_id: "u".into(),
        };
        assert_eq!((erased.kind(), erased.stream()), ("UserErased", MEMORIES));
    }

    #[test]
    fn malformed_payloads_are_classified() {
        assert!(matches!(
            Envelope::decode("{not json", 1),
            Err(DecodeError::Syntax(_))
        ));
        let unknown = r#"{"id":"x","first_seen_ms":1,"attempts":0,"message":{"kind":"Nope"}}"#;
        assert!(
            matches!(Envelope::decode(unknown, 1), Err(DecodeError::Shape(m)) if m.contains("Nope"))
        );
        let missing =
            r#"{"id":"x","first_seen_ms":1,"attempts":0,"message":{"kind":"UserErased"}}"#;
        assert!(
            matches!(Envelope::decode(missing, 1), Err(DecodeError::Shape(m)) if m.contains("user_id"))
        );
    }

    #[test]
    fn ids_are_unique() {
        assert_ne!(Envelope::new(event()).id, Envelope::new(event()).id);
    }
}
