//! [`ApiError`]: every way a query-service request can fail, mapped to HTTP in one place.
//!
//! Bodies always have the shape `{"error": {"code": "...", "message": "..."}}`, malformed JSON
//! included. Client errors say what is wrong; server errors log their whole cause chain and
//! answer a generic message, so no database detail leaks to callers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use memvox_ai::{AiError, Fault};
use memvox_runtime::error_response;
use memvox_store::StoreError;
use memvox_telemetry::error_chain;

use crate::llm_proxy::UpstreamError;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid bearer token (or initiation secret) was presented.
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// A valid token of a role this route does not accept (a tool token on `/v1`).
    #[error("{presented} tokens may not use this route")]
    Forbidden {
        /// The role of the token presented.
        presented: crate::auth::Role,
    },
    /// The credential this route needs is not configured on the server.
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
    /// The token sent more requests than its rate allows.
    #[error("rate limit exceeded")]
    RateLimited {
        /// Seconds until a request would be allowed again.
        retry_after_secs: u64,
    },
    /// The body is not JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The request parsed but a value is unacceptable (unknown sector, empty query, ...).
    #[error("{0}")]
    Invalid(String),
    /// The request declares no JSON body.
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    /// The body exceeds the configured limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The addressed user or memory does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// No route matches the path.
    #[error("no route for this path")]
    RouteNotFound,
    /// The store failed.
    #[error("store error")]
    Store(#[source] StoreError),
    /// The embedder failed.
    #[error("embedder error")]
    Embedder(#[source] AiError),
    /// The custom-LLM proxy's upstream gave no usable answer.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what } => Self::NotFound(what),
            StoreError::Invalid(message) => Self::Invalid(message),
            other => Self::Store(other),
        }
    }
}

impl From<AiError> for ApiError {
    fn from(error: AiError) -> Self {
        match error.fault() {
            Fault::Input => Self::Invalid(error.to_string()),
            _ => Self::Embedder(error),
        }
    }
}

impl ApiError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotConfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MalformedJson(_) | Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            Self::Embedder(error) if error.retryable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) | Self::Embedder(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Upstream(UpstreamError::Timeout(_)) => StatusCode::GATEWAY_TIMEOUT,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// The stable machine-readable code in the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotConfigured(_) => "not_configured",
            Self::RateLimited { .. } => "rate_limited",
            Self::MalformedJson(_) => "malformed_json",
            Self::Invalid(_) => "invalid_request",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::NotFound(_) => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::Store(StoreError::Conflict(_)) => "conflict",
            Self::Store(_) | Self::Embedder(_) if self.status().as_u16() == 503 => "unavailable",
            Self::Store(_) | Self::Embedder(_) => "internal",
            Self::Upstream(UpstreamError::Unavailable(_)) => "upstream_unavailable",
            Self::Upstream(UpstreamError::Timeout(_)) => "upstream_timeout",
            Self::Upstream(UpstreamError::Credentials(_)) => "upstream_credentials",
            Self::Upstream(UpstreamError::Failed(_)) => "upstream_error",
        }
    }

    /// The message callers see: the error itself for client errors and for what is not
    /// memvox's own failure (a missing setting, the upstream LLM), a generic sentence for
    /// server errors (whose cause chain is logged instead).
    pub fn public_message(&self) -> String {
        if self.status().is_server_error()
            && !matches!(self, Self::NotConfigured(_) | Self::Upstream(_))
        {
            "temporarily unable to answer; retry later".to_owned()
        } else {
            self.to_string()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %error_chain(&self), "request failed");
        }
        let retry_after_secs = match self {
            Self::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        error_response(
            status,
            self.code(),
            &self.public_message(),
            retry_after_secs,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_their_statuses() {
        let missing = ApiError::from(StoreError::NotFound {
            what: "memory 7".into(),
        });
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(missing.public_message(), "memory 7 not found");
        let down = ApiError::from(StoreError::Unavailable(sqlx::Error::PoolClosed));
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.code(), "unavailable");
        assert!(!down.public_message().contains("pool"));
        let corrupt = ApiError::from(StoreError::Corrupt("bad row".into()));
        assert_eq!(corrupt.code(), "internal");
        assert!(error_chain(&corrupt).contains("bad row"));
    }

    #[test]
    fn input_faults_of_the_embedder_are_client_errors() {
        let empty = ApiError::from(AiError::InvalidInput {
            index: 0,
            reason: "the text is empty".into(),
        });
        assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    }
}
