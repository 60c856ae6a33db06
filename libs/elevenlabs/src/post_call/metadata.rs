//! `data.metadata` of a `post_call_transcription` webhook: timing, termination and telephony.
//!
//! Spec §1.3.2. Times are unix seconds (not ISO strings); there is no end-time field, so the end is
//! `start_time_unix_secs + call_duration_secs`. `phone_call` is discriminated by `type` (`twilio`,
//! `sip_trunking`, `exotel`); the variants share their fields, so it is one struct with the
//! provider as an open enum rather than a closed enum that a new provider would break.
//! Arithmetic saturates: a hostile duration cannot overflow.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;

/// `data.metadata` (`ConversationHistoryMetadataCommonModel`), the parts memvox uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationMetadata {
    /// When the call started, unix seconds.
    pub start_time_unix_secs: u64,
    /// When the call was accepted, unix seconds.
    #[serde(default)]
    pub accepted_time_unix_secs: Option<u64>,
    /// Length of the call in seconds.
    pub call_duration_secs: u64,
    /// Cost in credits.
    #[serde(default)]
    pub cost: Option<u64>,
    /// Free text, e.g. `Call ended by remote party`.
    #[serde(default)]
    pub termination_reason: Option<String>,
    /// Main language code.
    #[serde(default)]
    pub main_language: Option<String>,
    /// Whether the conversation was text only.
    #[serde(default)]
    pub text_only: Option<bool>,
    /// Agent timezone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Where the conversation came from (`twilio`, `sip_trunk`, `widget`, ...).
    #[serde(default)]
    pub conversation_initiation_source: Option<String>,
    /// Telephony details; `None` for non-phone conversations.
    #[serde(default)]
    pub phone_call: Option<PhoneCall>,
    /// Platform error, if the conversation failed.
    #[serde(default)]
    pub error: Option<ConversationError>,
}

impl ConversationMetadata {
    /// When the call ended: start plus duration, unix seconds.
    pub fn end_time_unix_secs(&self) -> u64 {
        self.start_time_unix_secs
            .saturating_add(self.call_duration_secs)
    }

    /// Absolute time of a moment `offset_secs` into the call, unix seconds.
    pub fn at_offset_unix_secs(&self, offset_secs: u64) -> u64 {
        self.start_time_unix_secs.saturating_add(offset_secs)
    }
}

/// `metadata.error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationError {
    /// Error code.
    pub code: i64,
    /// Human-readable reason.
    #[serde(default)]
    pub reason: Option<String>,
}

open_enum! {
    /// Telephony provider (`metadata.phone_call.type`).
    pub enum PhoneProvider {
        /// Twilio.
        Twilio => "twilio",
        /// SIP trunk.
        SipTrunking => "sip_trunking",
        /// Exotel.
        Exotel => "exotel",
    }
}

open_enum! {
    /// Call direction.
    pub enum Direction {
        /// Someone called the agent.
        Inbound => "inbound",
        /// The agent called someone.
        Outbound => "outbound",
    }
}

/// `metadata.phone_call`, all provider variants in one shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCall {
    /// Provider (the variant tag).
    #[serde(rename = "type")]
    pub provider: PhoneProvider,
    /// Call direction.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// ElevenLabs phone-number id.
    #[serde(default)]
    pub phone_number_id: Option<String>,
    /// Our number.
    #[serde(default)]
    pub agent_number: Option<String>,
    /// The other party: the caller (inbound) or the person dialled (outbound).
    #[serde(default)]
    pub external_number: Option<String>,
    /// `answered`, `voicemail`, `busy`, `no_answer`, `failed`.
    #[serde(default)]
    pub call_result: Option<String>,
    /// Provider call SID.
    #[serde(default)]
    pub call_sid: Option<String>,
    /// Twilio media stream SID.
    #[serde(default)]
    pub stream_sid: Option<String>,
    /// SIP call id (`sip_trunking`).
    #[serde(default)]
    pub call_id: Option<String>,
    /// Custom `X-...` INVITE headers surfaced as variables (`sip_trunking`).
    #[serde(default)]
    pub sip_header_dynamic_variables: Option<BTreeMap<String, serde_json::Value>>,
}

impl PhoneCall {
    /// The other party's number, if present and non-empty.
    pub fn external_number(&self) -> Option<&str> {
        self.external_number.as_deref().filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_time_is_start_plus_duration_and_saturates() {
        let mut metadata: ConversationMetadata =
            serde_json::from_str(r#"{"start_time_unix_secs":100,"call_duration_secs":31}"#)
                .unwrap();
        assert_eq!(metadata.end_time_unix_secs(), 131);
        assert_eq!(metadata.at_offset_unix_secs(9), 109);
        metadata.call_duration_secs = u64::MAX;
        assert_eq!(metadata.end_time_unix_secs(), u64::MAX);
    }

    #[test]
    fn iso_start_time_from_the_seed_plan_is_rejected() {
        let error = serde_json::from_str::<ConversationMetadata>(
            r#"{"start_time":"2025-11-04T18:00:00Z","duration_secs":330}"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("start_time_unix_secs"),
            "{error}"
        );
    }

    #[test]
    fn sip_and_unknown_providers_parse() {
        let sip: PhoneCall = serde_json::from_str(
            r#"{"type":"sip_trunking","direction":"outbound","external_number":"+1555","call_id":"c1",
                "sip_header_dynamic_variables":{"x_account":"42"}}"#,
        )
        .unwrap();
        assert_eq!(sip.provider, PhoneProvider::SipTrunking);
        assert_eq!(sip.direction, Some(Direction::Outbound));
        assert_eq!(sip.call_id.as_deref(), Some("c1"));
        let other: PhoneCall =
            serde_json::from_str(r#"{"type":"vonage","external_number":""}"#).unwrap();
        assert_eq!(other.provider.as_str(), "vonage");
        assert_eq!(other.external_number(), None);
    }
}
