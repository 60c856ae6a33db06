//! The post-call webhook envelope `{type, event_timestamp, data}`, parsed two ways.
//!
//! * [`EnvelopeHead::parse`](super::EnvelopeHead::parse) (module `head`) is for the acknowledging
//!   gateway: it reads only the envelope and the ids.
//! * [`WebhookEvent::parse`] is for workers: it reads `data` once into the type named by `type`.
//!
//! There is no event id on the wire; the idempotency key is `(type, data.conversation_id)`
//! (spec §6). Unknown `type`s parse successfully as [`EventKind::Unknown`] so they can be
//! acknowledged and logged, never rejected (a 4xx counts towards auto-disabling the webhook).
//! `event_timestamp` is unix seconds, as an integer or a numeric string.
//!
//! `unredacted_transcript` and `unredacted_audio` are the variants of `post_call_transcription`
//! and `post_call_audio` that ElevenLabs sends, on their own subscriptions, when its
//! conversation-history redaction is on for the agent: the same call without that redaction.
//! ElevenLabs documents the subscription names, not these payloads; they are read as their
//! redacted counterparts' (`data` of the same shape), and [`EventKind::redacted`] names the
//! counterpart.
//!
//! Invariant: for the three documented types both parsers require a string
//! `data.conversation_id`, so an event of those that parsed always has an idempotency key.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::head::CowStr;
use super::{AudioData, InitiationFailureData, TranscriptionData};
use crate::payload::{PayloadError, parse_within};
use crate::serde_util::unix_secs;

/// Where the idempotency key lives, for errors.
pub(super) const CONVERSATION_ID_PATH: &str = "data.conversation_id";
/// The rule known event types must meet.
pub(super) const CONVERSATION_ID_RULE: &str = "conversation_id must be a non-empty string";

/// Which post-call event a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `post_call_transcription`.
    Transcription,
    /// `post_call_audio`.
    Audio,
    /// `call_initiation_failure`.
    InitiationFailure,
    /// `unredacted_transcript`: a transcription without ElevenLabs' redaction.
    UnredactedTranscription,
    /// `unredacted_audio`: the audio without ElevenLabs' redaction (no bleeps).
    UnredactedAudio,
    /// Any other `type`: acknowledge and log.
    Unknown,
}

impl EventKind {
    /// Classifies a wire `type`.
    pub fn from_type(event_type: &str) -> Self {
        match event_type {
            "post_call_transcription" => Self::Transcription,
            "post_call_audio" => Self::Audio,
            "call_initiation_failure" => Self::InitiationFailure,
            "unredacted_transcript" => Self::UnredactedTranscription,
            "unredacted_audio" => Self::UnredactedAudio,
            _ => Self::Unknown,
        }
    }

    /// The kind this one is the unredacted variant of; itself for every other kind.
    pub fn redacted(self) -> Self {
        match self {
            Self::UnredactedTranscription => Self::Transcription,
            Self::UnredactedAudio => Self::Audio,
            kind => kind,
        }
    }

    /// Whether this is an unredacted variant.
    pub fn is_unredacted(self) -> bool {
        self.redacted() != self
    }

    /// The wire `type` of a known kind; `None` for `Unknown`.
    pub fn wire_type(self) -> Option<&'static str> {
        match self {
            Self::Transcription => Some("post_call_transcription"),
            Self::Audio => Some("post_call_audio"),
            Self::InitiationFailure => Some("call_initiation_failure"),
            Self::UnredactedTranscription => Some("unredacted_transcript"),
            Self::UnredactedAudio => Some("unredacted_audio"),
            Self::Unknown => None,
        }
    }
}

/// A fully parsed post-call webhook.
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    /// `event_timestamp`, unix seconds.
    pub event_timestamp: u64,
    /// The event is an unredacted variant (`unredacted_transcript`, `unredacted_audio`); its
    /// payload is read as the redacted counterpart's.
    pub unredacted: bool,
    /// `data`, typed by `type`.
    pub payload: EventPayload,
}

