//! `data` of a `post_call_transcription` webhook (the GET-conversation model) and the questions
//! the workers ask of it: who was on the line, which memory user, what was said and when.
//!
//! Spec §1.3. The transcript may be absent (`exclude_transcript`), `analysis` and
//! `conversation_initiation_client_data` may be `null`; every accessor handles that. Empty strings
//! count as absent everywhere, because our initiation response sends `""` for unknown callers.
//! Turn indexes are positions in `transcript` (kept for provenance), counting tool turns too.

use serde::{Deserialize, Serialize};

use super::analysis::Analysis;
use super::client_data::InitiationClientData;
use super::metadata::{ConversationMetadata, Direction};
use super::transcript::{Role, ToolCall, ToolResult, TranscriptTurn};
use crate::open_enum::open_enum;
use crate::serde_util::null_as_default;

open_enum! {
    /// Conversation processing status (webhooks normally carry `done`).
    pub enum ConversationStatus {
        /// Started.
        Initiated => "initiated",
        /// Ongoing.
        InProgress => "in-progress",
        /// Ended, analysis running.
        Processing => "processing",
        /// Complete.
        Done => "done",
        /// Failed.
        Failed => "failed",
    }
}

/// `data` of a `post_call_transcription` webhook (`GetConversationResponseModel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptionData {
    /// Agent that took the call.
    pub agent_id: String,
    /// Agent name at the time of the call.
    #[serde(default)]
    pub agent_name: Option<String>,
    /// Conversation id (`conv_...`); the idempotency key together with the event type.
    pub conversation_id: String,
    /// Processing status.
    pub status: ConversationStatus,
    /// The `user_id` given at initiation (our memory user id when we answered the init webhook).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Agent branch.
    #[serde(default)]
    pub branch_id: Option<String>,
    /// Agent version.
    #[serde(default)]
    pub version_id: Option<String>,
    /// Agent environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// Turns in order; empty when the transcript was excluded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub transcript: Vec<TranscriptTurn>,
    /// Timing and telephony.
    pub metadata: ConversationMetadata,
    /// Post-call analysis.
    #[serde(default)]
    pub analysis: Option<Analysis>,
    /// What the conversation was started with.
    #[serde(default)]
    pub conversation_initiation_client_data: Option<InitiationClientData>,
    /// Whether audio exists for the conversation.
    #[serde(default)]
    pub has_audio: Option<bool>,
    /// Number of user messages.
    #[serde(default)]
    pub user_message_count: Option<u32>,
    /// Number of agent messages.
    #[serde(default)]
    pub agent_message_count: Option<u32>,
}

/// A turn with text, as returned by [`TranscriptionData::messages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// Position of the turn in `transcript`.
    pub turn_index: usize,
    /// Speaker.
    pub role: &'a Role,
    /// The text (never blank).
    pub text: &'a str,
    /// Seconds since the call started.
    pub time_in_call_secs: u64,
    /// When it was said, unix seconds.
    pub time_unix_secs: u64,
}

impl TranscriptionData {
    /// Direction of a phone call, if this was one.
    pub fn direction(&self) -> Option<&Direction> {
        self.metadata.phone_call.as_ref()?.direction.as_ref()
    }

    /// Phone number of the person on the other end of the line: the caller on inbound calls, the
    /// person dialled on outbound ones. From `metadata.phone_call.external_number`; without it,
    /// from the dynamic variables: `system__called_number` on an outbound call, else
    /// `system__caller_id`. A call is outbound when `metadata.phone_call.direction` says so or,
    /// without a direction, when `system__caller_id` is our own number (`is_own`, or the
    /// call's `agent_number`) — on outbound calls `system__caller_id` is our number.
    pub fn remote_number(&self, is_own: impl Fn(&str) -> bool) -> Option<&str> {
        let phone = self.metadata.phone_call.as_ref();
        if let Some(number) = phone.and_then(|phone| phone.external_number()) {
            return Some(number);
        }
        let caller = self.variable_str("system__caller_id");
        let agent_number = phone.and_then(|phone| phone.agent_number.as_deref());
        let outbound = match self.direction() {
            Some(Direction::Outbound) => true,
            Some(Direction::Inbound) => false,
            _ => caller.is_some_and(|caller| is_own(caller) || Some(caller) == agent_number),
        };
        if outbound {
            self.variable_str("system__called_number")
        } else {
            caller
        }
    }

    /// The memory user id: `data.user_id`, else the initiation data's `user_id`, else the dynamic
    /// variable `memory_user_id` (ours), else `user_id` (the seed plan's); non-empty strings only.
    pub fn user_id(&self) -> Option<&str> {
        let client = self.conversation_initiation_client_data.as_ref();
        non_empty(self.user_id.as_deref())
            .or_else(|| non_empty(client?.user_id.as_deref()))
            .or_else(|| self.variable_str("memory_user_id"))
            .or_else(|| self.variable_str("user_id"))
    }

    /// Dynamic variable `name` from the initiation data, if it is a non-empty string.
    pub fn variable_str(&self, name: &str) -> Option<&str> {
        self.conversation_initiation_client_data
            .as_ref()?
            .variable_str(name)
    }

    /// When the call ended, unix seconds (start + duration).
    pub fn end_time_unix_secs(&self) -> u64 {
        self.metadata.end_time_unix_secs()
    }

    /// When `turn` happened, unix seconds (start + its offset).
    pub fn turn_time_unix_secs(&self, turn: &TranscriptTurn) -> u64 {
        self.metadata.at_offset_unix_secs(turn.time_in_call_secs)
    }

    /// Turns that carry text, in order; tool turns (`message: null`) and blank messages skipped.
    pub fn messages(&self) -> impl Iterator<Item = Message<'_>> {
        self.transcript
            .iter()
            .enumerate()
            .filter_map(|(turn_index, turn)| {
                Some(Message {
                    turn_index,
                    role: &turn.role,
                    text: turn.text()?,
                    time_in_call_secs: turn.time_in_call_secs,
                    time_unix_secs: self.turn_time_unix_secs(turn),
                })
            })
    }

    /// Every tool call with the index of its turn.
    pub fn tool_calls(&self) -> impl Iterator<Item = (usize, &ToolCall)> {
        self.transcript
            .iter()
            .enumerate()
            .flat_map(|(index, turn)| turn.tool_calls.iter().map(move |call| (index, call)))
    }

    /// The result of the tool call `request_id`, wherever in the transcript it is.
    pub fn tool_result(&self, request_id: &str) -> Option<&ToolResult> {
        self.transcript
            .iter()
            .flat_map(|turn| &turn.tool_results)
            .find(|result| result.request_id == request_id)
    }

    /// The analysis summary, if present and non-blank.
    pub fn summary(&self) -> Option<&str> {
        let summary = self.analysis.as_ref()?.transcript_summary.trim();
        (!summary.is_empty()).then_some(summary)
    }

    /// Action items from the `action_items` data-collection result (see
    /// [`Analysis::action_items`]); empty without analysis.
    pub fn action_items(&self) -> Vec<String> {
        self.analysis
            .as_ref()
            .map(Analysis::action_items)
            .unwrap_or_default()
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests;
