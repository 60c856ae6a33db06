//! The Conversations API (`GET /v1/convai/conversations`, `GET /v1/convai/conversations/{id}`)
//! as memvox reads it to import past calls, and the turn of a conversation's details into the
//! post-call event a webhook would have delivered.
//!
//! Shapes: `GetConversationsPageResponseModel` {`conversations`, `next_cursor`, `has_more`} and
//! its `ConversationSummaryResponseModel` items (only the fields memvox uses are read; unknown
//! fields are ignored), and `GetConversationResponseModel`, which is the `data` of a
//! `post_call_transcription` webhook ("will match the GET Conversation response format
//! exactly", spec §1.3). Samples: `fixtures/elevenlabs/api_conversations_page_*.json` and
//! `api_conversation_details.json`.
//!
//! Invariant: [`transcription_event`] embeds the details' bytes unchanged as `data`, so what is
//! stored is what the API sent, exactly as the gateway stores a webhook's body.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::payload::{PayloadError, from_slice, parse_within};
use crate::post_call::{ConversationStatus, EventKind, TranscriptionData};

/// Path of the list endpoint.
pub const LIST_PATH: &str = "/v1/convai/conversations";

/// Largest `page_size` the list endpoint accepts.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Path of one conversation's details.
pub fn details_path(conversation_id: &str) -> String {
    format!("{LIST_PATH}/{conversation_id}")
}

/// One page of the list (`GetConversationsPageResponseModel`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConversationsPage {
    /// The conversations of this page, newest call start first unless asked otherwise.
    pub conversations: Vec<ConversationSummary>,
    /// The `cursor` of the next page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Whether another page follows.
    pub has_more: bool,
}

impl ConversationsPage {
    /// Parses a page.
    ///
    /// # Errors
    /// [`PayloadError`] naming the field that does not fit.
    pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
        from_slice(body)
    }

    /// The cursor of the next page, if there is one: `has_more` with a non-empty
    /// `next_cursor`.
    pub fn next(&self) -> Option<&str> {
        self.next_cursor
            .as_deref()
            .filter(|cursor| self.has_more && !cursor.is_empty())
    }
}

/// A conversation as the list shows it (`ConversationSummaryResponseModel`, the parts memvox
/// uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConversationSummary {
    /// Agent that had the conversation.
    pub agent_id: String,
    /// Conversation id (`conv_...`).
    pub conversation_id: String,
    /// When the call started, unix seconds.
    pub start_time_unix_secs: u64,
    /// Length of the call in seconds (so far, while it runs).
    pub call_duration_secs: u64,
    /// `initiated`, `in-progress`, `processing`, `done` or `failed`.
    pub status: ConversationStatus,
}

impl ConversationSummary {
    /// When the call ended (or, while it runs, its length so far), unix seconds.
    pub fn end_time_unix_secs(&self) -> u64 {
        self.start_time_unix_secs
            .saturating_add(self.call_duration_secs)
    }
}

/// What memvox does with a conversation of a status: ElevenLabs sends the post-call
/// transcription when "a call has finished and analysis is complete", which is `done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// `done`: its details are the post-call transcription.
    Ready,
    /// `initiated`, `in-progress`, `processing` or a status this crate does not know: look again
    /// later.
    NotYet,
    /// `failed`: no post-call transcription will come.
    Never,
}

impl Readiness {
    /// The readiness of `status`.
    pub fn of(status: &ConversationStatus) -> Self {
        match status {
            ConversationStatus::Done => Self::Ready,
            ConversationStatus::Failed => Self::Never,
            ConversationStatus::Initiated
            | ConversationStatus::InProgress
            | ConversationStatus::Processing
            | ConversationStatus::Other(_) => Self::NotYet,
        }
    }
}

/// A `post_call_transcription` event made from a conversation's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedEvent {
    /// The conversation.
    pub conversation_id: String,
    /// `event_timestamp`: when the call ended (start plus duration), unix seconds.
    pub event_timestamp: u64,
    /// The whole event: `{"type":"post_call_transcription","event_timestamp":…,"data":<details>}`.
    pub payload: String,
    /// The details' status (only `done` details make an event worth storing).
    pub status: ConversationStatus,
}

