//! `POST /tools/memory-query`: the ElevenLabs `memory_query` server tool.
//!
//! The user comes from `user_id` (bound to the `memory_user_id` dynamic variable) only when it
//! is an identity token memvox's conversation-init webhook issued, or an integrator signed,
//! for this agent and conversation and unexpired; a raw id (what a web-widget client can put
//! in that variable) reaches nobody and is counted in
//! `memvox_query_identity_refused_total{reason}`. Otherwise the user comes from the phone
//! channel, which clients cannot set: the other party's number if it is bound to a user —
//! `caller_id` (bound to `system__caller_id`), or on an outbound call, where that is one of
//! `identity.own_numbers`, `called_number` (`system__called_number`). Neither known: 200 with no memories, never an error, so the agent simply has
//! nothing to recall. Every call, answered or failed, is logged to `tool_invocations` off the
//! hot path.

use std::time::Instant;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use memvox_elevenlabs::MemoryQueryRequest;
use memvox_elevenlabs::tool::MEMORY_QUERY_TOOL_NAME;
use memvox_identity::Expected;
use memvox_store::ToolInvocation;

use crate::extract::ApiJson;
use crate::search::{Recall, SearchAnswer, SearchParams, elapsed_ms, search};
use crate::{ApiError, QueryState};

/// `POST /tools/memory-query`.
pub fn router() -> Router<QueryState> {
    Router::new().route("/tools/memory-query", post(memory_query))
}

async fn memory_query(
    State(state): State<QueryState>,
    ApiJson(request): ApiJson<MemoryQueryRequest>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let started = Instant::now();
    let result = answer(&state, &request, started).await;
    let (user_id, response_data, error_message) = match &result {
        Ok((user, answer)) => (user.clone(), serde_json::to_value(answer).ok(), None),
        Err(error) => (None, None, Some(error.to_string())),
    };
    state.invocations.record(ToolInvocation {
        tool_name: MEMORY_QUERY_TOOL_NAME.to_owned(),
        conversation_id: request.conversation_id().map(str::to_owned),
        user_id,
        request_params: serde_json::to_value(&request).unwrap_or_default(),
        response_data,
        latency_ms: i64::try_from(elapsed_ms(started)).unwrap_or(i64::MAX),
        success: result.is_ok(),
        error_message,
        created_at: state.clock.now(),
    });
    result.map(|(_, answer)| Json(answer))
}

/// The answer and the user it was about.
#[tracing::instrument(level = "debug", name = "memory_query_tool", skip_all, fields(user = tracing::field::Empty))]
async fn answer(
    state: &QueryState,
    request: &MemoryQueryRequest,
    started: Instant,
) -> Result<(Option<String>, SearchAnswer), ApiError> {
    let user_id = caller(state, request).await?;
    if let Some(user_id) = &user_id {
        tracing::Span::current().record("user", memvox_telemetry::trace::hashed_id(user_id));
    }
    let params = SearchParams {
        query: request.query.clone(),
        limit: request.limit,
        sectors: request.sectors.clone(),
        explain: request.explain,
    };
    let answer = search(
        state,
        user_id.as_deref(),
        &params,
        started,
        Recall::Reinforce,
    )
    .await?;
    Ok((user_id, answer))
}

/// The user a tool call may read: the verified identity token's, else the phone channel's,
/// within the call's scope; nobody for an agent outside `identity.agent_ids`. Also how an MCP
/// request made with a tool token finds its caller.
pub(crate) async fn caller(
    state: &QueryState,
    request: &MemoryQueryRequest,
) -> Result<Option<String>, ApiError> {
    let identities = &state.identities;
    if !identities.settings.serves_agent(request.agent_id()) {
        state.metrics.agent_ignored("tool");
        return Ok(None);
    }
    let scope = identities.scope(request.agent_id());
    if let Some(claimed) = request.user_id() {
        let expected = Expected {
            agent: request.agent_id(),
            conversation: request.conversation_id(),
            at_secs: u64::try_from(state.clock.now() / 1000).unwrap_or_default(),
        };
        match identities.keys.verify(claimed, &expected) {
            Ok(verified) => return Ok(scope.map(|scope| identities.user_of(scope, &verified))),
            Err(refused) => {
                state
                    .metrics
                    .identity_refused
                    .with_label_values(&[refused.label()])
                    .inc();
                tracing::info!(reason = refused.label(), "tool call's identity refused");
            }
        }
    }
    let (Some(scope), Some(number)) = (
        scope,
        request.remote_number(|n| identities.is_own_number(n)),
    ) else {
        return Ok(None);
    };
    Ok(state
        .store
        .user_for_caller(&identities.phone_key(scope, number))
        .await?)
}