/// `data` of a post-call webhook, by `type`.
#[derive(Debug, Clone)]
pub enum EventPayload {
    /// `post_call_transcription`.
    Transcription(Box<TranscriptionData>),
    /// `post_call_audio`.
    Audio(AudioData),
    /// `call_initiation_failure`.
    InitiationFailure(InitiationFailureData),
    /// Any other `type`, with `data` kept as raw JSON (`None` if absent).
    Unknown {
        /// `type` as sent.
        event_type: String,
        /// `data` as sent.
        data: Option<Box<RawValue>>,
    },
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "type", borrow)]
    event_type: CowStr<'a>,
    #[serde(deserialize_with = "unix_secs")]
    event_timestamp: u64,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
}

impl WebhookEvent {
    /// Parses a raw webhook body, reading `data` into the type its `type` names.
    ///
    /// # Errors
    /// [`PayloadError`] with the field path (e.g. `data.transcript[2].role`) if the body does not
    /// match; an unknown `type` is not an error.
    pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
        let raw: RawEnvelope<'_> = parse_within(body, None)?;
        let event_type = raw.event_type.0;
        let kind = EventKind::from_type(&event_type);
        let payload = match kind.redacted() {
            EventKind::Transcription => {
                EventPayload::Transcription(Box::new(parse_data(raw.data)?))
            }
            EventKind::Audio => EventPayload::Audio(parse_data(raw.data)?),
            EventKind::InitiationFailure => EventPayload::InitiationFailure(parse_data(raw.data)?),
            EventKind::Unknown
            | EventKind::UnredactedTranscription
            | EventKind::UnredactedAudio => EventPayload::Unknown {
                event_type: event_type.into_owned(),
                data: raw.data.map(RawValue::to_owned),
            },
        };
        let event = Self {
            event_timestamp: raw.event_timestamp,
            unredacted: kind.is_unredacted(),
            payload,
        };
        if event.conversation_id() == Some("") {
            return Err(PayloadError::invalid(
                CONVERSATION_ID_PATH,
                CONVERSATION_ID_RULE,
            ));
        }
        Ok(event)
    }

    /// The event's kind (an unredacted variant's own).
    pub fn kind(&self) -> EventKind {
        match &self.payload {
            EventPayload::Transcription(_) if self.unredacted => EventKind::UnredactedTranscription,
            EventPayload::Audio(_) if self.unredacted => EventKind::UnredactedAudio,
            EventPayload::Transcription(_) => EventKind::Transcription,
            EventPayload::Audio(_) => EventKind::Audio,
            EventPayload::InitiationFailure(_) => EventKind::InitiationFailure,
            EventPayload::Unknown { .. } => EventKind::Unknown,
        }
    }

    /// `type` as on the wire.
    pub fn event_type(&self) -> &str {
        match &self.payload {
            EventPayload::Unknown { event_type, .. } => event_type,
            _ => self.kind().wire_type().unwrap_or_default(),
        }
    }

    /// `data.conversation_id`; `None` only for unknown kinds.
    pub fn conversation_id(&self) -> Option<&str> {
        match &self.payload {
            EventPayload::Transcription(data) => Some(&data.conversation_id),
            EventPayload::Audio(data) => Some(&data.conversation_id),
            EventPayload::InitiationFailure(data) => Some(&data.conversation_id),
            EventPayload::Unknown { .. } => None,
        }
    }
}

fn parse_data<T: serde::de::DeserializeOwned>(data: Option<&RawValue>) -> Result<T, PayloadError> {
    let data = data.ok_or_else(|| PayloadError::missing(".", "data"))?;
    parse_within(data.get().as_bytes(), Some("data"))
}

/// Serialises back to the wire envelope (used by tests and the load generator).
impl Serialize for WebhookEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut envelope = serializer.serialize_struct("WebhookEvent", 3)?;
        envelope.serialize_field("type", self.event_type())?;
        envelope.serialize_field("event_timestamp", &self.event_timestamp)?;
        match &self.payload {
            EventPayload::Transcription(data) => envelope.serialize_field("data", data)?,
            EventPayload::Audio(data) => envelope.serialize_field("data", data)?,
            EventPayload::InitiationFailure(data) => envelope.serialize_field("data", data)?,
            EventPayload::Unknown { data, .. } => envelope.serialize_field("data", data)?,
        }
        envelope.end()
    }
}

#[cfg(test)]
mod tests;
