//! `/mcp`: memvox as an MCP server (streamable HTTP transport), for ElevenLabs agents and any
//! MCP client.
//!
//! Tools `search_memories`, `add_memory`, `get_profile`, `forget_memory` and
//! `list_recent_calls` ([`tools`]), each running the query service's own code path ([`run`])
//! and logged to `tool_invocations` as the memory-query tool's calls are ([`invocation`]).
//! The official Rust SDK (`rmcp`) speaks the protocol: every version from 2025-03-26 to
//! 2026-07-28, `initialize` or per-request negotiation, JSON answers. It runs statelessly — no
//! `Mcp-Session-Id`, every request authenticated and bound on its own ([`principal`]) — so a
//! replica needs no shared session state and no session can be taken over. Host checks are
//! off (the SDK's default allows only loopback names): a bearer token is required on every
//! request, which is what the DNS-rebinding check protects unauthenticated local servers with.
//! The body limit is `query.max_body_bytes`, as on the other routes (413 past it); the envelope
//! is checked before the SDK reads it ([`envelope`]).

pub mod envelope;
pub mod error;
pub mod invocation;
pub mod principal;
pub mod run;
pub mod server;
pub mod tools;

use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::QueryState;
use server::MemoryServer;

/// The MCP endpoint's path.
pub const PATH: &str = "/mcp";

/// `POST /mcp`, behind the bearer-token middleware.
pub fn router(state: &QueryState) -> Router<QueryState> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(state.settings.max_body_bytes)
        .disable_allowed_hosts();
    let handler = MemoryServer::new(state.clone());
    let service = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(PATH, service)
        .route_layer(from_fn(envelope::check))
        .route_layer(from_fn_with_state(state.clone(), principal::bind))
}
