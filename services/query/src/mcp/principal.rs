//! Who an MCP request acts for, settled before the protocol is read.
//!
//! Every request carries `Authorization: Bearer` with a token of the API's lists, limited per
//! token as the API is. An admin token (`query.admin_token_sha256`), accepted only when
//! `query.mcp_admin` is on (`/mcp` is routed publicly), may act on any user, named
//! by each tool's `user_id`. A tool token (`query.tool_token_sha256`) is bound to the one
//! caller its identity headers name, resolved exactly as the memory-query tool resolves
//! `user_id`, `agent_id`, `conversation_id`, `caller_id` and `called_number`
//! ([`crate::routes::tool::caller`]): a memvox identity token verified for the agent and
//! conversation, else the other party's number if it is bound to a user, else nobody. Tool
//! arguments never choose the caller. The server keeps no session: the client sends its
//! headers with every request, so nothing outlives a request to be taken over.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use memvox_elevenlabs::MemoryQueryRequest;

use crate::{ApiError, QueryState};

pub use memvox_elevenlabs::identity_headers::{
    AGENT_ID_HEADER, CALLED_NUMBER_HEADER, CALLER_ID_HEADER, CONVERSATION_ID_HEADER, USER_ID_HEADER,
};

/// What a request may reach.
#[derive(Debug, Clone)]
pub enum Principal {
    /// An admin token: any user, named in the tool's arguments.
    Admin,
    /// A tool token: only the caller these identity claims resolve to.
    Caller(Box<MemoryQueryRequest>),
}

impl Principal {
    /// Whether this is an admin.
    pub fn is_admin(&self) -> bool {
        matches!(self, Self::Admin)
    }
}

/// Middleware of `/mcp`: authenticates and rate-limits the bearer token and attaches the
/// request's [`Principal`]; 401 or 429 (the API's error bodies) otherwise.
pub async fn bind(State(state): State<QueryState>, mut request: Request, next: Next) -> Response {
    match principal(&state, request.headers()) {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

fn principal(state: &QueryState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    if let Ok(token) = state.tool_tokens.authenticate(headers) {
        state.tool_tokens.admit(token)?;
        return Ok(Principal::Caller(Box::new(claims(headers))));
    }
    let token = state.admin_tokens.authenticate(headers)?;
    if !state.settings.mcp_admin {
        return Err(ApiError::Forbidden {
            presented: crate::auth::Role::Admin,
        });
    }
    state.admin_tokens.admit(token)?;
    Ok(Principal::Admin)
}

/// The identity headers, as the memory-query tool's request carries them (also the custom-LLM
/// proxy's).
pub(crate) fn claims(headers: &HeaderMap) -> MemoryQueryRequest {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    MemoryQueryRequest {
        query: String::new(),
        user_id: header(USER_ID_HEADER),
        caller_id: header(CALLER_ID_HEADER),
        called_number: header(CALLED_NUMBER_HEADER),
        agent_id: header(AGENT_ID_HEADER),
        conversation_id: header(CONVERSATION_ID_HEADER),
        limit: None,
        sectors: None,
        explain: false,
    }
}
