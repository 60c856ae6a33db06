//! `/v1/users/{user_id}/memories`: list with filters, search (ranked like the tool), add by
//! hand, read, edit and delete one memory.
//!
//! Writes embed the new text at once, so a memory added or reworded through the API is
//! searchable on the next query, and announce `MemoriesChanged` so the embedding worker links
//! it and refreshes the user's summary. Every write drops the user's cached query answers.
//!
//! New content goes through the memory-content redaction policy (`privacy.redaction`) first:
//! what it masks is stored masked (and answered so), and content holding a kind it drops is
//! refused (400) — the memory is not stored.

use std::borrow::Cow;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use memvox_bus::Message;
use memvox_core::{Memory, MemoryId, MemoryKind, MemoryState, NewMemory, Sector};
use memvox_store::{MemoryEdit, MemoryFilter, MemoryOrder};
use serde::Deserialize;

use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::users::require_user;
use crate::search::{Recall, SearchAnswer, SearchParams, search};
use crate::{ApiError, QueryState};

/// Default and largest page of a listing.
const LIST_DEFAULT: usize = 50;
const LIST_MAX: usize = 1_000;

/// The memory routes.
pub fn router() -> Router<QueryState> {
    Router::new()
        .route(
            "/v1/users/{user_id}/memories",
            get(list_memories).post(add_memory),
        )
        .route("/v1/users/{user_id}/memories/search", post(search_memories))
        .route(
            "/v1/users/{user_id}/memories/{memory_id}",
            get(get_memory).patch(edit_memory).delete(delete_memory),
        )
}

/// Query string of a listing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Comma-separated kinds, `fact` and/or `episode` (default: facts).
    kind: Option<String>,
    /// Comma-separated sectors.
    sector: Option<String>,
    /// Comma-separated states (default: active).
    state: Option<String>,
    #[serde(default)]
    include_superseded: bool,
    created_after: Option<i64>,
    created_before: Option<i64>,
    limit: Option<usize>,
}

fn split<T: std::str::FromStr>(list: Option<&str>) -> Result<Vec<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse()
                .map_err(|e: T::Err| ApiError::Invalid(e.to_string()))
        })
        .collect()
}

async fn list_memories(
    State(state): State<QueryState>,
    ApiPath(user_id): ApiPath<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Vec<Memory>>, ApiError> {
    require_user(&state, &user_id).await?;
    let filter = MemoryFilter {
        kinds: split::<MemoryKind>(params.kind.as_deref())?,
        sectors: split::<Sector>(params.sector.as_deref())?,
        states: split::<MemoryState>(params.state.as_deref())?,
        include_superseded: params.include_superseded,
        created_after: params.created_after,
        created_before: params.created_before,
    };
    let limit = params.limit.unwrap_or(LIST_DEFAULT).clamp(1, LIST_MAX);
    let memories = state
        .store
        .list_memories(&user_id, &filter, MemoryOrder::Newest, limit)
        .await?;
    Ok(Json(memories))
}

async fn search_memories(
    State(state): State<QueryState>,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(params): ApiJson<SearchParams>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let started = Instant::now();
    require_user(&state, &user_id).await?;
    // The REST search always explains: people reading it want to know why.
    let params = SearchParams {
        explain: true,
        ..params
    };
    Ok(Json(
        search(&state, Some(&user_id), &params, started, Recall::Reinforce).await?,
    ))
}

/// Body of a manual add (also what the MCP `add_memory` tool adds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddMemory {
    /// The memory's text.
    pub content: String,
    /// Its sector.
    pub sector: Sector,
    /// Its importance in `[0, 1]`.
    #[serde(default = "default_salience")]
    pub salience: f64,
}

/// Salience of a memory added without one.
pub(crate) fn default_salience() -> f64 {
    0.5
}

/// New content, trimmed and under the memory-content redaction policy.
fn screened<'a>(state: &QueryState, content: &'a str) -> Result<Cow<'a, str>, ApiError> {
    let content = content.trim();
    if content.is_empty() {
        return Err(ApiError::Invalid("content must not be empty".to_owned()));
    }
    state.memory_content.screen(content).map_err(|kind| {
        ApiError::Invalid(format!(
            "content holds personal data ({kind}) that privacy.redaction drops from memory \
             content: the memory is not stored"
        ))
    })
}

