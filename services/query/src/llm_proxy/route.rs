//! The handler of `POST /llm/v1/chat/completions`: read, look up, add, log, forward.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use memvox_store::ToolInvocation;
use serde_json::{Map, Value, json};

use crate::extract::AnyTypeJson;
use crate::llm_proxy::caller::proxy_claims;
use crate::llm_proxy::context::{Found, look_up};
use crate::llm_proxy::metrics::ContextOutcome;
use crate::llm_proxy::request::ChatRequest;
use crate::search::elapsed_ms;
use crate::{ApiError, QueryState};

/// The name proxy requests are logged under in `tool_invocations`.
pub const INVOCATION_NAME: &str = "llm_proxy";

pub(super) async fn chat_completions(
    State(state): State<QueryState>,
    headers: HeaderMap,
    body: Result<AnyTypeJson<Map<String, Value>>, ApiError>,
) -> Result<Response, ApiError> {
    let Some(proxy) = state.llm_proxy.clone() else {
        return Err(ApiError::NotConfigured("query.llm_proxy.enabled"));
    };
    let AnyTypeJson(body) = body?;
    let mut request = ChatRequest::parse(body)?;
    let settings = &state.settings.llm_proxy;
    let started = Instant::now();
    let claims = proxy_claims(&headers, &request.identity);
    let conversation_id = claims.conversation_id.clone();
    let text = request.latest_user_text();
    let budget = Duration::from_millis(settings.budget_ms);
    let found = look_up(&state, &proxy.lookups, claims, text.clone(), budget).await;
    state.metrics.llm_proxy.forwarded(found.outcome);
    if let Some(block) = found.block() {
        request.add_context(&block, settings.placement);
    }
    if let Some(text) = text {
        log(&state, &found, conversation_id, text, &request, started);
    }
    request.set_model(settings.model(request.model()));
    let forwarded = proxy.upstream.forward(
        request.to_bytes(),
        request.is_stream(),
        &state.metrics.llm_proxy,
    );
    Ok(forwarded.await?)
}

/// Logs the lookup of a request to `tool_invocations` (off the hot path).
fn log(
    state: &QueryState,
    found: &Found,
    conversation_id: Option<String>,
    text: String,
    request: &ChatRequest,
    started: Instant,
) {
    let failed = match found.outcome {
        ContextOutcome::FailedOpen(reason) => Some(reason.label().to_owned()),
        _ => None,
    };
    state.invocations.record(ToolInvocation {
        tool_name: INVOCATION_NAME.to_owned(),
        conversation_id,
        user_id: found.user_id.clone(),
        request_params: json!({ "query": text, "model": request.model() }),
        response_data: found
            .answer
            .as_ref()
            .and_then(|answer| serde_json::to_value(answer).ok()),
        latency_ms: i64::try_from(elapsed_ms(started)).unwrap_or(i64::MAX),
        success: failed.is_none(),
        error_message: failed,
        created_at: state.clock.now(),
    });
}
