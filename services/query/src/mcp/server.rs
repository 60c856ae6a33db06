//! [`MemoryServer`]: the MCP server handler — server info, `tools/list` and `tools/call` for
//! the request's [`Principal`], each call logged. The protocol itself (version negotiation, `initialize`,
//! notifications, JSON or SSE answers) is the SDK's.

use std::time::Instant;

use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::principal::Principal;
use super::{error, invocation, run, tools};
use crate::QueryState;

/// What the server tells a client's model about itself.
const INSTRUCTIONS: &str = "Long-term memory of the people who call this agent. \
     search_memories before answering anything the caller may have said on an earlier call; \
     add_memory for what they ask you to remember; forget_memory when they ask you to forget. \
     A request made with a caller's identity reaches only that caller.";

/// One request's handler (the SDK builds one per request: the server keeps no session).
#[derive(Clone)]
pub struct MemoryServer {
    state: QueryState,
}

impl MemoryServer {
    /// A handler over `state`.
    pub fn new(state: QueryState) -> Self {
        Self { state }
    }
}

/// The principal the `/mcp` middleware attached to the HTTP request.
fn principal(context: &RequestContext<RoleServer>) -> Result<Principal, ErrorData> {
    context
        .extensions
        .get::<Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>())
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("request without credentials", None))
}

impl ServerHandler for MemoryServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("memvox", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let admin = principal(&context)?.is_admin();
        Ok(ListToolsResult::with_all_items(tools::definitions(admin)))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let started = Instant::now();
        let principal = principal(&context)?;
        let outcome = run::call(
            &self.state,
            &principal,
            &request.name,
            request.arguments.clone(),
        )
        .await;
        invocation::record(
            &self.state,
            &principal,
            &request.name,
            request.arguments,
            &outcome,
            started,
        );
        error::outcome(outcome.result).map(CallToolResponse::from)
    }
}
