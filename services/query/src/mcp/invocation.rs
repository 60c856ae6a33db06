//! MCP tool calls in the tool-invocation log ([`crate::invocations`]), as the memory-query
//! tool's calls are: one entry per `tools/call`, answered or failed, queued off the hot path.
//! The tool name is prefixed with [`PREFIX`] (`mcp:search_memories`); the user is the one the
//! call was about once known, the conversation the caller-bound request's
//! `x-memvox-conversation-id`, the request its arguments. Each call is also counted in
//! `memvox_query_mcp_calls_total{tool,outcome}` (an unknown tool's name as `unknown`).

use std::time::Instant;

use memvox_store::ToolInvocation;
use rmcp::model::JsonObject;
use serde_json::Value;

use super::principal::Principal;
use super::run::Outcome;
use super::{error, tools};
use crate::QueryState;
use crate::search::elapsed_ms;

/// What MCP tool names are prefixed with in the log.
pub const PREFIX: &str = "mcp:";

/// Counts, and queues the log entry of, tool `name` called with `arguments` for `principal`
/// at `started`.
pub fn record(
    state: &QueryState,
    principal: &Principal,
    name: &str,
    arguments: Option<JsonObject>,
    outcome: &Outcome,
    started: Instant,
) {
    let tool = if tools::NAMES.contains(&name) {
        name
    } else {
        "unknown"
    };
    state
        .metrics
        .mcp_calls
        .with_label_values(&[tool, error::label(&outcome.result)])
        .inc();
    state.invocations.record(ToolInvocation {
        tool_name: format!("{PREFIX}{name}"),
        conversation_id: match principal {
            Principal::Admin => None,
            Principal::Caller(claims) => claims.conversation_id().map(str::to_owned),
        },
        user_id: outcome.user.clone(),
        request_params: Value::Object(arguments.unwrap_or_default()),
        response_data: outcome.result.as_ref().ok().cloned(),
        latency_ms: i64::try_from(elapsed_ms(started)).unwrap_or(i64::MAX),
        success: outcome.result.is_ok(),
        error_message: outcome.result.as_ref().err().map(ToString::to_string),
        created_at: state.clock.now(),
    });
}
