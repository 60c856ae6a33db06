//! [`EnvelopeHead`]: the cheap view of a post-call webhook that the gateway needs to deduplicate,
//! store and route it before acknowledging.
//!
//! Reads `type`, `event_timestamp`, `data.conversation_id` and `data.agent_id`; everything else is
//! skipped without being built, and strings are borrowed from the body unless they contain escapes.
//! Because the body has already been signature-checked and may be of an undocumented `type`, the
//! reading of `data` is lenient: a `data` that is not an object, or ids that are not strings, read
//! as absent; so does a whole `data` with a string JSON allows but that does not decode (an
//! escaped lone surrogate), for an undocumented kind, as the workers' parse keeps such a `data`
//! raw. Only the documented kinds then insist on a non-empty `data.conversation_id`.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::EventKind;
use super::envelope::{CONVERSATION_ID_PATH, CONVERSATION_ID_RULE};
use crate::payload::{PayloadError, parse_within};
use crate::serde_util::unix_secs;

/// The envelope fields and ids of a post-call webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeHead<'a> {
    /// `type` exactly as sent.
    pub event_type: Cow<'a, str>,
    /// `type` classified.
    pub kind: EventKind,
    /// `event_timestamp`, unix seconds.
    pub event_timestamp: u64,
    /// `data.conversation_id`; always a non-empty `Some` for the documented kinds.
    pub conversation_id: Option<Cow<'a, str>>,
    /// `data.agent_id`, if it is a string.
    pub agent_id: Option<Cow<'a, str>>,
}

impl<'a> EnvelopeHead<'a> {
    /// Reads the envelope fields and the ids from a raw webhook body.
    ///
    /// # Errors
    /// [`PayloadError`] (with the field path) if the body is not JSON, lacks a string `type` or a
    /// valid `event_timestamp`, or is a known kind without a non-empty `data.conversation_id`.
    pub fn parse(body: &'a [u8]) -> Result<Self, PayloadError> {
        let wire: HeadWire<'a> = match parse_within(body, None) {
            Ok(wire) => wire,
            Err(error) => match parse_within::<BareHead<'a>>(body, None) {
                // `data` holds a string that JSON allows but that does not decode (an escaped
                // lone surrogate): an undocumented type is still acknowledged, without ids.
                Ok(bare) if !documented(EventKind::from_type(&bare.event_type.0)) => HeadWire {
                    event_type: bare.event_type,
                    event_timestamp: bare.event_timestamp,
                    data: None,
                },
                _ => return Err(error),
            },
        };
        let kind = EventKind::from_type(&wire.event_type.0);
        let ids = wire.data.unwrap_or_default();
        let conversation_id = ids.conversation_id.filter(|id| !id.is_empty());
        if documented(kind) && conversation_id.is_none() {
            return Err(PayloadError::invalid(
                CONVERSATION_ID_PATH,
                CONVERSATION_ID_RULE,
            ));
        }
        Ok(Self {
            event_type: wire.event_type.0,
            kind,
            event_timestamp: wire.event_timestamp,
            conversation_id,
            agent_id: ids.agent_id,
        })
    }
}

/// Whether ElevenLabs documents this kind's payload. The unredacted variants' payloads are
/// undocumented: without an id they are still acknowledged (or dropped), never refused.
fn documented(kind: EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Unknown | EventKind::UnredactedTranscription | EventKind::UnredactedAudio
    )
}

/// A string that borrows from the input unless it contains escapes.
#[derive(Deserialize)]
pub(super) struct CowStr<'a>(#[serde(borrow)] pub(super) Cow<'a, str>);

#[derive(Deserialize)]
struct HeadWire<'a> {
    #[serde(rename = "type", borrow)]
    event_type: CowStr<'a>,
    #[serde(deserialize_with = "unix_secs")]
    event_timestamp: u64,
    #[serde(default, borrow)]
    data: Option<DataIds<'a>>,
}

/// The envelope alone, `data` skipped without decoding its strings.
#[derive(Deserialize)]
struct BareHead<'a> {
    #[serde(rename = "type", borrow)]
    event_type: CowStr<'a>,
    #[serde(deserialize_with = "unix_secs")]
    event_timestamp: u64,
    #[serde(default, rename = "data")]
    _data: Option<IgnoredAny>,
}

/// The ids inside `data`, read leniently (see the module docs).
#[derive(Default)]
struct DataIds<'a> {
    conversation_id: Option<Cow<'a, str>>,
    agent_id: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for DataIds<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `DataIds<'de>` shortens to `DataIds<'a>` because `'de: 'a`.
        deserializer.deserialize_any(DataIdsVisitor)
    }
}

struct DataIdsVisitor;

impl<'de> Visitor<'de> for DataIdsVisitor {
    type Value = DataIds<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ids = DataIds::default();
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            match &*key.0 {
                "conversation_id" => ids.conversation_id = map.next_value::<LenientStr<'de>>()?.0,
                "agent_id" => ids.agent_id = map.next_value::<LenientStr<'de>>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(ids)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(DataIds::default())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(DataIds::default())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(DataIds::default())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(DataIds::default())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(DataIds::default())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(DataIds::default())
    }
}

/// A value read as a string if it is one, and skipped (as `None`) otherwise.
struct LenientStr<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for LenientStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientStrVisitor)
    }
}

struct LenientStrVisitor;

impl<'de> Visitor<'de> for LenientStrVisitor {
    type Value = LenientStr<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(LenientStr(Some(Cow::Borrowed(value))))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(LenientStr(Some(Cow::Owned(value.to_owned()))))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        IgnoredAny.visit_map(map)?;
        Ok(LenientStr(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(LenientStr(None))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }
}

#[cfg(test)]
mod tests;
