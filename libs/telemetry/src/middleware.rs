//! Per-request instrumentation for axum routers: a request id, a tracing span, and the two HTTP
//! metrics of [`Metrics`].
//!
//! Requests are labelled by the route template axum matched (`/users/{id}`), never by the raw
//! path, so a scan of random URLs cannot explode metric cardinality; requests no route matched
//! are labelled [`UNMATCHED_ROUTE`]. A request keeps the `x-request-id` it arrived with (so ids
//! survive a hop through the ingress or another service) or gets a fresh [`FastRequestId`]; the
//! response always carries it back.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tracing::Instrument as _;

use crate::metrics::Metrics;
use crate::request_id::FastRequestId;

/// Route label of requests that matched no route (404s from the fallback).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// What the per-request middleware needs: the service label and the metrics handle.
#[derive(Clone)]
struct Instrumentation {
    service: &'static str,
    metrics: Metrics,
}

/// Wraps every route of `router` (and its fallback) with request ids, a tracing span per request
/// and the HTTP request metrics, labelled with `service`.
///
/// Call it after all routes are added: routes added later are not instrumented.
pub fn instrument<S>(router: Router<S>, service: &'static str, metrics: Metrics) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let state = Instrumentation { service, metrics };
    // The last layer added runs first: set the id, then copy it to the response, then observe.
    router
        .layer(middleware::from_fn_with_state(state, observe))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(FastRequestId::new()))
}

/// Runs the request inside its span and records its status and latency.
async fn observe(State(state): State<Instrumentation>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!(
        "http_request",
        otel.kind = "server",
        service = state.service,
        method = %method,
        route = %route,
        request_id = %request_id,
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.record("status", status);
    span.in_scope(|| {
        tracing::debug!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    state
        .metrics
        .observe_request(state.service, &route, method.as_str(), status, elapsed);
    response
}
