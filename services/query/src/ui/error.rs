//! [`UiError`]: why an inspector page was not served, answered as an HTML page with the
//! status the REST API would give (a malformed form included).

use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use memvox_telemetry::error_chain;

use super::layout::page;
use crate::ApiError;

/// Why a page was not served.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// What the REST API would have answered.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A form was sent without a valid session.
    #[error("sign in first: this form needs a session (it may have expired)")]
    SignIn,
    /// A form's CSRF token does not match the session.
    #[error(
        "this form does not belong to your session (it may be from an earlier one): reload the \
         page and send it again; nothing was changed"
    )]
    Csrf,
}

impl From<FormRejection> for UiError {
    fn from(rejection: FormRejection) -> Self {
        Self::Api(match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            _ => ApiError::Invalid(rejection.body_text()),
        })
    }
}

impl From<memvox_store::StoreError> for UiError {
    fn from(error: memvox_store::StoreError) -> Self {
        Self::Api(error.into())
    }
}

impl UiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Api(error) => error.status(),
            Self::SignIn => StatusCode::UNAUTHORIZED,
            Self::Csrf => StatusCode::FORBIDDEN,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Api(error) => error.public_message(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %error_chain(&self), "inspector page failed");
        }
        let title = status.canonical_reason().unwrap_or("Error");
        let body = page(
            title,
            None,
            html! {
                h1 { (title) }
                p.error role="alert" { (self.message()) }
                p { a href="/ui" { "Back to the inspector" } }
            },
        );
        let mut response = (status, body).into_response();
        if let Self::Api(ApiError::RateLimited { retry_after_secs }) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
