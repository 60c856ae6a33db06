//! `GET /v1/users/{user_id}/export`: everything held about a user, decrypted, as one JSON
//! document streamed in pieces — the profile (with its summary) and phone numbers, then every
//! memory (facts and episodes, every state, superseded ones included) with its history, a page
//! at a time in the order they were written, then every recorded call with its turns and
//! analysis, one call at a time. A caller with years of calls and tens of thousands of
//! memories costs one page of memories or one call's transcript in memory, not all of them.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt as _, stream};
use memvox_core::calendar::rfc3339;
use memvox_core::{Memory, MemoryId};
use memvox_store::{HistoryEntry, Store};
use serde_json::{Value, json};
use std::sync::Arc;

use super::users::require_user;
use crate::extract::ApiPath;
use crate::{ApiError, QueryState};

/// Memories read and sent together.
const MEMORY_PAGE: usize = 500;

/// A piece of the document, or why it could not be read.
type Piece = Result<String, std::io::Error>;

/// The export handler.
pub async fn export_user(
    State(state): State<QueryState>,
    ApiPath(user_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let user = require_user(&state, &user_id).await?;
    let phone_numbers = state.store.caller_numbers(&user_id).await?;
    let head = json!({
        "exported_at": rfc3339(state.clock.now()),
        "user": user,
        "phone_numbers": phone_numbers,
    });
    // The head's closing brace gives way to the memories, then the calls.
    let mut opening = head.to_string();
    opening.pop();
    opening.push_str(",\"memories\":[");
    let conversations = state.store.user_conversations(&user_id).await?;
    let body = stream::once(async { Ok(opening) })
        .chain(memories(state.store.clone(), user_id))
        .chain(stream::once(async { Ok("],\"calls\":[".to_owned()) }))
        .chain(calls(state.store.clone(), conversations))
        .chain(stream::once(async { Ok("]}".to_owned()) }));
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}

/// The user's memories with their histories, a page per piece, comma-separated.
fn memories(store: Arc<dyn Store>, user_id: String) -> impl Stream<Item = Piece> {
    stream::unfold(Some(None), move |after: Option<Option<MemoryId>>| {
        let (store, user_id) = (store.clone(), user_id.clone());
        async move {
            let after = after?;
            let (page, history) = match store.memory_page(&user_id, after, MEMORY_PAGE).await {
                Ok(read) => read,
                Err(error) => return Some((Err(std::io::Error::other(error.to_string())), None)),
            };
            let last = page.last().map(|memory| memory.id)?;
            let piece = memory_piece(&page, history, after.is_none());
            let next = (page.len() == MEMORY_PAGE).then_some(Some(last));
            Some((piece, next))
        }
    })
}

/// A page of memories as JSON array items, each with its `history`; led by a comma unless it
/// is the first page.
fn memory_piece(page: &[Memory], history: Vec<HistoryEntry>, first: bool) -> Piece {
    let mut histories: HashMap<MemoryId, Vec<Value>> = HashMap::new();
    for (memory, content, changed_at) in history {
        histories
            .entry(memory)
            .or_default()
            .push(json!({"content": content, "changed_at": changed_at}));
    }
    let mut items = Vec::with_capacity(page.len());
    for memory in page {
        let mut value = serde_json::to_value(memory).map_err(std::io::Error::other)?;
        value["history"] = Value::Array(histories.remove(&memory.id).unwrap_or_default());
        items.push(value.to_string());
    }
    let joined = items.join(",");
    Ok(if first { joined } else { format!(",{joined}") })
}

/// The recorded calls, one per piece, comma-separated.
fn calls(store: Arc<dyn Store>, conversations: Vec<String>) -> impl Stream<Item = Piece> {
    stream::unfold(
        (conversations.into_iter(), store, true),
        |(mut ids, store, first)| async move {
            for id in ids.by_ref() {
                let piece = match store.get_call(&id).await {
                    Ok(Some(call)) => serde_json::to_string(&call)
                        .map(|json| if first { json } else { format!(",{json}") })
                        .map_err(std::io::Error::other),
                    // Erased or replaced meanwhile: nothing to export.
                    Ok(None) => continue,
                    Err(error) => Err(std::io::Error::other(error.to_string())),
                };
                return Some((piece, (ids, store, false)));
            }
            None
        },
    )
}
