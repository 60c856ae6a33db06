//! memvox query service: what an ElevenLabs agent asks memvox during and before a call, and the
//! REST API people use to read, correct and erase what memvox remembers.
//!
//! * `POST /tools/memory-query` — the `memory_query` server tool (tool token): dense and
//!   lexical search over the caller's facts and call episodes, fused ranking, one-hop graph
//!   expansion, a short summary; compact JSON, because every token the agent's LLM reads
//!   delays the caller.
//! * `POST /webhook/conversation-init` — the initiation webhook (shared-secret header): caller id
//!   to user, every dynamic variable the agent uses, a first message for returning callers.
//!   It always answers 200 with a complete variable set, even when the store fails or is slow.
//! * `/v1/users/...` — the memory REST API (admin token), described at `/openapi.json`.
//! * `/mcp` — the same memories as an MCP server ([`mcp`]): a tool token bound to one caller,
//!   or an admin token naming any user.
//! * `/ui` — the memory inspector ([`ui`]): HTML pages for people, signed in with an admin
//!   token.
//! * `POST /llm/v1/chat/completions` — the custom-LLM proxy ([`llm_proxy`], LLM token): the
//!   caller's memories added to each turn of an agent's LLM, forwarded to any OpenAI-compatible
//!   upstream, fail-open.
//!
//! [`router`] builds every route from a [`QueryState`]; [`serve`] adds health endpoints,
//! instrumentation and the listener for the binaries (`memvox-query`, and `memvox-llm-proxy`
//! for the proxy alone).

pub mod auth;
mod config;
mod erased_messages;
pub mod error;
mod extract;
pub mod follow_up;
pub mod init_limit;
pub mod invocations;
pub mod llm_proxy;
pub mod mcp;
pub mod metrics;
pub mod present;
pub mod question;
pub mod recall;
pub mod retrieval;
pub mod routes;
mod routine;
pub mod search;
pub mod serve;
mod settings;
mod state;
pub mod temporal;
pub mod ui;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;

pub use auth::hash_token;
pub use config::QueryConfig;
pub use error::ApiError;
pub use memvox_core::Clock;
pub use settings::QuerySettings;
pub use state::{QueryState, SetupError};

/// Every route of the query service. The tool needs a tool token, `/v1` an admin token, the
/// custom-LLM proxy an LLM token (each rate limited per token, each refusing the other roles),
/// `/mcp` a tool token bound to one caller (or an admin token); the initiation webhook checks
/// its own secret; `/openapi.json` is public; `/ui` needs an inspector session (signed in with
/// an admin token).
pub fn router(state: QueryState) -> Router {
    let limit = DefaultBodyLimit::max(state.settings.max_body_bytes);
    let tool = routes::tool::router()
        .route_layer(from_fn_with_state(state.clone(), auth::require_tool_token));
    let admin = Router::new()
        .merge(routes::users::router())
        .merge(routes::memories::router())
        .route_layer(from_fn_with_state(state.clone(), auth::require_admin_token));
    Router::new()
        .merge(tool)
        .merge(admin)
        .merge(routes::init::router())
        .merge(routes::openapi::router())
        .merge(mcp::router(&state))
        .merge(ui::router(&state))
        .merge(llm_proxy::router(&state))
        .fallback(routes::not_found)
        .layer(limit)
        .with_state(state)
}
