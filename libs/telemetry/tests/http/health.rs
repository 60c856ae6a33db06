//! `/health/live`, `/health/ready`, `/health` and `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::http::{StatusCode, header};
use memvox_telemetry::{Health, Metrics, ReadinessCheck, health_router, instrument};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::{json, send, text};

/// A check that always answers the same thing.
struct Fixed(Result<(), &'static str>);

#[async_trait]
impl ReadinessCheck for Fixed {
    async fn check(&self) -> Result<(), String> {
        self.0.map_err(str::to_owned)
    }
}

/// A check that never completes, like a dependency that accepts the connection and goes silent.
struct Hung;

#[async_trait]
impl ReadinessCheck for Hung {
    async fn check(&self) -> Result<(), String> {
        std::future::pending().await
    }
}

fn ok() -> Arc<dyn ReadinessCheck> {
    Arc::new(Fixed(Ok(())))
}

fn failing(reason: &'static str) -> Arc<dyn ReadinessCheck> {
    Arc::new(Fixed(Err(reason)))
}

fn router(checks: Vec<(&'static str, Arc<dyn ReadinessCheck>)>) -> Router {
    health_router("gateway", checks, Metrics::new(), CancellationToken::new())
}

#[tokio::test]
async fn live_is_alive_even_when_a_check_fails() {
    let app = router(vec![("store", failing("down"))]);
    let response = send(&app, "/health/live", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await, json!({"status": "alive"}));
}

#[tokio::test]
async fn ready_when_every_check_passes() {
    let app = router(vec![("store", ok()), ("bus", ok())]);
    let response = send(&app, "/health/ready", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json(response).await,
        json!({"status": "ready", "checks": {"store": "ok", "bus": "ok"}})
    );
}

#[tokio::test]
async fn failing_check_makes_ready_503_with_its_message() {
    let app = router(vec![
        ("store", ok()),
        ("bus", failing("connection refused")),
    ]);
    let response = send(&app, "/health/ready", &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        json(response).await,
        json!({"status": "unready", "checks": {"store": "ok", "bus": "connection refused"}})
    );
}

#[tokio::test]
async fn hung_check_times_out_into_503() {
    let app = Health::new("query", Metrics::new(), CancellationToken::new())
        .check("store", ok())
        .check("bus", Arc::new(Hung))
        .check_timeout(Duration::from_millis(20))
        .into_router();
    let response = send(&app, "/health/ready", &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    assert_eq!(body["status"], "unready");
    assert_eq!(body["checks"]["store"], "ok");
    assert_eq!(body["checks"]["bus"], "timed out after 20 ms");
}

#[tokio::test]
async fn shutdown_turns_ready_503_while_live_stays_200() {
    let shutdown = CancellationToken::new();
    let app = health_router(
        "gateway",
        vec![("store", ok())],
        Metrics::new(),
        shutdown.clone(),
    );
    assert_eq!(
        send(&app, "/health/ready", &[]).await.status(),
        StatusCode::OK
    );

    shutdown.cancel();
    let response = send(&app, "/health/ready", &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(response).await, json!({"status": "shutting_down"}));
    assert_eq!(
        send(&app, "/health/live", &[]).await.status(),
        StatusCode::OK
    );

    let response = send(&app, "/health", &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["shutting_down"], true);
}

#[tokio::test]
async fn health_reports_service_version_and_check_detail() {
    let app = Health::new("query", Metrics::new(), CancellationToken::new())
        .check("store", ok())
        .version("9.9.9")
        .into_router();
    let response = send(&app, "/health", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["service"], "query");
    assert_eq!(body["version"], "9.9.9");
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["shutting_down"], false);
    assert_eq!(body["checks"]["store"]["status"], "ok");
    assert!(body["checks"]["store"]["duration_ms"].is_f64(), "{body}");
}

#[tokio::test]
async fn health_is_unhealthy_with_the_failing_check_error() {
    let app = router(vec![("store", ok()), ("bus", failing("NOGROUP"))]);
    let response = send(&app, "/health", &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["service"], "gateway");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["checks"]["bus"]["status"], "error");
    assert_eq!(body["checks"]["bus"]["error"], "NOGROUP");
    assert_eq!(body["checks"]["store"]["status"], "ok");
    assert!(body["checks"]["store"].get("error").is_none(), "{body}");
}

#[tokio::test]
async fn metrics_endpoint_serves_prometheus_text() {
    let metrics = Metrics::new();
    let app = instrument(
        health_router("gateway", vec![], metrics.clone(), CancellationToken::new()),
        "gateway",
        metrics,
    );
    assert_eq!(
        send(&app, "/health/live", &[]).await.status(),
        StatusCode::OK
    );

    let response = send(&app, "/metrics", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4"
    );
    let body = text(response).await;
    assert!(
        body.contains("# TYPE memvox_http_requests_total counter"),
        "{body}"
    );
    assert!(
        body.contains(
            r#"memvox_http_requests_total{method="GET",route="/health/live",service="gateway",status="200"} 1"#
        ),
        "{body}"
    );
}
