//! [`ToolError`]: every way an MCP tool call can fail, mapped to MCP in one place.
//!
//! * The request cannot be served as asked — an unknown tool, arguments that do not match the
//!   tool's schema, a `user_id` where the principal may not (or must) give one, a value the API
//!   would answer 400 — is a JSON-RPC error `-32602` (invalid params) whose message says what
//!   is wrong; `data.code` is the API's error code.
//! * The tool ran and found nothing to act on — an unknown user or memory, no known caller —
//!   is a tool result with `isError: true` and `{"error": {"code", "message"}}`, which the
//!   client's model reads and can act on.
//! * A server fault (store or embedder) is a JSON-RPC error `-32603` with the API's generic
//!   message; its cause chain is logged, never sent.

use memvox_telemetry::error_chain;
use rmcp::ErrorData;
use rmcp::model::CallToolResult;
use serde_json::json;

use crate::ApiError;

/// Why a tool call was not served.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// What the API would have answered.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No tool has this name.
    #[error(
        "unknown tool `{0}`: the tools are search_memories, add_memory, get_profile, forget_memory and list_recent_calls"
    )]
    UnknownTool(String),
    /// The arguments do not match the tool's schema.
    #[error("invalid arguments for {tool}: {reason}")]
    Arguments {
        /// The tool called.
        tool: String,
        /// What is wrong, as the parser says it.
        reason: String,
    },
    /// A caller-bound request named a user.
    #[error(
        "user_id is for admin tokens: this request acts only for the caller its identity headers name"
    )]
    UserIdNotAllowed,
    /// An admin request named no user.
    #[error("user_id is required with an admin token")]
    UserIdRequired,
    /// The identity headers name nobody memvox knows.
    #[error("no known caller: the identity headers name no one memvox remembers")]
    NoCaller,
}

/// How a failed call reaches the client.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// A tool result with `isError`: nothing to act on.
    Result,
    /// JSON-RPC invalid params (-32602): not servable as asked.
    Invalid,
    /// JSON-RPC internal error (-32603): a server fault.
    Fault,
}

impl ToolError {
    /// How this failure reaches the client.
    fn form(&self) -> Form {
        match self {
            Self::Api(api) if api.status().is_server_error() => Form::Fault,
            Self::Api(ApiError::NotFound(_)) | Self::NoCaller => Form::Result,
            _ => Form::Invalid,
        }
    }

    /// The stable machine-readable code (the API's, where there is one).
    fn code(&self) -> &'static str {
        match self {
            Self::Api(error) => error.code(),
            Self::UnknownTool(_) => "unknown_tool",
            Self::Arguments { .. } | Self::UserIdNotAllowed | Self::UserIdRequired => {
                "invalid_request"
            }
            Self::NoCaller => "no_caller",
        }
    }
}

/// The MCP answer of a tool call: its structured result, or its error as MCP says it.
pub fn outcome(result: Result<serde_json::Value, ToolError>) -> Result<CallToolResult, ErrorData> {
    let error = match result {
        Ok(value) => return Ok(CallToolResult::structured(value)),
        Err(error) => error,
    };
    let data = Some(json!({ "code": error.code() }));
    let message = match &error {
        ToolError::Api(api) => api.public_message(),
        other => other.to_string(),
    };
    match error.form() {
        Form::Fault => {
            tracing::error!(code = error.code(), error = %error_chain(&error), "MCP tool call failed");
            Err(ErrorData::internal_error(message, data))
        }
        Form::Result => Ok(CallToolResult::structured_error(
            json!({ "error": { "code": error.code(), "message": message } }),
        )),
        Form::Invalid => Err(ErrorData::invalid_params(message, data)),
    }
}

/// The `outcome` label of a call's result in `memvox_query_mcp_calls_total`: `ok`,
/// `tool_error`, `invalid` or `error`, as [`outcome`] answers it.
pub fn label(result: &Result<serde_json::Value, ToolError>) -> &'static str {
    match result.as_ref().map_err(ToolError::form) {
        Ok(_) => "ok",
        Err(Form::Result) => "tool_error",
        Err(Form::Invalid) => "invalid",
        Err(Form::Fault) => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memvox_store::StoreError;

    #[test]
    fn each_kind_of_failure_has_its_mcp_form() {
        let invalid = outcome(Err(
            ApiError::Invalid("query must not be empty".into()).into()
        ));
        let invalid = invalid.unwrap_err();
        assert_eq!(invalid.code.0, -32602);
        assert_eq!(invalid.message, "query must not be empty");
        let missing = outcome(Err(ApiError::NotFound("memory 7".into()).into())).unwrap();
        assert_eq!(missing.is_error, Some(true));
        let down = ApiError::from(StoreError::Unavailable(sqlx::Error::PoolClosed));
        let down = outcome(Err(down.into())).unwrap_err();
        assert_eq!(down.code.0, -32603);
        assert!(!down.message.contains("pool"));
        let unknown = outcome(Err(ToolError::UnknownTool("x".into()))).unwrap_err();
        assert_eq!(unknown.data, Some(json!({ "code": "unknown_tool" })));
    }

    #[test]
    fn labels_follow_the_mcp_form() {
        let down = ApiError::from(StoreError::Unavailable(sqlx::Error::PoolClosed));
        for (result, expected) in [
            (Ok(json!({})), "ok"),
            (Err(ToolError::NoCaller), "tool_error"),
            (
                Err(ApiError::NotFound("memory 7".into()).into()),
                "tool_error",
            ),
            (Err(ToolError::UserIdRequired), "invalid"),
            (Err(down.into()), "error"),
        ] {
            assert_eq!(label(&result), expected);
        }
    }
}
