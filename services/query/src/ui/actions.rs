//! What the inspector changes, each through the REST API's own function so the same
//! redaction, re-embedding, history entries, cache invalidation, announcements and erasure
//! receipt follow: edit (`routes::memories::edit`), pause / resume (an edit of the state),
//! delete (`routes::memories::delete`) and erase (`routes::users::erase`).
//!
//! The session and the form's CSRF token are checked before any of these runs (`guard`).
//! Deleting needs its confirmation box ticked; erasing a caller needs their id typed on a
//! confirmation page first, and shows the erasure receipt. A refused confirmation changes
//! nothing (400).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use memvox_core::{MemoryState, Sector};
use serde::Deserialize;

use super::error::UiError;
use super::layout::{csrf, memory_path, page, user_path};
use super::session::Session;
use crate::routes::memories::{
    EditMemory, delete as delete_memory, edit as edit_memory, memory_id,
};
use crate::routes::users::{ErasureView, erase as erase_user, profile};
use crate::{ApiError, QueryState};

/// The edit form.
#[derive(Debug, Deserialize)]
pub struct EditForm {
    content: String,
    sector: Sector,
    salience: f64,
    state: MemoryState,
}

/// The pause / resume form.
#[derive(Debug, Deserialize)]
pub struct StateForm {
    state: MemoryState,
}

/// A confirmation: the box ticked (`yes`) for a deletion, the caller's id for an erasure.
#[derive(Debug, Deserialize)]
pub struct Confirm {
    #[serde(default)]
    confirm: String,
}

/// Where a memory's page is, with the notice of what was `done`.
fn back_to_memory(user_id: &str, id: i64, done: &str) -> Redirect {
    Redirect::to(&format!("{}?done={done}", memory_path(user_id, id)))
}

/// `POST /ui/users/{user_id}/memories/{memory_id}`: saves the fields that differ.
pub async fn edit(
    State(state): State<QueryState>,
    Path((user_id, id)): Path<(String, String)>,
    form: Result<Form<EditForm>, FormRejection>,
) -> Result<Redirect, UiError> {
    let Form(form) = form?;
    let id = memory_id(&id)?;
    if !(0.0..=1.0).contains(&form.salience) {
        return Err(ApiError::Invalid("salience must be within 0 and 1".to_owned()).into());
    }
    let current = state
        .store
        .get_memory(&user_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("memory {id}")))?;
    // A browser sends line breaks as CR LF: compare and store the text as typed.
    let content = form.content.replace("\r\n", "\n");
    let changes = EditMemory {
        content: (content.trim() != current.content).then_some(content),
        sector: (form.sector != current.sector).then_some(form.sector),
        salience: ((form.salience - current.salience).abs() >= 0.005).then_some(form.salience),
        state: (form.state != current.state).then_some(form.state),
    };
    let unchanged = changes.content.is_none()
        && changes.sector.is_none()
        && changes.salience.is_none()
        && changes.state.is_none();
    if unchanged {
        return Ok(back_to_memory(&user_id, id, "unchanged"));
    }
    edit_memory(&state, &user_id, id, &changes).await?;
    Ok(back_to_memory(&user_id, id, "edited"))
}

/// `POST /ui/users/{user_id}/memories/{memory_id}/state`: pause, resume or archive.
pub async fn set_state(
    State(state): State<QueryState>,
    Path((user_id, id)): Path<(String, String)>,
    form: Result<Form<StateForm>, FormRejection>,
) -> Result<Redirect, UiError> {
    let Form(form) = form?;
    let id = memory_id(&id)?;
    let change = EditMemory {
        state: Some(form.state),
        ..EditMemory::default()
    };
    edit_memory(&state, &user_id, id, &change).await?;
    Ok(back_to_memory(&user_id, id, form.state.as_str()))
}

/// `POST /ui/users/{user_id}/memories/{memory_id}/delete` with `confirm=yes`.
pub async fn delete(
    State(state): State<QueryState>,
    Path((user_id, id)): Path<(String, String)>,
    form: Result<Form<Confirm>, FormRejection>,
) -> Result<Redirect, UiError> {
    let Form(form) = form?;
    let id = memory_id(&id)?;
    if form.confirm != "yes" {
        return Err(ApiError::Invalid(
            "tick “I mean it” to delete a memory: nothing was deleted".to_owned(),
        )
        .into());
    }
    delete_memory(&state, &user_id, id).await?;
    Ok(Redirect::to(&format!(
        "{}?done=deleted",
        user_path(&user_id)
    )))
}

/// The erasure confirmation page, with `error` when a confirmation was refused.
async fn confirmation(
    state: &QueryState,
    session: &Session,
    user_id: &str,
    error: Option<&str>,
) -> Result<Markup, UiError> {
    let view = profile(state, user_id).await?;
    Ok(page(
        "Erase a caller",
        Some(session),
        html! {
            p.crumbs { a href=(user_path(user_id)) { "← " (user_id) } }
            section.danger {
                h1 { "Erase " (user_id) "?" }
                p {
                    "This deletes every row about this caller — " (view.counts.total)
                    " memories, their calls and transcripts, their numbers — their calls' audio \
                     files and the queued messages naming them, and cannot be undone. \
                     Tombstones keep deliveries of their old calls from bringing them back."
                }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                form method="post" action={ (user_path(user_id)) "/erase" } {
                    (csrf(session))
                    label for="confirm" { "Type the caller's id, " code { (user_id) } ", to confirm" }
                    input #confirm type="text" name="confirm" required autocomplete="off";
                    button.danger type="submit" { "Erase for good" }
                }
            }
        },
    ))
}

/// `GET /ui/users/{user_id}/erase`: asks first.
pub async fn confirm_erase(
    State(state): State<QueryState>,
    Extension(session): Extension<Session>,
    Path(user_id): Path<String>,
) -> Result<Markup, UiError> {
    confirmation(&state, &session, &user_id, None).await
}

/// `POST /ui/users/{user_id}/erase`: erases when the caller's id was typed, and shows the
/// receipt; otherwise the confirmation again (400).
pub async fn erase(
    State(state): State<QueryState>,
    Extension(session): Extension<Session>,
    Path(user_id): Path<String>,
    form: Result<Form<Confirm>, FormRejection>,
) -> Result<Response, UiError> {
    let Form(form) = form?;
    if form.confirm.trim() != user_id {
        let error = "The id typed is not this caller's: nothing was erased.";
        let page = confirmation(&state, &session, &user_id, Some(error)).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let receipt = erase_user(&state, &user_id).await?;
    Ok(receipt_page(&session, &receipt).into_response())
}

fn receipt_page(session: &Session, receipt: &ErasureView) -> Markup {
    page(
        "Erasure receipt",
        Some(session),
        html! {
            h1 { "Erased " (receipt.user_id) }
            p.notice role="status" { (receipt.total) " rows deleted." }
            table.receipt {
                thead { tr { th { "What" } th { "Deleted" } } }
                tbody {
                    @for (table, rows) in &receipt.deleted {
                        tr { td { code { (table) } } td.num { (rows) } }
                    }
                    tr { td { "audio files" } td.num { (receipt.audio_files) } }
                    tr { td { "stream entries" } td.num { (receipt.stream_entries) } }
                    tr { td { "dead letters" } td.num { (receipt.dead_letters) } }
                }
            }
            p { a href="/ui" { "Find another caller" } }
        },
    )
}
