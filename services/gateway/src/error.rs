//! [`GatewayError`]: every way a post-call delivery can fail, mapped to HTTP in one place.
//!
//! Bodies always have the shape `{"error": {"code": "...", "message": "..."}}`. Client errors say
//! what is wrong (the signature failure reason, the JSON field path); server errors log their
//! whole cause chain and answer a generic message. Status codes follow what ElevenLabs does with
//! them: 5xx and 429 are retried (when retries are enabled), other 4xx are not and count towards
//! auto-disabling the webhook, so only deliveries that can never succeed get one.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use memvox_elevenlabs::{PayloadError, SignatureError};
use memvox_runtime::error_response;
use memvox_store::StoreError;
use memvox_telemetry::error_chain;

/// Why a post-call delivery was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No webhook secret is configured, so no delivery can be verified.
    #[error("no webhook secret is configured (gateway.webhook_secrets)")]
    NotConfigured,
    /// The request does not declare a JSON body.
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    /// The body is larger than the limit for its event type.
    #[error("body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit that applied, in bytes.
        limit: usize,
    },
    /// The body could not be read from the connection.
    #[error("could not read the request body: {0}")]
    BodyRead(#[source] axum::Error),
    /// The body did not arrive within `gateway.body_read_timeout_ms`.
    #[error("the request body did not arrive within {timeout_ms} ms")]
    BodyTimeout {
        /// The timeout that applied, in milliseconds.
        timeout_ms: u64,
    },
    /// Every slot for large bodies is taken (`gateway.max_concurrent_large_bodies`).
    #[error("too many large deliveries are being received; retry later")]
    Busy {
        /// Seconds to wait before retrying.
        retry_after_secs: u64,
    },
    /// The `ElevenLabs-Signature` check failed.
    #[error("signature rejected: {0}")]
    Signature(#[source] SignatureError),
    /// The body is not JSON, or not a post-call webhook envelope.
    #[error("{0}")]
    Payload(#[source] PayloadError),
    /// A value parsed but cannot be used (e.g. an id unfit for a file name).
    #[error("invalid value at {path}: {rule}")]
    Invalid {
        /// Where the value is, e.g. `data.conversation_id`.
        path: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The client sent more requests than its rate allows.
    #[error("rate limit exceeded")]
    RateLimited {
        /// Seconds until a request would be allowed again.
        retry_after_secs: u64,
    },
    /// The store could not be reached; nothing was recorded or published.
    #[error("store unavailable")]
    StoreUnavailable(#[source] StoreError),
    /// The store failed for another reason; nothing was published.
    #[error("store error")]
    Store(#[source] StoreError),
    /// The audio file could not be written; nothing was recorded or published.
    #[error("audio could not be saved")]
    Audio(#[source] std::io::Error),
    /// The task recording the event ended without answering (it panicked).
    #[error("recording task failed")]
    TaskFailed,
}

impl GatewayError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotConfigured
            | Self::Busy { .. }
            | Self::StoreUnavailable(_)
            | Self::Audio(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyRead(_) | Self::Payload(_) | Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Signature(_) => StatusCode::UNAUTHORIZED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Store(_) | Self::TaskFailed => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code in the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::BodyRead(_) => "body_unreadable",
            Self::BodyTimeout { .. } => "body_timeout",
            Self::Busy { .. } => "busy",
            Self::Signature(_) => "invalid_signature",
            Self::Payload(error) if error.is_syntax() => "malformed_json",
            Self::Payload(_) | Self::Invalid { .. } => "invalid_payload",
            Self::RateLimited { .. } => "rate_limited",
            Self::StoreUnavailable(_) | Self::Audio(_) => "unavailable",
            Self::Store(_) | Self::TaskFailed => "internal",
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = self.status();
        // A full set of large-body slots is load, not a failure: it was logged as a warning.
        let message = if status.is_server_error() && !matches!(self, Self::Busy { .. }) {
            tracing::error!(code = self.code(), error = %error_chain(&self), "post-call webhook failed");
            match self {
                Self::NotConfigured => self.to_string(),
                _ => "temporarily unable to accept the webhook; retry later".to_owned(),
            }
        } else {
            self.to_string()
        };
        let retry_after_secs = match self {
            Self::RateLimited { retry_after_secs } | Self::Busy { retry_after_secs } => {
                Some(retry_after_secs)
            }
            _ => None,
        };
        error_response(status, self.code(), &message, retry_after_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_elevenlabs_retry_semantics() {
        assert_eq!(
            GatewayError::Signature(SignatureError::Mismatch).status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            GatewayError::NotConfigured.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let closed = StoreError::Unavailable(sqlx_closed());
        assert_eq!(
            GatewayError::StoreUnavailable(closed).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn chain_includes_every_cause() {
        let error = GatewayError::StoreUnavailable(StoreError::Unavailable(sqlx_closed()));
        let text = error_chain(&error);
        assert!(
            text.starts_with("store unavailable: database unavailable"),
            "{text}"
        );
    }

    fn sqlx_closed() -> sqlx::Error {
        sqlx::Error::PoolClosed
    }
}
