//! `/v1/users/{user_id}`: a user's profile with memory counts, their full export, and erasure
//! (the right to be forgotten).
//!
//! Erasure deletes every row about the user in one store transaction; their calls' post-call
//! audio files under `gateway.audio_dir` (the directory must be the gateway's: the same process,
//! or a shared volume); every stream entry and dead letter naming them or their conversations
//! (`erased_messages`); and their cached answers in this process and their Redis cache keys
//! (other replicas' answers are keyed on the store's version of the user, which is gone). No
//! message announces the erasure: it would leave the erased id on the bus.

use std::collections::{BTreeMap, HashMap};

use std::future::ready;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{StreamExt as _, stream};
use memvox_core::{Memory, MemoryId, MemoryState, User};
use memvox_store::{MemoryFilter, MemoryOrder, StoreResult};
use serde::Serialize;
use serde_json::{Value, json};

use crate::erased_messages::{self, Erased, Purged};
use crate::present::rfc3339;
use crate::{ApiError, QueryState};

/// Most memories one export or count covers.
pub const MAX_USER_MEMORIES: usize = 1_000_000;

/// `GET|DELETE /v1/users/{user_id}`, `GET /v1/users/{user_id}/export`.
pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/v1/users/{user_id}", get(get_user).delete(erase_user))
        .route("/v1/users/{user_id}/export", get(export_user))
}

/// A user as the API shows it.
#[derive(Debug, Serialize)]
struct UserView {
    #[serde(flatten)]
    user: User,
    last_interaction_at: Option<String>,
    counts: Counts,
}

/// Memory counts by sector and state.
#[derive(Debug, Default, Serialize)]
struct Counts {
    total: usize,
    by_sector: BTreeMap<String, usize>,
    by_state: BTreeMap<String, usize>,
    superseded: usize,
}

async fn get_user(
    State(state): State<QueryState>,
    Path(user_id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = require_user(&state, &user_id).await?;
    let mut counts = Counts::default();
    for tally in state.store.memory_counts(&user_id).await? {
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
    Ok(Json(UserView {
        last_interaction_at: user.last_interaction.map(rfc3339),
        user,
        counts,
    }))
}

async fn erase_user(
    State(state): State<QueryState>,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let receipt = state.store.erase_user(&user_id, state.clock.now()).await?;
    let audio_files = delete_audio(state.audio_dir.as_deref(), &receipt.conversations).await;
    let erased = Erased {
        user_id: &user_id,
        conversations: &receipt.conversations,
    };
    let purged = erased_messages::purge(state.bus.as_ref(), &erased)
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, "could not delete the erased user's messages from the bus");
            Purged::default()
        });
    state.forget(&user_id).await;
    tracing::info!(rows = receipt.total(), "user erased");
    let deleted: BTreeMap<&str, u64> = receipt
        .deleted
        .iter()
        .map(|(table, rows)| (table.as_str(), *rows))
        .collect();
    Ok(Json(json!({
        "user_id": receipt.user_id,
        "deleted": deleted,
        "total": receipt.total(),
        "audio_files": audio_files,
        "stream_entries": purged.entries,
        "dead_letters": purged.dead_letters,
    })))
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

/// Everything held about the user, streamed: the profile (with its summary), phone numbers,
/// every memory (facts and episodes, every state) with its history, then every recorded call
/// with its turns and analysis, read and sent one call at a time, so a caller with years of
/// calls costs one call's transcript in memory, not all of them.
async fn export_user(
    State(state): State<QueryState>,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    let user = require_user(&state, &user_id).await?;
    let memories = every_memory(&state, &user_id).await?;
    let mut histories: HashMap<MemoryId, Vec<Value>> = HashMap::new();
    for (memory, content, changed_at) in state.store.user_history(&user_id).await? {
        histories
            .entry(memory)
            .or_default()
            .push(json!({"content": content, "changed_at": changed_at}));
    }
    let mut exported = Vec::with_capacity(memories.len());
    for memory in memories {
        let history = histories.remove(&memory.id).unwrap_or_default();
        let mut value = serde_json::to_value(&memory).unwrap_or_default();
        value["history"] = Value::Array(history);
        exported.push(value);
    }
    let phone_numbers = state.store.caller_numbers(&user_id).await?;
    let head = json!({
        "exported_at": rfc3339(state.clock.now()),
        "user": user,
        "phone_numbers": phone_numbers,
        "memories": exported,
    });
    // The head's closing brace gives way to the calls, which follow one by one.
    let mut opening = head.to_string();
    opening.pop();
    opening.push_str(",\"calls\":[");
    let conversations = state.store.user_conversations(&user_id).await?;
    let calls = stream::unfold(
        (conversations.into_iter(), state.store.clone(), true),
        |(mut ids, store, first)| async move {
            for id in ids.by_ref() {
                let chunk = match store.get_call(&id).await {
                    Ok(Some(call)) => serde_json::to_string(&call)
                        .map(|json| if first { json } else { format!(",{json}") })
                        .map_err(std::io::Error::other),
                    // Erased or replaced meanwhile: nothing to export.
                    Ok(None) => continue,
                    Err(error) => Err(std::io::Error::other(error.to_string())),
                };
                return Some((chunk, (ids, store, false)));
            }
            None
        },
    );
    let body = stream::once(ready(Ok(opening)))
        .chain(calls)
        .chain(stream::once(ready(Ok("]}".to_owned()))));
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}

/// The user, or 404.
pub async fn require_user(state: &QueryState, user_id: &str) -> Result<User, ApiError> {
    state
        .store
        .get_user(user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user {user_id}")))
}

/// Every memory of the user — facts and episodes — in every state, superseded ones included,
/// newest first.
async fn every_memory(state: &QueryState, user_id: &str) -> StoreResult<Vec<Memory>> {
    let filter = MemoryFilter {
        states: MemoryState::ALL.to_vec(),
        include_superseded: true,
        ..MemoryFilter::both_layers()
    };
    state
        .store
        .list_memories(user_id, &filter, MemoryOrder::Newest, MAX_USER_MEMORIES)
        .await
}
