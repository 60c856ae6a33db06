//! `POST /tools/memory-query`: the ElevenLabs `memory_query` server tool.
//!
//! The user comes from `user_id` (bound to the `memory_user_id` dynamic variable); when it is
//! empty, from the other party's number if it is bound to a user: `caller_id` (bound to
//! `system__caller_id`), or on an outbound call, where that is one of `identity.own_numbers`,
//! `called_number` (`system__called_number`). Neither known: 200 with no memories, never an error, so the agent simply has
//! nothing to recall. Every call, answered or failed, is logged to `tool_invocations` off the
//! hot path.

use std::time::Instant;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use memvox_elevenlabs::MemoryQueryRequest;
use memvox_elevenlabs::tool::MEMORY_QUERY_TOOL_NAME;
use memvox_store::ToolInvocation;

use crate::extract::ApiJson;
use crate::search::{SearchAnswer, SearchParams, elapsed_ms, search};
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
        Err(error) => (
            request.user_id().map(str::to_owned),
            None,
            Some(error.to_string()),
        ),
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
async fn answer(
    state: &QueryState,
    request: &MemoryQueryRequest,
    started: Instant,
) -> Result<(Option<String>, SearchAnswer), ApiError> {
    let identity = &state.identity;
    let remote = request.remote_number(|n| identity.is_own_number(n));
    let user_id = match (request.user_id(), remote) {
        (Some(user_id), _) => Some(user_id.to_owned()),
        (None, Some(caller)) => state.store.user_for_caller(caller).await?,
        (None, None) => None,
    };
    let params = SearchParams {
        query: request.query.clone(),
        limit: request.limit,
        sectors: request.sectors.clone(),
        explain: request.explain,
    };
    let answer = search(state, user_id.as_deref(), &params, started).await?;
    Ok((user_id, answer))
}
