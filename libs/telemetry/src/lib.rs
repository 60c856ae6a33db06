//! Observability shared by every memvox service: structured logs, a Prometheus registry, the HTTP
//! middleware that labels requests by route template and carries a request id, and the
//! `/health`, `/health/live`, `/health/ready` and `/metrics` endpoints.
//!
//! A service calls [`init_logging`] once at start-up (holding the [`TelemetryGuard`] it returns,
//! which flushes exported traces on drop), builds one [`Metrics`] handle, wraps its
//! router with [`instrument`] and merges [`health_router`] (or a configured [`Health`]) into it.
//! Metrics are labelled by route template (`/users/{id}`), never by raw path, so label
//! cardinality stays bounded whatever callers send.

pub mod health;
pub mod logging;
pub mod metrics;
pub mod middleware;
pub mod request_id;
pub mod trace;

pub use health::{DEFAULT_CHECK_TIMEOUT, Health, ReadinessCheck, health_router};
pub use logging::{LogFormat, LogSettings, error_chain, init_logging};
pub use metrics::Metrics;
pub use middleware::{UNMATCHED_ROUTE, instrument};
pub use request_id::FastRequestId;
pub use trace::{OtlpProtocol, OtlpSettings, TelemetryGuard};

/// Errors raised while setting telemetry up. None occur while serving requests.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The log filter is not a valid `EnvFilter` directive: a configuration mistake, not worth
    /// retrying.
    #[error("invalid log filter {directive:?}: {source}")]
    InvalidFilter {
        /// The directive as configured.
        directive: String,
        /// Why `tracing-subscriber` rejected it.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// The trace export settings (`log.otlp` or the `OTEL_*` variables) break a rule the
    /// message names: a configuration mistake.
    #[error("invalid trace export settings: {0}")]
    InvalidTracing(String),
    /// The OTLP exporter could not be built from valid-looking settings.
    #[error("could not build the OTLP exporter: {0}")]
    Exporter(String),
}
