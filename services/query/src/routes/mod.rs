//! HTTP routes of the query service, one module per resource, and the table of every
//! `(method, path)` they serve, which the OpenAPI test compares with `/openapi.json`.

pub mod export;
pub mod init;
pub mod memories;
pub mod openapi;
pub mod tool;
pub mod users;

use crate::ApiError;

/// Every route the query service serves, as `(method, path template)`.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/tools/memory-query"),
    ("POST", "/mcp"),
    ("POST", "/llm/v1/chat/completions"),
    ("POST", "/webhook/conversation-init"),
    ("GET", "/openapi.json"),
    ("GET", "/v1/users/{user_id}"),
    ("DELETE", "/v1/users/{user_id}"),
    ("GET", "/v1/users/{user_id}/export"),
    ("GET", "/v1/users/{user_id}/memories"),
    ("POST", "/v1/users/{user_id}/memories"),
    ("POST", "/v1/users/{user_id}/memories/search"),
    ("GET", "/v1/users/{user_id}/memories/{memory_id}"),
    ("PATCH", "/v1/users/{user_id}/memories/{memory_id}"),
    ("DELETE", "/v1/users/{user_id}/memories/{memory_id}"),
];

/// Fallback for paths no route matches: the standard error body with `route_not_found`.
pub async fn not_found() -> ApiError {
    ApiError::RouteNotFound
}
