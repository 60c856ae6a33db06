//! Transcript turns of a `post_call_transcription` webhook, with their tool calls and results.
//!
//! Spec §1.3.1. Only two roles exist (`user`, `agent`); tool calls and results ride on `agent`
//! turns whose `message` is `null`. `params_as_json` and `result_value` are JSON *strings*; they
//! are kept verbatim and parsed on request. Calls and results are joined by `request_id`, never by
//! position. `tool_calls`/`tool_results` may be absent or `null`; both read as empty.

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;
use crate::serde_util::null_as_default;

open_enum! {
    /// Who spoke a turn.
    pub enum Role {
        /// The caller.
        User => "user",
        /// The agent (including its tool calls and results).
        Agent => "agent",
    }
}

open_enum! {
    /// How a user turn reached the agent.
    pub enum SourceMedium {
        /// Speech.
        Audio => "audio",
        /// Keypad tones.
        Dtmf => "dtmf",
        /// Typed text.
        Text => "text",
        /// An image.
        Image => "image",
        /// A file.
        File => "file",
    }
}

/// One turn of the transcript (`ConversationHistoryTranscriptResponseModel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptTurn {
    /// Speaker.
    pub role: Role,
    /// What was said; `None` on pure tool-call / tool-result turns.
    #[serde(default)]
    pub message: Option<String>,
    /// Whole seconds since the call started.
    pub time_in_call_secs: u64,
    /// Tool calls made in this turn.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_calls: Vec<ToolCall>,
    /// Tool results received in this turn.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_results: Vec<ToolResult>,
    /// Whether the speaker was interrupted.
    #[serde(default)]
    pub interrupted: Option<bool>,
    /// The text before any correction.
    #[serde(default)]
    pub original_message: Option<String>,
    /// How the turn arrived (user turns).
    #[serde(default)]
    pub source_medium: Option<SourceMedium>,
}

impl TranscriptTurn {
    /// The spoken text, or `None` for tool turns and blank messages.
    pub fn text(&self) -> Option<&str> {
        self.message
            .as_deref()
            .filter(|text| !text.trim().is_empty())
    }
}

/// A tool call (`ConversationHistoryTranscriptToolCallCommonModelOutput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// `webhook`, `system`, `client`, `mcp`, ...
    #[serde(rename = "type", default)]
    pub tool_type: Option<String>,
    /// Joins the call to its result, e.g. `memory_query_<32 hex>`.
    pub request_id: String,
    /// Tool name, e.g. `memory_query`.
    pub tool_name: String,
    /// Tool id.
    #[serde(default)]
    pub tool_id: Option<String>,
    /// The parameters as a JSON *string*.
    pub params_as_json: String,
    /// Whether the tool was actually invoked.
    #[serde(default)]
    pub tool_has_been_called: bool,
}

impl ToolCall {
    /// Parses `params_as_json`.
    ///
    /// # Errors
    /// The JSON error if the parameters are not valid JSON.
    pub fn params(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.params_as_json)
    }
}

/// A tool result (webhook/client/mcp shape; system tools carry `result` instead of `result_value`,
/// which reads as `None` here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// `webhook`, `client`, `mcp`, `system`, ...
    #[serde(rename = "type", default)]
    pub tool_type: Option<String>,
    /// Joins the result to its call.
    pub request_id: String,
    /// Tool name.
    pub tool_name: String,
    /// Tool id.
    #[serde(default)]
    pub tool_id: Option<String>,
    /// The response body as text (usually JSON).
    #[serde(default)]
    pub result_value: Option<String>,
    /// Whether the call failed.
    #[serde(default)]
    pub is_error: bool,
    /// Error category when `is_error`.
    #[serde(default)]
    pub error_type: Option<String>,
    /// How long the tool took, in seconds.
    #[serde(default)]
    pub tool_latency_secs: Option<f64>,
}

impl ToolResult {
    /// Parses `result_value` as JSON; `None` if there is no result value.
    pub fn result_json(&self) -> Option<Result<serde_json::Value, serde_json::Error>> {
        self.result_value.as_deref().map(serde_json::from_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_turn_parses_with_null_lists_and_unknown_fields() {
        let turn: TranscriptTurn = serde_json::from_str(
            r#"{"role":"agent","message":null,"time_in_call_secs":4,"tool_calls":null,"new_field":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(turn.role, Role::Agent);
        assert_eq!(turn.text(), None);
        assert!(turn.tool_calls.is_empty() && turn.tool_results.is_empty());
    }

    #[test]
    fn blank_messages_have_no_text_and_new_roles_are_kept() {
        let turn: TranscriptTurn =
            serde_json::from_str(r#"{"role":"tool","message":"  ","time_in_call_secs":0}"#)
                .unwrap();
        assert_eq!(turn.text(), None);
        assert_eq!(turn.role, Role::Other("tool".to_owned()));
    }

    #[test]
    fn missing_time_in_call_is_an_error() {
        let error = serde_json::from_str::<TranscriptTurn>(r#"{"role":"user","message":"hi"}"#)
            .unwrap_err();
        assert!(error.to_string().contains("time_in_call_secs"), "{error}");
    }

    #[test]
    fn invalid_params_are_reported_not_hidden() {
        let call: ToolCall = serde_json::from_str(
            r#"{"request_id":"r","tool_name":"t","params_as_json":"{not json"}"#,
        )
        .unwrap();
        assert!(call.params().is_err());
    }

    #[test]
    fn system_tool_result_without_result_value_reads_as_none() {
        let result: ToolResult = serde_json::from_str(
            r#"{"type":"system","request_id":"r","tool_name":"end_call","result":{"status":"ok"}}"#,
        )
        .unwrap();
        assert!(result.result_json().is_none());
    }
}
