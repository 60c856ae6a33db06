//! `data` of a `call_initiation_failure` webhook: an (outbound) call that could not be set up.
//!
//! Spec §1.5. `failure_reason` is `busy`, `no-answer` (hyphen) or `unknown`, kept open. The
//! metadata is tagged `twilio` (Twilio StatusCallback form fields, verbatim, all strings) or `sip`
//! (other tags are kept verbatim);
//! SIP numbers may arrive as strings or numbers and are read as text. No SDK model exists for this
//! payload, so every field but the ids is optional.

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;
use crate::serde_util::opt_string_or_number;

open_enum! {
    /// Why the call could not be set up.
    pub enum FailureReason {
        /// The callee was busy.
        Busy => "busy",
        /// Nobody answered.
        NoAnswer => "no-answer",
        /// Unknown.
        Unknown => "unknown",
    }
}

/// `data` of a `call_initiation_failure` webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitiationFailureData {
    /// Agent that placed the call.
    pub agent_id: String,
    /// Conversation id assigned although no conversation happened.
    pub conversation_id: String,
    /// Why it failed.
    pub failure_reason: FailureReason,
    /// Provider details.
    #[serde(default)]
    pub metadata: Option<FailureMetadata>,
}

impl InitiationFailureData {
    /// The number that was dialled (Twilio `To`, SIP `to_number`), if known and non-empty.
    pub fn dialled_number(&self) -> Option<&str> {
        let number = match self.metadata.as_ref()? {
            FailureMetadata::Twilio(body) => body.to.as_deref(),
            FailureMetadata::Sip(body) => body.to_number.as_deref(),
            FailureMetadata::Other { .. } => None,
        };
        number.filter(|number| !number.is_empty())
    }
}

/// `data.metadata`: `{type, body}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "MetadataWire")]
pub enum FailureMetadata {
    /// `twilio`: StatusCallback fields.
    Twilio(TwilioCallStatus),
    /// `sip`: SIP failure details.
    Sip(SipFailure),
    /// A provider this crate does not know, kept verbatim.
    Other {
        /// `type` as sent.
        provider: String,
        /// `body` as sent (`Null` if absent).
        body: serde_json::Value,
    },
}

#[derive(Deserialize)]
struct MetadataWire {
    #[serde(rename = "type")]
    provider: String,
    #[serde(default)]
    body: serde_json::Value,
}

impl TryFrom<MetadataWire> for FailureMetadata {
    type Error = serde_json::Error;

    fn try_from(wire: MetadataWire) -> Result<Self, Self::Error> {
        fn body_or_default<T: Default + serde::de::DeserializeOwned>(
            body: serde_json::Value,
        ) -> Result<T, serde_json::Error> {
            if body.is_null() {
                Ok(T::default())
            } else {
                serde_json::from_value(body)
            }
        }
        Ok(match wire.provider.as_str() {
            "twilio" => Self::Twilio(body_or_default(wire.body)?),
            "sip" => Self::Sip(body_or_default(wire.body)?),
            _ => Self::Other {
                provider: wire.provider,
                body: wire.body,
            },
        })
    }
}

impl Serialize for FailureMetadata {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("FailureMetadata", 2)?;
        match self {
            Self::Twilio(body) => {
                out.serialize_field("type", "twilio")?;
                out.serialize_field("body", body)?;
            }
            Self::Sip(body) => {
                out.serialize_field("type", "sip")?;
                out.serialize_field("body", body)?;
            }
            Self::Other { provider, body } => {
                out.serialize_field("type", provider)?;
                out.serialize_field("body", body)?;
            }
        }
        out.end()
    }
}

/// The Twilio StatusCallback form fields memvox reads (Twilio's own names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TwilioCallStatus {
    /// Twilio call SID.
    #[serde(default)]
    pub call_sid: Option<String>,
    /// `no-answer`, `busy`, `failed`, `canceled`, ...
    #[serde(default)]
    pub call_status: Option<String>,
    /// Calling number.
    #[serde(default)]
    pub from: Option<String>,
    /// Called number.
    #[serde(default)]
    pub to: Option<String>,
    /// `outbound-api`, `inbound`, ...
    #[serde(default)]
    pub direction: Option<String>,
    /// SIP response code, as text.
    #[serde(default)]
    pub sip_response_code: Option<String>,
    /// RFC 2822 time of the callback.
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// SIP failure details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipFailure {
    /// Calling number (string or number on the wire).
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub from_number: Option<String>,
    /// Called number (string or number on the wire).
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub to_number: Option<String>,
    /// SIP status code, e.g. 486.
    #[serde(default)]
    pub sip_status_code: Option<u16>,
    /// SIP status text, e.g. `Busy here`.
    #[serde(default)]
    pub sip_status: Option<String>,
    /// Error description.
    #[serde(default)]
    pub error_reason: Option<String>,
    /// Call SID.
    #[serde(default)]
    pub call_sid: Option<String>,
    /// Internal RPC code.
    #[serde(default)]
    pub twirp_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_numbers_may_be_numeric() {
        let data: InitiationFailureData = serde_json::from_str(
            r#"{"agent_id":"a","conversation_id":"c","failure_reason":"failed-weirdly",
                "metadata":{"type":"sip","body":{"from_number":14155550142,"to_number":14155550199}}}"#,
        )
        .unwrap();
        assert_eq!(data.dialled_number(), Some("14155550199"));
        assert_eq!(
            data.failure_reason,
            FailureReason::Other("failed-weirdly".to_owned())
        );
    }

    #[test]
    fn unknown_provider_and_missing_metadata_are_tolerated() {
        let other: InitiationFailureData = serde_json::from_str(
            r#"{"agent_id":"a","conversation_id":"c","failure_reason":"busy",
                "metadata":{"type":"exotel","body":{"x":1}}}"#,
        )
        .unwrap();
        assert_eq!(
            other.metadata,
            Some(FailureMetadata::Other {
                provider: "exotel".to_owned(),
                body: serde_json::json!({"x": 1})
            })
        );
        assert_eq!(other.dialled_number(), None);
        let none: InitiationFailureData = serde_json::from_str(
            r#"{"agent_id":"a","conversation_id":"c","failure_reason":"unknown"}"#,
        )
        .unwrap();
        assert_eq!(none.metadata, None);
    }

    #[test]
    fn metadata_serialises_back_to_type_and_body() {
        let json = serde_json::json!({"type": "sip", "body": {"to_number": "+1555", "sip_status_code": 486}});
        let metadata: FailureMetadata = serde_json::from_value(json).unwrap();
        assert_eq!(
            serde_json::to_value(&metadata).unwrap()["body"]["sip_status_code"],
            486
        );
        assert_eq!(serde_json::to_value(&metadata).unwrap()["type"], "sip");
        let bad = serde_json::json!({"type": "sip", "body": {"sip_status_code": "busy"}});
        assert!(serde_json::from_value::<FailureMetadata>(bad).is_err());
    }
}
