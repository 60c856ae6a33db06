//! Request metrics labelled by route template, and request id assignment and propagation.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use memvox_telemetry::{Metrics, instrument};

use crate::{send, text};

fn app(metrics: &Metrics) -> Router {
    let routes = Router::new().route(
        "/users/{id}",
        get(|Path(id): Path<String>| async move { id }),
    );
    instrument(routes, "query", metrics.clone())
}

/// The value of the sample whose line starts with `series` (name and labels), if any.
fn sample(rendered: &str, series: &str) -> Option<f64> {
    rendered
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn requests_are_labelled_by_route_template() {
    let metrics = Metrics::new();
    let app = app(&metrics);
    for id in ["alice", "bob"] {
        let response = send(&app, &format!("/users/{id}"), &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(text(response).await, id);
    }

    let rendered = metrics.render();
    assert_eq!(
        sample(
            &rendered,
            r#"memvox_http_requests_total{method="GET",route="/users/{id}",service="query",status="200"}"#
        ),
        Some(2.0),
        "{rendered}"
    );
    assert_eq!(
        sample(
            &rendered,
            r#"memvox_http_request_duration_seconds_count{method="GET",route="/users/{id}",service="query"}"#
        ),
        Some(2.0),
        "{rendered}"
    );
    assert!(
        !rendered.contains("alice") && !rendered.contains("bob"),
        "{rendered}"
    );
}

#[tokio::test]
async fn unmatched_requests_share_one_label() {
    let metrics = Metrics::new();
    let app = app(&metrics);
    for path in ["/nope", "/wp-admin/setup.php"] {
        assert_eq!(send(&app, path, &[]).await.status(), StatusCode::NOT_FOUND);
    }

    let rendered = metrics.render();
    assert_eq!(
        sample(
            &rendered,
            r#"memvox_http_requests_total{method="GET",route="unmatched",service="query",status="404"}"#
        ),
        Some(2.0),
        "{rendered}"
    );
    assert!(!rendered.contains("wp-admin"), "{rendered}");
}

#[tokio::test]
async fn request_id_is_generated_when_absent() {
    let app = app(&Metrics::new());
    let first = send(&app, "/users/1", &[]).await;
    let second = send(&app, "/users/1", &[]).await;
    let id = |response: &axum::http::Response<axum::body::Body>| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (first, second) = (id(&first), id(&second));
    assert!(!first.is_empty());
    assert_ne!(first, second);
}

#[tokio::test]
async fn request_id_is_propagated_when_present() {
    let app = app(&Metrics::new());
    let response = send(&app, "/users/1", &[("x-request-id", "from-ingress-42")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "from-ingress-42");
}

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("log buffer lock")
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_span_carries_route_template_and_request_id() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = app(&Metrics::new());
    let response = send(&app, "/users/carol", &[("x-request-id", "trace-me-7")]).await;
    assert_eq!(response.status(), StatusCode::OK);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let finished: serde_json::Value = logs
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|event| event["fields"]["message"] == "request finished")
        .unwrap_or_else(|| panic!("no finish event in {logs}"));
    let span = &finished["span"];
    assert_eq!(span["name"], "http_request");
    assert_eq!(span["route"], "/users/{id}");
    assert_eq!(span["method"], "GET");
    assert_eq!(span["request_id"], "trace-me-7");
    assert_eq!(span["service"], "query");
    assert_eq!(finished["fields"]["status"], 200);
}
