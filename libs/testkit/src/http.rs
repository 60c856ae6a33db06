//! One request through an axum router in process (`oneshot`: no port, no client).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use tower::ServiceExt as _;

/// Sends `request` through a clone of `router`; the response as it came.
pub async fn respond(router: &Router, request: Request<Body>) -> Response<Body> {
    router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {})
}

/// Sends `request` through a clone of `router`; the status and the whole body.
pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Bytes) {
    let response = respond(router, request).await;
    let status = response.status();
    (status, body(response).await)
}

/// A whole response body.
pub async fn body(response: Response<Body>) -> Bytes {
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
}
