//! Turns ElevenLabs payloads into what the store records: a call with its turns and analysis.
//!
//! Turn indexes are positions in the delivered transcript, tool turns included, so the turn
//! indexes memories cite line up with the raw event. What the caller and agent said, and the
//! platform's summary, are redacted here (card and social security numbers, IBANs, email
//! addresses and phone numbers masked), before anything is extracted, cut into episodes or
//! stored.

use memvox_core::redact::{FieldPolicy, Mode};
use memvox_core::{CallOutcome, Conversation, ConversationStatus, Role, Turn};
use memvox_elevenlabs::post_call::{
    Analysis, InitiationFailureData, Role as WireRole, TranscriptionData,
};
use memvox_store::{CallAnalysis, CallRecord};

/// Every kind of personal data masked.
const MASK_ALL: FieldPolicy = FieldPolicy::uniform(Mode::Mask);

/// Seconds to milliseconds, saturating.
pub fn secs_to_millis(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The turns of a transcript, indexed as delivered, personal numbers and addresses masked
/// (`memvox_core::redact`: everything extracted from or stored of the call is redacted). Unknown
/// roles count as the agent side: only what the caller says is taken as the caller's own words.
pub fn turns(data: &TranscriptionData) -> Vec<Turn> {
    data.transcript
        .iter()
        .enumerate()
        .map(|(index, turn)| Turn {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            role: match turn.role {
                WireRole::User => Role::User,
                _ => Role::Agent,
            },
            message: turn.text().map(|text| MASK_ALL.apply(text).into_owned()),
            time_in_call_secs: i64::try_from(turn.time_in_call_secs).unwrap_or(i64::MAX),
        })
        .collect()
}

/// The call record of a transcription webhook, for `user_id` (if identified).
pub fn transcription_record(data: &TranscriptionData, user_id: Option<&str>) -> CallRecord {
    CallRecord {
        conversation: Conversation {
            conversation_id: data.conversation_id.clone(),
            agent_id: data.agent_id.clone(),
            user_id: user_id.map(str::to_owned),
            started_at: secs_to_millis(data.metadata.start_time_unix_secs),
            duration_secs: i64::try_from(data.metadata.call_duration_secs).ok(),
            status: ConversationStatus::Completed,
            failure_reason: None,
        },
        turns: turns(data),
        analysis: data.analysis.as_ref().map(analysis_record),
    }
}

fn analysis_record(analysis: &Analysis) -> CallAnalysis {
    CallAnalysis {
        summary: Some(analysis.transcript_summary.trim())
            .filter(|s| !s.is_empty())
            .map(|s| MASK_ALL.apply(s).into_owned()),
        outcome: CallOutcome::from_wire(analysis.call_successful.as_str()),
        evaluation: serde_json::to_value(&analysis.evaluation_criteria_results).ok(),
        data_collection: serde_json::to_value(&analysis.data_collection_results).ok(),
    }
}

/// The call record of a `call_initiation_failure`: a failed conversation with its reason.
pub fn failure_record(
    data: &InitiationFailureData,
    event_timestamp_secs: u64,
    user_id: Option<&str>,
) -> CallRecord {
    CallRecord {
        conversation: Conversation {
            conversation_id: data.conversation_id.clone(),
            agent_id: data.agent_id.clone(),
            user_id: user_id.map(str::to_owned),
            started_at: secs_to_millis(event_timestamp_secs),
            duration_secs: None,
            status: ConversationStatus::Failed,
            failure_reason: Some(data.failure_reason.as_str().to_owned()),
        },
        turns: Vec::new(),
        analysis: None,
    }
}
