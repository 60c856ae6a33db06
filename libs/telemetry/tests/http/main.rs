//! HTTP behaviour of the telemetry crate, driven through axum routers with `oneshot` (no ports).

mod health;
mod middleware;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};

/// Sends a GET for `uri` (with optional extra headers) through a clone of `app`.
async fn send(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Response<Body> {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Body::empty())
        .expect("test request is well formed");
    memvox_testkit::http::respond(app, request).await
}

/// Reads a whole response body as text.
async fn text(response: Response<Body>) -> String {
    let bytes = memvox_testkit::http::body(response).await;
    String::from_utf8(bytes.to_vec()).expect("body is UTF-8")
}

/// Reads a whole response body as JSON.
async fn json(response: Response<Body>) -> serde_json::Value {
    serde_json::from_str(&text(response).await).expect("body is JSON")
}
