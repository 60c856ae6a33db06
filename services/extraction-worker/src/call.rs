//! Turns ElevenLabs payloads into what the store records: a call with its turns and analysis.
//!
//! Turn indexes are positions in the delivered transcript, tool turns included, so the turn
//! indexes memories cite line up with the raw event. What the caller and agent said, the
//! platform's summary and its analysis results are redacted here, each under its field's
//! redaction policy (`privacy.redaction`), before anything is stored; the turns read by the
//! extractor and cut into episodes are redacted under those fields' policies (see `prepare`).

use memvox_core::redact::{Field, FieldPolicy, RedactionPolicy};
use memvox_core::{CallOutcome, Conversation, ConversationStatus, Role, Turn};
use memvox_elevenlabs::post_call::{
    Analysis, InitiationFailureData, Role as WireRole, TranscriptionData,
};
use memvox_store::{CallAnalysis, CallRecord};

/// Seconds to milliseconds, saturating.
pub fn secs_to_millis(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The turns of a transcript, indexed as delivered, redacted under `policy`. Unknown roles
/// count as the agent side: only what the caller says is taken as the caller's own words.
pub fn turns(data: &TranscriptionData, policy: FieldPolicy) -> Vec<Turn> {
    data.transcript
        .iter()
        .enumerate()
        .map(|(index, turn)| Turn {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            role: match turn.role {
                WireRole::User => Role::User,
                _ => Role::Agent,
            },
            message: turn.text().map(|text| policy.apply(text).into_owned()),
            time_in_call_secs: i64::try_from(turn.time_in_call_secs).unwrap_or(i64::MAX),
        })
        .collect()
}

/// The call record of a transcription webhook, for `user_id` (if identified), redacted under
/// `policy`.
pub fn transcription_record(
    data: &TranscriptionData,
    user_id: Option<&str>,
    policy: &RedactionPolicy,
) -> CallRecord {
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
        turns: turns(data, policy.field(Field::TranscriptTurns)),
        analysis: data
            .analysis
            .as_ref()
            .map(|analysis| analysis_record(analysis, policy)),
    }
}

fn analysis_record(analysis: &Analysis, policy: &RedactionPolicy) -> CallAnalysis {
    let results = policy.field(Field::AnalysisResults);
    let redacted = |value: serde_json::Result<serde_json::Value>| {
        value.ok().map(|mut value| {
            results.apply_json(&mut value);
            value
        })
    };
    CallAnalysis {
        summary: Some(analysis.transcript_summary.trim())
            .filter(|s| !s.is_empty())
            .map(|s| policy.field(Field::Summaries).apply(s).into_owned()),
        outcome: CallOutcome::from_wire(analysis.call_successful.as_str()),
        evaluation: redacted(serde_json::to_value(&analysis.evaluation_criteria_results)),
        data_collection: redacted(serde_json::to_value(&analysis.data_collection_results)),
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
