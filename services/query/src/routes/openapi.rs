//! `GET /openapi.json`: the hand-written OpenAPI 3.1 description of every route but `/ui`
//! (`openapi.json` next to this file): what each operation accepts, every status it answers
//! with its body, links between operations. `tests/query/openapi.rs` compares its paths and
//! methods with [`super::ROUTES`] and the router, resolves its references and links, and checks
//! the statuses of refused requests; `scripts/test-api-schema.sh` runs schemathesis against
//! `memvox serve` with it, so the description cannot drift from what is served.

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
