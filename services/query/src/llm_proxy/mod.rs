//! `POST /llm/v1/chat/completions`: an OpenAI-compatible custom LLM for ElevenLabs agents that
//! adds the caller's memories to every turn and forwards it to any OpenAI-compatible upstream.
//!
//! The agent's Custom LLM URL is `https://<host>/llm/v1`; its API key is an LLM token
//! (`query.llm_proxy.token_sha256`). For each request the proxy
//! 1. reads the body ([`request`]): the OpenAI fields are kept, ElevenLabs' own (`user_id`,
//!    `elevenlabs_extra_body`) are read for identity and removed;
//! 2. finds the caller the conversation belongs to ([`caller`]), by the memory-query tool's
//!    rules: a signed identity token for this agent and conversation, else the phone channel;
//! 3. looks up memories for the latest user message within `budget_ms` ([`context`]) and adds
//!    them as one compact block — fail-open: a late, failed or busy lookup, an unknown caller
//!    or no memories forward the request without one;
//! 4. maps the model name (`models`, `default_model`) and forwards to the upstream
//!    ([`upstream`]), passing its answer back unchanged — a stream as it arrives — and dropping
//!    the upstream when the client goes away.
//!
//! Every request with a user message is logged to `tool_invocations` as `llm_proxy` (the user,
//! the conversation, the message, the memories added or why none were), off the hot path.
//! Metrics: [`metrics`]. Served by the query service (and so `memvox serve`) and, alone, by
//! `memvox-llm-proxy` ([`standalone_router`]).

pub mod caller;
pub mod context;
pub mod metrics;
pub mod request;
mod route;
pub mod settings;
pub mod upstream;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::post;
use tokio::sync::Semaphore;

pub use metrics::ProxyMetrics;
pub use settings::{ContextPlacement, LlmProxySettings};
pub use upstream::{Upstream, UpstreamError};

use crate::{QueryState, auth};

/// The proxy's route (the agent's Custom LLM URL is this without `/chat/completions`).
pub const PATH: &str = "/llm/v1/chat/completions";

/// The running proxy: its upstream and its memory-lookup slots. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LlmProxy {
    /// Where requests are forwarded.
    pub upstream: Upstream,
    /// One permit per memory lookup running (`max_lookups`).
    pub lookups: Arc<Semaphore>,
}

impl LlmProxy {
    /// The proxy of validated `settings`; `None` when it is not enabled.
    ///
    /// # Errors
    /// Why the upstream is unusable.
    pub fn new(settings: &LlmProxySettings) -> Result<Option<Self>, String> {
        if !settings.enabled {
            return Ok(None);
        }
        Ok(Some(Self {
            upstream: Upstream::new(settings)?,
            lookups: Arc::new(Semaphore::new(settings.max_lookups)),
        }))
    }
}

/// `POST /llm/v1/chat/completions`, behind the LLM-token middleware, with its own body limit
/// (`query.llm_proxy.max_body_bytes`: a request carries the whole conversation).
pub fn router(state: &QueryState) -> Router<QueryState> {
    Router::new()
        .route(PATH, post(route::chat_completions))
        .route_layer(from_fn_with_state(state.clone(), auth::require_llm_token))
        .layer(DefaultBodyLimit::max(
            state.settings.llm_proxy.max_body_bytes,
        ))
}

/// The proxy alone, as `memvox-llm-proxy` serves it: its route and the not-found fallback.
pub fn standalone_router(state: QueryState) -> Router {
    router(&state)
        .fallback(crate::routes::not_found)
        .with_state(state)
}
