//! `/v1/users/{user_id}`: a user's profile with memory counts, and erasure
//! (the right to be forgotten).
//!
//! Erasure deletes every row about the user in one store transaction; their calls' post-call
//! audio files under `gateway.audio_dir` (the directory must be the gateway's: the same process,
//! or a shared volume); every stream entry and dead letter naming them or their conversations
//! (`erased_messages`); and their cached answers in this process and their Redis cache keys
//! (other replicas' answers are keyed on the store's version of the user, which is gone). No
//! message announces the erasure: it would leave the erased id on the bus.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use memvox_core::User;
use memvox_core::calendar::rfc3339;
use serde::Serialize;

use crate::erased_messages::{self, Erased, Purged};
use crate::extract::ApiPath;
use crate::{ApiError, QueryState};

/// `GET|DELETE /v1/users/{user_id}`, `GET /v1/users/{user_id}/export`.
pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/v1/users/{user_id}", get(get_user).delete(erase_user))
        .route(
            "/v1/users/{user_id}/export",
            get(super::export::export_user),
        )
}

/// A user as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct UserView {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// Their last interaction, RFC 3339.
    pub last_interaction_at: Option<String>,
    /// Their memories, counted.
    pub counts: Counts,
}

/// Memory counts by sector and state.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Counts {
    /// Every memory, both layers.
    pub total: usize,
    /// Per sector.
    pub by_sector: BTreeMap<String, usize>,
    /// Per state.
    pub by_state: BTreeMap<String, usize>,
    /// Superseded by a later memory.
    pub superseded: usize,
}

async fn get_user(
    State(state): State<QueryState>,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(profile(&state, &user_id).await?))
}

/// `user_id`'s profile with memory counts (counted in the database).
///
/// # Errors
/// [`ApiError::NotFound`] for an unknown user; store failures.
pub(crate) async fn profile(state: &QueryState, user_id: &str) -> Result<UserView, ApiError> {
    let user = require_user(state, user_id).await?;
    let mut counts = Counts::default();
    for tally in state.store.memory_counts(user_id).await? {
        let n = usize::try_from(tally.count).unwrap_or(usize::MAX);
        counts.total += n;
        *counts
            .by_sector
            .entry(tally.sector.to_string())
            .or_default() += n;
        *counts.by_state.entry(tally.state.to_string()).or_default() += n;
        if tally.superseded {
            counts.superseded += n;
        }
    }
    Ok(UserView {
        last_interaction_at: user.last_interaction.map(rfc3339),
        user,
        counts,
    })
}

async fn erase_user(
    State(state): State<QueryState>,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Json<ErasureView>, ApiError> {
    Ok(Json(erase(&state, &user_id).await?))
}

/// What an erasure deleted: the receipt `DELETE /v1/users/{user_id}` answers and the inspector
/// shows.
#[derive(Debug, Serialize)]
pub(crate) struct ErasureView {
    /// The erased user.
    pub user_id: String,
    /// Rows deleted, per table.
    pub deleted: BTreeMap<String, u64>,
    /// Rows deleted in all.
    pub total: u64,
    /// Post-call audio files deleted.
    pub audio_files: u64,
    /// Stream entries naming the user or their calls, deleted.
    pub stream_entries: u64,
    /// Dead letters naming them, deleted.
    pub dead_letters: u64,
}

/// Erases `user_id`: every row in one store transaction, their calls' audio files, the stream
/// entries and dead letters naming them, their cached answers; the receipt of what went.
///
/// # Errors
/// Store failures (nothing is erased then).
pub(crate) async fn erase(state: &QueryState, user_id: &str) -> Result<ErasureView, ApiError> {
    let receipt = state.store.erase_user(user_id, state.clock.now()).await?;
    let audio_files = delete_audio(state.audio_dir.as_deref(), &receipt.conversations).await;
    let erased = Erased {
        user_id,
        conversations: &receipt.conversations,
    };
    let purged = erased_messages::purge(state.bus.as_ref(), &erased)
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, "could not delete the erased user's messages from the bus");
            Purged::default()
        });
    state.forget(user_id).await;
    tracing::info!(rows = receipt.total(), "user erased");
    Ok(ErasureView {
        deleted: receipt
            .deleted
            .iter()
            .map(|(table, rows)| (table.clone(), *rows))
            .collect(),
        total: receipt.total(),
        user_id: receipt.user_id,
        audio_files,
        stream_entries: purged.entries,
        dead_letters: purged.dead_letters,
    })
}

/// Deletes the post-call audio files of `conversations` under `dir`; returns how many there
/// were. A file that cannot be deleted is logged (by conversation count only), never fatal:
/// the rows are gone already.
async fn delete_audio(dir: Option<&std::path::Path>, conversations: &[String]) -> u64 {
    let Some(dir) = dir else {
        return 0;
    };
    let mut deleted = 0;
    for conversation_id in conversations {
        match tokio::fs::remove_file(memvox_config::audio_path(dir, conversation_id)).await {
            Ok(()) => deleted += 1,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::error!(%error, "could not delete an erased call's audio file"),
        }
    }
    deleted
}

/// The user, or 404.
pub async fn require_user(state: &QueryState, user_id: &str) -> Result<User, ApiError> {
    state
        .store
        .get_user(user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user {user_id}")))
}
