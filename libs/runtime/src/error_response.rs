//! The one shape of an HTTP error answer in every memvox service:
//! `{"error": {"code": "...", "message": "..."}}`, with `Retry-After` when the caller should wait.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer: `status`, the body `{"error": {"code": code, "message": message}}`, and a
/// `Retry-After` header of `retry_after_secs` when there is one. The caller decides the code,
/// what the message may reveal and what is logged.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    retry_after_secs: Option<u64>,
) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
