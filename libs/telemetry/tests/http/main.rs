//! HTTP behaviour of the telemetry crate, driven through axum routers with `oneshot` (no ports).

mod health;
mod middleware;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use tower::ServiceExt as _;

/// Sends a GET for `uri` (with optional extra headers) through a clone of `app`.
async fn send(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Response<Body> {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Body::empty())
        .expect("test request is well formed");
    // A router's error type is `Infallible`.
    app.clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {})
}

/// Reads a whole response body as text.
async fn text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body is readable");
    String::from_utf8(bytes.to_vec()).expect("body is UTF-8")
}

/// Reads a whole response body as JSON.
async fn json(response: Response<Body>) -> serde_json::Value {
    serde_json::from_str(&text(response).await).expect("body is JSON")
}