async fn add_memory(
    State(state): State<QueryState>,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(body): ApiJson<AddMemory>,
) -> Result<(StatusCode, Json<Memory>), ApiError> {
    let memory = add(&state, &user_id, &body).await?;
    Ok((StatusCode::CREATED, Json(memory)))
}

/// Adds `body` to `user_id`'s memories (creating the user if needed): screened by the
/// memory-content policy, embedded at once, announced.
///
/// # Errors
/// [`ApiError::Invalid`] for empty content or content holding a dropped kind; store and
/// embedder failures.
pub(crate) async fn add(
    state: &QueryState,
    user_id: &str,
    body: &AddMemory,
) -> Result<Memory, ApiError> {
    let content = screened(state, &body.content)?;
    let content = content.as_ref();
    let now = state.clock.now();
    let vector = state.embedder.embed_one(content).await?;
    state.store.ensure_user(user_id, now).await?;
    let memory = state
        .store
        .insert_memory(
            &NewMemory {
                user_id: user_id.to_owned(),
                content: content.to_owned(),
                sector: body.sector,
                salience: body.salience,
                provenance: None,
            },
            now,
        )
        .await?;
    state
        .store
        .store_embeddings(&[(memory.id, vector)], now)
        .await?;
    announce_change(state, &memory).await;
    Ok(memory)
}

async fn get_memory(
    State(state): State<QueryState>,
    ApiPath((user_id, id)): ApiPath<(String, String)>,
) -> Result<Json<Memory>, ApiError> {
    let id = memory_id(&id)?;
    state
        .store
        .get_memory(&user_id, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("memory {id}")))
}

/// Body of an edit; absent fields stay as they are (also what the inspector's edit form sends).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EditMemory {
    /// New text.
    pub content: Option<String>,
    /// New sector.
    pub sector: Option<Sector>,
    /// New salience.
    pub salience: Option<f64>,
    /// New state.
    pub state: Option<MemoryState>,
}

async fn edit_memory(
    State(state): State<QueryState>,
    ApiPath((user_id, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<EditMemory>,
) -> Result<Json<Memory>, ApiError> {
    Ok(Json(edit(&state, &user_id, memory_id(&id)?, &body).await?))
}

/// Applies `body` to memory `id` of `user_id`: new content screened by the memory-content
/// policy and embedded at once, the earlier text kept in its history, the change announced.
///
/// # Errors
/// [`ApiError::Invalid`] for empty content or content holding a dropped kind;
/// [`ApiError::NotFound`] when `user_id` has no memory `id`; store and embedder failures.
pub(crate) async fn edit(
    state: &QueryState,
    user_id: &str,
    id: MemoryId,
    body: &EditMemory,
) -> Result<Memory, ApiError> {
    let content = body
        .content
        .as_deref()
        .map(|content| screened(state, content))
        .transpose()?;
    let content = content.as_deref();
    let vector = match content {
        Some(text) => Some(state.embedder.embed_one(text).await?),
        None => None,
    };
    let now = state.clock.now();
    let edit = MemoryEdit {
        content: content.map(str::to_owned),
        sector: body.sector,
        salience: body.salience,
        state: body.state,
    };
    let memory = state.store.edit_memory(user_id, id, &edit, now).await?;
    if let Some(vector) = vector {
        state
            .store
            .store_embeddings(&[(memory.id, vector)], now)
            .await?;
    }
    announce_change(state, &memory).await;
    Ok(memory)
}

async fn delete_memory(
    State(state): State<QueryState>,
    ApiPath((user_id, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    delete(&state, &user_id, memory_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes memory `id` of `user_id` and drops their cached answers.
///
/// # Errors
/// [`ApiError::NotFound`] when `user_id` has no memory `id`; store failures.
pub(crate) async fn delete(
    state: &QueryState,
    user_id: &str,
    id: MemoryId,
) -> Result<(), ApiError> {
    if state.store.delete_memory(user_id, id).await? {
        state.invalidate(user_id).await;
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("memory {id}")))
    }
}

/// A memory id from its text in a path.
///
/// # Errors
/// [`ApiError::Invalid`] when it is not an integer.
pub(crate) fn memory_id(text: &str) -> Result<MemoryId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::Invalid(format!("memory id `{text}` is not an integer")))
}

async fn announce_change(state: &QueryState, memory: &Memory) {
    state.invalidate(&memory.user_id).await;
    state.announce(Message::MemoriesChanged {
        user_id: memory.user_id.clone(),
        memory_ids: vec![memory.id],
        conversation_id: None,
    });
}
