//! The `memory_query` server (webhook) tool: the request body our endpoint receives, and the tool
//! definition to paste into an ElevenLabs agent.
//!
//! Spec §4. Identity parameters are bound to dynamic variables, never filled by the LLM; only
//! `query` is. The definition binds only variables every channel has — `memory_user_id` (the
//! identity token conversation-init returns, or an integrator passes), `system__agent_id` and
//! `system__conversation_id` — not the voice-only `system__caller_id`, and assigns no dynamic
//! variables (an assignment would blank `memory_summary` when nothing matched). The request
//! type also reads `caller_id` and `called_number`, which a client may send. Tool calls are not
//! signed: the `Authorization` header comes from a workspace secret holding `Bearer <token>`.
//!
//! Invariant: every body property in [`memory_query_tool_config`] is a field of
//! [`MemoryQueryRequest`] (tested), so what the agent sends is what we parse.

use serde::{Deserialize, Serialize};

/// Name of the tool as the agent's LLM sees it.
pub const MEMORY_QUERY_TOOL_NAME: &str = "memory_query";

/// JSON body of a `memory_query` tool call (`POST /tools/memory-query`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryQueryRequest {
    /// What to look up, phrased by the LLM.
    pub query: String,
    /// Our memory user id (dynamic variable `memory_user_id`); may be empty for unknown callers.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Caller's number (dynamic variable `system__caller_id`); our own number on outbound
    /// calls.
    #[serde(default)]
    pub caller_id: Option<String>,
    /// The number called (dynamic variable `system__called_number`): ours on inbound calls,
    /// the person dialled on outbound ones.
    #[serde(default)]
    pub called_number: Option<String>,
    /// The agent on the call (dynamic variable `system__agent_id`).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Current conversation (dynamic variable `system__conversation_id`).
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Maximum number of memories to return (an integral float such as `3.0` counts).
    #[serde(default, deserialize_with = "crate::serde_util::opt_whole_u32")]
    pub limit: Option<u32>,
    /// Restrict to these memory sectors (names as in `memvox-core`; validated by the caller).
    #[serde(default)]
    pub sectors: Option<Vec<String>>,
    /// Also return each memory's sector, salience, time and score breakdown (debugging; the
    /// agent needs only content, kind, date and source).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub explain: bool,
}

impl MemoryQueryRequest {
    /// The memory user id, or `None` if absent or empty.
    pub fn user_id(&self) -> Option<&str> {
        non_empty(self.user_id.as_deref())
    }

    /// The caller's number, or `None` if absent or empty.
    pub fn caller_id(&self) -> Option<&str> {
        non_empty(self.caller_id.as_deref())
    }

    /// The conversation id, or `None` if absent or empty.
    pub fn conversation_id(&self) -> Option<&str> {
        non_empty(self.conversation_id.as_deref())
    }

    /// The agent id, or `None` if absent or empty.
    pub fn agent_id(&self) -> Option<&str> {
        non_empty(self.agent_id.as_deref())
    }

    /// The number of the person on the other end of the line: `caller_id`, unless it is one of
    /// our own numbers (`is_own`) — an outbound call — when it is `called_number`.
    pub fn remote_number(&self, is_own: impl Fn(&str) -> bool) -> Option<&str> {
        crate::initiation::remote_party(self.caller_id(), self.called_number.as_deref(), is_own)
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.is_empty())
}

/// The ElevenLabs webhook-tool definition for `memory_query` (`POST /v1/convai/tools` body's
/// `tool_config`), calling `url` with the `Authorization` header taken from the workspace secret
/// `authorization_secret_id`. `response_timeout_secs` must be within 5–300.
pub fn memory_query_tool_config(
    url: &str,
    authorization_secret_id: &str,
    response_timeout_secs: u32,
) -> serde_json::Value {
    serde_json::json!({
        "type": "webhook",
        "name": MEMORY_QUERY_TOOL_NAME,
        "description": "Look up facts the caller shared in earlier conversations. Call it when the caller refers to something from a previous call or when prior context would change your answer.",
        "response_timeout_secs": response_timeout_secs,
        "api_schema": {
            "url": url,
            "method": "POST",
            "content_type": "application/json",
            "request_headers": {
                "Authorization": {"secret_id": authorization_secret_id}
            },
            "request_body_schema": {
                "type": "object",
                "required": ["query", "user_id", "agent_id", "conversation_id"],
                "properties": {
                    "query": {
                        "type": "string",
                        "description": "What to look up in the caller's memory, phrased as a short question."
                    },
                    "user_id": {"type": "string", "dynamic_variable": "memory_user_id"},
                    "agent_id": {"type": "string", "dynamic_variable": "system__agent_id"},
                    "conversation_id": {"type": "string", "dynamic_variable": "system__conversation_id"},
                    "limit": {"type": "integer", "constant_value": 3}
                }
            },
            "response_filter": {"mode": "allow", "filters": ["memories", "summary"]}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_identity_fields_read_as_absent() {
        let request: MemoryQueryRequest = serde_json::from_str(
            r#"{"query":"q","user_id":"","caller_id":"+1555","conversation_id":null}"#,
        )
        .unwrap();
        assert_eq!(request.user_id(), None);
        assert_eq!(request.caller_id(), Some("+1555"));
        assert_eq!(request.conversation_id(), None);
        assert_eq!(request.limit, None);
    }

    #[test]
    fn query_is_required() {
        let error = serde_json::from_str::<MemoryQueryRequest>(r#"{"user_id":"u"}"#).unwrap_err();
        assert!(error.to_string().contains("query"), "{error}");
    }

    #[test]
    fn sectors_are_read_when_present() {
        let request: MemoryQueryRequest =
            serde_json::from_str(r#"{"query":"q","sectors":["semantic","procedural"],"limit":5}"#)
                .unwrap();
        assert_eq!(
            request.sectors.as_deref(),
            Some(&["semantic".to_owned(), "procedural".to_owned()][..])
        );
        assert_eq!(request.limit, Some(5));
    }
}
