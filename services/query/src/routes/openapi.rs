//! `GET /openapi.json`: the hand-written OpenAPI 3.1 description of every route
//! (`openapi.json` next to this file). A test compares its paths and methods with
//! [`super::ROUTES`] and the router, so the description cannot drift from what is served.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::QueryState;

/// The OpenAPI document.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// `GET /openapi.json`.
pub fn router() -> Router<QueryState> {
    Router::new().route("/openapi.json", get(openapi))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
