//! Signing in to the inspector with an admin token, and signing out.
//!
//! The token is posted once, checked against `query.admin_token_sha256` as a bearer token is
//! (hashed, constant time), and exchanged for a session cookie (see `session`); the token
//! itself is never stored or sent back. A wrong token gets the form again with 401.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::UiError;
use super::guard;
use super::layout::page;
use super::session::set_cookie;
use crate::QueryState;

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignIn {
    token: String,
}

fn form(message: Option<&str>) -> Markup {
    page(
        "Sign in",
        None,
        html! {
            section.signin {
                h1 { "Sign in" }
                p { "Use an admin token (one of " code { "query.admin_token_sha256" } ")." }
                @if let Some(message) = message {
                    p.error role="alert" { (message) }
                }
                form method="post" action="/ui/login" {
                    label for="token" { "Admin token" }
                    input #token type="password" name="token" required autocomplete="off"
                        autofocus;
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// `GET /ui/login`: the form, or the inspector for a browser already signed in.
pub async fn show(State(state): State<QueryState>, headers: HeaderMap) -> Response {
    if guard::session(&state, &headers).is_some() {
        return Redirect::to("/ui").into_response();
    }
    form(None).into_response()
}

/// `POST /ui/login`: a session cookie for an admin token, or the form again (401).
pub async fn sign_in(
    State(state): State<QueryState>,
    headers: HeaderMap,
    body: Result<Form<SignIn>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(body) = body?;
    let Ok(index) = state.admin_tokens.authenticate_token(&body.token) else {
        tracing::warn!("inspector sign-in with a token that is not an admin token");
        let page = form(Some("That is not an admin token."));
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    state.admin_tokens.admit(index)?;
    let minutes = u64::from(state.settings.ui_session_minutes);
    let lifetime_ms = i64::try_from(minutes * 60_000).unwrap_or(i64::MAX);
    let digest = &state.admin_tokens.digests()[index];
    let value = state
        .ui_sessions
        .issue(digest, state.clock.now().saturating_add(lifetime_ms));
    tracing::info!(token = index, "inspector sign-in");
    let cookie = set_cookie(&value, minutes * 60, &headers);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/ui")).into_response())
}

/// `POST /ui/logout` (a session and its CSRF token checked first): deletes the cookie.
pub async fn sign_out(headers: HeaderMap) -> Response {
    let cookie = set_cookie("", 0, &headers);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/login")).into_response()
}
