//! The JSON-RPC envelope of an `/mcp` request, checked before the SDK reads it, and the
//! SDK's plain-text HTTP refusals turned into the service's error bodies.
//!
//! A POST body over `query.max_body_bytes` is 413; one that is not JSON gets the JSON-RPC
//! parse error (`-32700`), and JSON that is not one JSON-RPC 2.0 message (a batch, no
//! `"jsonrpc": "2.0"`, neither a method nor a result) or that the SDK cannot read as an MCP
//! message gets invalid request (`-32600`), a `tools/call` without a tool name or with
//! arguments that are not an object invalid params (`-32602`), with the request's id when it
//! has one — each HTTP 400 with a message saying what is wrong. Other
//! refusals of the transport (405 for GET or DELETE, 406 without `Accept: application/json,
//! text/event-stream`, 415 for another `Content-Type`) keep their status and get
//! `{"error": {"code", "message"}}`.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{FromRequest as _, Request};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use memvox_runtime::error_response;
use serde_json::{Value, json};

use crate::ApiError;

/// JSON-RPC: the body is not JSON.
const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: the JSON is not a valid request.
const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: the method's params are wrong.
const INVALID_PARAMS: i64 = -32602;
/// Most of a transport refusal's text read back.
const REFUSAL_BYTES: usize = 4 * 1024;

/// Middleware of `/mcp` (inside authentication): checks a POST's envelope, hands the body on,
/// and rewrites the transport's plain-text refusals.
pub async fn check(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return rewrite(next.run(request).await).await;
    }
    let (parts, body) = request.into_parts();
    let declared_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().starts_with("application/json"));
    let bytes = match Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError::PayloadTooLarge.into_response();
        }
        Err(rejection) => return ApiError::Invalid(rejection.body_text()).into_response(),
    };
    let message: Value = match serde_json::from_slice(&bytes) {
        Ok(message) => message,
        Err(error) => {
            return rpc_error(Value::Null, PARSE_ERROR, &format!("parse error: {error}"));
        }
    };
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    if let Some((code, reason)) = refusal(&message) {
        return rpc_error(id, code, reason);
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE && declared_json {
        // JSON-RPC, declared as JSON, and still unreadable: not an MCP message.
        let reason = text(response).await;
        return rpc_error(id, INVALID_REQUEST, &format!("invalid request: {reason}"));
    }
    rewrite(response).await
}

/// Why `message` is not one JSON-RPC 2.0 message, or not a well-formed `tools/call` (which the
/// SDK would take for an unknown method), if it is not: the JSON-RPC error code and message.
fn refusal(message: &Value) -> Option<(i64, &'static str)> {
    let invalid = |reason| Some((INVALID_REQUEST, reason));
    let Some(object) = message.as_object() else {
        return invalid(if message.is_array() {
            "invalid request: batches are not supported; send one message per request"
        } else {
            "invalid request: a JSON-RPC message is a JSON object"
        });
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid("invalid request: \"jsonrpc\" must be \"2.0\"");
    }
    let answers = object.contains_key("result") || object.contains_key("error");
    match object.get("method") {
        Some(Value::String(method)) if method == "tools/call" => {
            let params = object.get("params");
            let named = params
                .and_then(|p| p.get("name"))
                .is_some_and(Value::is_string);
            let arguments = params.and_then(|p| p.get("arguments"));
            if !named {
                Some((
                    INVALID_PARAMS,
                    "invalid params: tools/call needs params.name, a tool's name",
                ))
            } else if arguments.is_some_and(|a| !a.is_object() && !a.is_null()) {
                Some((
                    INVALID_PARAMS,
                    "invalid params: params.arguments must be an object",
                ))
            } else {
                None
            }
        }
        Some(Value::String(_)) => None,
        None if answers => None,
        _ => invalid("invalid request: \"method\" must be a string"),
    }
}

/// A JSON-RPC error answer (HTTP 400).
fn rpc_error(id: Value, code: i64, message: &str) -> Response {
    let body = json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// `response` unchanged unless it is a plain-text refusal, which gets the error body.
async fn rewrite(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() || is_json {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        status if status.is_server_error() => "internal",
        _ => "invalid_request",
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut rewritten = error_response(status, code, &text(response).await, None);
    if let Some(allow) = allow {
        rewritten.headers_mut().insert(header::ALLOW, allow);
    }
    rewritten
}

/// The start of a response's body, as text.
async fn text(response: Response) -> String {
    let bytes = to_bytes(response.into_body(), REFUSAL_BYTES)
        .await
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim().to_owned()
}
