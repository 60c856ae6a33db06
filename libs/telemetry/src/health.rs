//! Health endpoints for orchestrators and operators, and the Prometheus scrape endpoint.
//!
//! - `GET /health/live`: the process is up and serving HTTP; never checks dependencies, so a
//!   broken database does not get every pod restarted.
//! - `GET /health/ready`: every named [`ReadinessCheck`] passes. Turns 503 `shutting_down` as
//!   soon as the shutdown token is cancelled, before anything else stops, so the load balancer
//!   drains the pod while in-flight requests finish.
//! - `GET /health`: the same checks with per-check detail, the service name and version.
//! - `GET /metrics`: the shared registry in the Prometheus text format.
//!
//! Checks run concurrently, each under a timeout, so one hung dependency cannot hang the probe.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// How long a readiness check may take before it counts as failed.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One dependency the service needs to serve traffic ("store", "bus", ...).
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// `Ok(())` when the dependency is usable; otherwise a short reason shown to operators in
    /// the probe body, so it must not contain secrets such as connection strings.
    async fn check(&self) -> Result<(), String>;
}

/// The health endpoints of one service, configured before being turned into a router.
pub struct Health {
    service: &'static str,
    version: &'static str,
    checks: Vec<(&'static str, Arc<dyn ReadinessCheck>)>,
    check_timeout: Duration,
    metrics: Metrics,
    shutdown: CancellationToken,
}

impl Health {
    /// Health endpoints for `service` with no checks, the default timeout and the workspace
    /// version. Cancelling `shutdown` turns readiness to 503.
    pub fn new(service: &'static str, metrics: Metrics, shutdown: CancellationToken) -> Self {
        Self {
            service,
            version: env!("CARGO_PKG_VERSION"),
            checks: Vec::new(),
            check_timeout: DEFAULT_CHECK_TIMEOUT,
            metrics,
            shutdown,
        }
    }

    /// Adds a named readiness check.
    pub fn check(mut self, name: &'static str, check: Arc<dyn ReadinessCheck>) -> Self {
        self.checks.push((name, check));
        self
    }

    /// Sets how long each check may run before it counts as failed.
    pub fn check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }

    /// Sets the version reported by `GET /health`.
    pub fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    /// The router serving `/health/live`, `/health/ready`, `/health` and `/metrics`.
    pub fn into_router(self) -> Router {
        Router::new()
            .route("/health/live", get(live))
            .route("/health/ready", get(ready))
            .route("/health", get(health))
            .route("/metrics", get(metrics))
            .with_state(Arc::new(self))
    }

    /// Runs every check concurrently, each under the timeout, in registration order.
    async fn run_checks(&self) -> Vec<CheckOutcome> {
        let runs = self.checks.iter().map(|(name, check)| async move {
            let started = Instant::now();
            let result = tokio::time::timeout(self.check_timeout, check.check())
                .await
                .unwrap_or_else(|_| {
                    Err(format!(
                        "timed out after {} ms",
                        self.check_timeout.as_millis()
                    ))
                });
            CheckOutcome {
                name,
                result,
                elapsed: started.elapsed(),
            }
        });
        futures::future::join_all(runs).await
    }
}

/// [`Health`] with the given checks and the default timeout, as a router.
pub fn health_router(
    service: &'static str,
    checks: Vec<(&'static str, Arc<dyn ReadinessCheck>)>,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> Router {
    checks
        .into_iter()
        .fold(
            Health::new(service, metrics, shutdown),
            |health, (name, check)| health.check(name, check),
        )
        .into_router()
}

/// The result of one check.
struct CheckOutcome {
    name: &'static str,
    result: Result<(), String>,
    elapsed: Duration,
}

/// Body of `GET /health/live` and `GET /health/ready`.
#[derive(Serialize)]
struct ProbeBody {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<BTreeMap<&'static str, String>>,
}

/// Body of `GET /health`.
#[derive(Serialize)]
struct HealthBody {
    service: &'static str,
    version: &'static str,
    status: &'static str,
    shutting_down: bool,
    checks: BTreeMap<&'static str, CheckDetail>,
}

/// One check in the body of `GET /health`.
#[derive(Serialize)]
struct CheckDetail {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    duration_ms: f64,
}

async fn live() -> Response {
    let body = ProbeBody {
        status: "alive",
        checks: None,
    };
    Json(body).into_response()
}

async fn ready(State(health): State<Arc<Health>>) -> Response {
    if health.shutdown.is_cancelled() {
        let body = ProbeBody {
            status: "shutting_down",
            checks: None,
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    let outcomes = health.run_checks().await;
    let all_ok = outcomes.iter().all(|o| o.result.is_ok());
    let checks = outcomes
        .into_iter()
        .map(|o| (o.name, o.result.err().unwrap_or_else(|| "ok".to_owned())))
        .collect();
    let (code, status) = if all_ok {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unready")
    };
    let body = ProbeBody {
        status,
        checks: Some(checks),
    };
    (code, Json(body)).into_response()
}

async fn health(State(health): State<Arc<Health>>) -> Response {
    let shutting_down = health.shutdown.is_cancelled();
    let outcomes = health.run_checks().await;
    let healthy = !shutting_down && outcomes.iter().all(|o| o.result.is_ok());
    let checks = outcomes
        .into_iter()
        .map(|o| {
            let detail = CheckDetail {
                status: if o.result.is_ok() { "ok" } else { "error" },
                error: o.result.err(),
                duration_ms: o.elapsed.as_secs_f64() * 1000.0,
            };
            (o.name, detail)
        })
        .collect();
    let (code, status) = if healthy {
        (StatusCode::OK, "healthy")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unhealthy")
    };
    let body = HealthBody {
        service: health.service,
        version: health.version,
        status,
        shutting_down,
        checks,
    };
    (code, Json(body)).into_response()
}

async fn metrics(State(health): State<Arc<Health>>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        health.metrics.render(),
    )
        .into_response()
}