/// Turns the body of `GET /v1/convai/conversations/{id}` into the event a post-call
/// transcription webhook delivers for it.
///
/// # Errors
/// [`PayloadError`] (path under `data`) if the details are not the post-call model, or are of
/// another conversation than `conversation_id`.
pub fn transcription_event(
    conversation_id: &str,
    details: &[u8],
) -> Result<ImportedEvent, PayloadError> {
    let data: TranscriptionData = parse_within(details, Some("data"))?;
    if data.conversation_id != conversation_id {
        return Err(PayloadError::invalid(
            "data.conversation_id",
            "the details are of another conversation than the one asked for",
        ));
    }
    // Parsed above, so valid JSON: embedding it as it came keeps every field the API sent.
    let raw: &RawValue = parse_within(details, Some("data"))?;
    let event_timestamp = data.metadata.end_time_unix_secs();
    let event_type = EventKind::Transcription.wire_type().unwrap_or_default();
    let payload = format!(
        r#"{{"type":"{event_type}","event_timestamp":{event_timestamp},"data":{}}}"#,
        raw.get()
    );
    Ok(ImportedEvent {
        conversation_id: data.conversation_id,
        event_timestamp,
        payload,
        status: data.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebhookEvent;
    use crate::post_call::EventPayload;

    const DETAILS: &str = r#"{"agent_id":"agent_1","conversation_id":"conv_1","status":"done",
        "transcript":[{"role":"user","message":"Hi","time_in_call_secs":0}],
        "metadata":{"start_time_unix_secs":1767225600,"call_duration_secs":45},
        "has_audio":false,"has_user_audio":false,"has_response_audio":false,"new_field":[1,2]}"#;

    #[test]
    fn details_become_the_webhook_event_with_data_unchanged() {
        let event = transcription_event("conv_1", DETAILS.as_bytes()).unwrap();
        assert_eq!(event.event_timestamp, 1_767_225_645);
        assert_eq!(event.status, ConversationStatus::Done);
        let parsed = WebhookEvent::parse(event.payload.as_bytes()).unwrap();
        assert_eq!(parsed.kind(), EventKind::Transcription);
        assert_eq!(parsed.event_timestamp, 1_767_225_645);
        let EventPayload::Transcription(data) = parsed.payload else {
            panic!("a transcription");
        };
        assert_eq!(data.conversation_id, "conv_1");
        let envelope: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        let original: serde_json::Value = serde_json::from_str(DETAILS).unwrap();
        assert_eq!(envelope["data"], original, "unknown fields kept");
    }

    #[test]
    fn details_of_another_conversation_or_shape_are_refused() {
        let other = transcription_event("conv_2", DETAILS.as_bytes()).unwrap_err();
        assert_eq!(other.path(), "data.conversation_id");
        let broken = transcription_event("conv_1", br#"{"conversation_id":"conv_1"}"#);
        assert_eq!(broken.unwrap_err().path(), "data");
        let not_json = transcription_event("conv_1", b"<html>").unwrap_err();
        assert!(not_json.is_syntax());
    }

    #[test]
    fn next_page_needs_has_more_and_a_cursor() {
        let page = |body: &str| ConversationsPage::parse(body.as_bytes()).unwrap();
        let more = page(r#"{"conversations":[],"next_cursor":"c2","has_more":true}"#);
        assert_eq!(more.next(), Some("c2"));
        let last = page(r#"{"conversations":[],"next_cursor":"c2","has_more":false}"#);
        assert_eq!(last.next(), None);
        let no_cursor = page(r#"{"conversations":[],"next_cursor":null,"has_more":true}"#);
        assert_eq!(no_cursor.next(), None);
    }

    #[test]
    fn readiness_follows_the_status() {
        assert_eq!(Readiness::of(&ConversationStatus::Done), Readiness::Ready);
        assert_eq!(Readiness::of(&ConversationStatus::Failed), Readiness::Never);
        for status in ["initiated", "in-progress", "processing", "archived"] {
            let status = ConversationStatus::from(status);
            assert_eq!(Readiness::of(&status), Readiness::NotYet, "{status}");
        }
    }
}
