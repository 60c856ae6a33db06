//! The inspector's middleware: the security headers of every `/ui` answer, and the session
//! (and, on forms, CSRF) check in front of every page but sign-in and the assets.
//!
//! Headers: a Content-Security-Policy that allows our own script and style files only (no
//! inline script or style, no other origin, no framing, forms posted to us only),
//! `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`
//! (a caller id in a path never leaves in a `Referer`) and `Cache-Control: no-store` (the pages
//! hold personal data).
//!
//! A request without a valid session is sent to the sign-in page when it is a page (`GET`)
//! and refused with 401 when it is a form. A form's body is read (within
//! `query.max_body_bytes`) and its `csrf` field compared in constant time with the session's
//! token before the handler runs: without the right one nothing is changed (403). Each request
//! of a session counts against its admin token's rate limit, as a bearer request would.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Redirect, Response};
use subtle::ConstantTimeEq as _;

use super::error::UiError;
use super::session::{self, Session};
use crate::{ApiError, QueryState};

/// The Content-Security-Policy of every inspector answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every answer under `/ui`.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    for (name, value) in set {
        headers.insert(name, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The request's session, if its cookie holds a valid one.
pub fn session(state: &QueryState, headers: &axum::http::HeaderMap) -> Option<Session> {
    let value = session::cookie(headers)?;
    state
        .ui_sessions
        .verify(value, state.admin_tokens.digests(), state.clock.now())
}

/// Lets a request with a valid session (and, on a form, its CSRF token) through, with the
/// [`Session`] in its extensions.
pub async fn require_session(
    State(state): State<QueryState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(session) = session(&state, request.headers()) else {
        return if matches!(*request.method(), Method::GET | Method::HEAD) {
            Redirect::to("/ui/login").into_response()
        } else {
            UiError::SignIn.into_response()
        };
    };
    if let Err(error) = state.admin_tokens.admit(session.token) {
        return UiError::from(error).into_response();
    }
    let mut request = if request.method() == Method::POST {
        match checked_form(request, &session, state.settings.max_body_bytes).await {
            Ok(request) => request,
            Err(error) => return error.into_response(),
        }
    } else {
        request
    };
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// The request with its form body read and put back, if its `csrf` field is the session's.
async fn checked_form(
    request: Request,
    session: &Session,
    limit: usize,
) -> Result<Request, UiError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|error| ApiError::Invalid(format!("the form is not form-encoded: {error}")))?;
    let presented = fields
        .iter()
        .find_map(|(name, value)| (name == "csrf").then_some(value.as_bytes()))
        .unwrap_or_default();
    if bool::from(presented.ct_eq(session.csrf.as_bytes())) {
        Ok(Request::from_parts(parts, Body::from(bytes)))
    } else {
        Err(UiError::Csrf)
    }
}
