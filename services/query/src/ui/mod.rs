//! The memory inspector at `/ui`: server-rendered HTML pages over the store and the `/v1`
//! functions, for people to find a caller (by user id or number), read their summary and
//! memories by sector with salience, state and decay, follow a memory to the call and turns it
//! came from, see its history and links, search with the score breakdown, and edit, pause,
//! delete or erase (asking first, showing the erasure receipt).
//!
//! Pages are written with `maud` (every value escaped); the one stylesheet and script are
//! compiled into the binary and served from `/ui/assets/`, so the inspector works offline and
//! its Content-Security-Policy allows nothing else. Admins sign in with an admin token and get
//! a signed session cookie (`session`); every page needs one and every form its CSRF token
//! (`guard`). Changes go through the REST API's own functions (`actions`).

mod actions;
mod caller;
mod chart;
mod error;
mod graph;
mod guard;
mod layout;
mod login;
mod memory;
mod provenance;
mod search;
mod session;

use axum::Router;
use axum::http::header;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{get, post};

pub use guard::CONTENT_SECURITY_POLICY;
pub use session::{COOKIE, Session, SessionKeys};

use crate::QueryState;

/// The inspector's stylesheet.
const APP_CSS: &str = include_str!("assets/app.css");
/// The inspector's script.
const APP_JS: &str = include_str!("assets/app.js");

/// Every inspector route: sign-in and the assets open, the rest behind a session.
pub fn router(state: &QueryState) -> Router<QueryState> {
    let memory = "/ui/users/{user_id}/memories/{memory_id}";
    let pages = Router::new()
        .route("/ui", get(caller::home))
        .route("/ui/find", get(caller::find))
        .route("/ui/logout", post(login::sign_out))
        .route("/ui/users/{user_id}", get(caller::show))
        .route("/ui/users/{user_id}/search", get(search::show))
        .route(
            "/ui/users/{user_id}/erase",
            get(actions::confirm_erase).post(actions::erase),
        )
        .route(memory, get(memory::show).post(actions::edit))
        .route(&format!("{memory}/state"), post(actions::set_state))
        .route(&format!("{memory}/delete"), post(actions::delete))
        .route_layer(from_fn_with_state(state.clone(), guard::require_session));
    Router::new()
        .route("/ui/login", get(login::show).post(login::sign_in))
        .route("/ui/assets/app.css", get(css))
        .route("/ui/assets/app.js", get(js))
        .merge(pages)
        .layer(from_fn(guard::security_headers))
}

/// Assets change only with the binary: cached for an hour.
const ASSET_CACHE: &str = "public, max-age=3600";

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, ASSET_CACHE),
        ],
        APP_CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, ASSET_CACHE),
        ],
        APP_JS,
    )
}
