//! `POST /webhook/conversation-init`: personalises a phone call before it starts.
//!
//! The other party's number — `caller_id`, or on an outbound call (`caller_id` one of
//! `identity.own_numbers`) the dialled `called_number` — maps to a user (`user_for_caller`);
//! a number never seen gets its guest
//! id (`guest_<keyed hash>`), which the post-call worker creates and binds when the call is
//! actually processed — this webhook writes nothing, so probing numbers cannot grow the
//! database. The user is handed to ElevenLabs only as an identity token (`memory_user_id` and
//! `user_id`, echoed as `data.user_id` after the call): signed by memvox, bound to the user,
//! the agent and the conversation, expiring after `identity.token_ttl_secs`, so the tool and
//! the worker can tell it from an id a client typed. The answer carries every dynamic variable
//! in [`VARIABLES`], always all of them and always strings (empty when unknown). `user_name` is the user's display name: empty
//! unless one was recorded for the user. A first-message override goes to returning callers
//! only when `query.first_message_override` is on, because ElevenLabs fails the call when an
//! override arrives for a field the agent has not enabled. It reads only the user row and the
//! twenty most salient facts, of which the five with the best prior of the query ranker
//! (salience and recency, `retrieval::by_prior`) are the context: no vector search, no model
//! call. The facts come from the caller's in-memory index when it is warm (one version read);
//! otherwise they are read from the store and the index is loaded in the background, so the
//! agent's memory queries during the call find it warm.
//!
//! The call must never fail to start because of memvox: the body is read as JSON whatever its
//! `Content-Type`; a store error, a lookup slower than `init_deadline_ms` or a rate limit
//! (`init_rate_per_number_per_minute`, `init_rate_global_per_second`) still answers 200 with
//! every variable empty. Only a wrong secret (401), a missing configuration (503) or a body
//! that is not the webhook's JSON (400) is refused.

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use memvox_core::calendar::rfc3339;
use memvox_core::{Memory, User};
use memvox_elevenlabs::initiation::ConversationInitRequest;
use memvox_elevenlabs::{ConversationInitResponse, DynamicVariableName};
use memvox_store::{MemoryFilter, MemoryOrder, StoreResult};

use crate::extract::AnyTypeJson;
use crate::{ApiError, QueryState, retrieval};

/// The caller's identity token (also sent as top-level `user_id`).
pub const MEMORY_USER_ID: DynamicVariableName = DynamicVariableName::from_static("memory_user_id");
/// The caller's name, when known.
pub const USER_NAME: DynamicVariableName = DynamicVariableName::from_static("user_name");
/// The caller's stored profile summary.
pub const MEMORY_SUMMARY: DynamicVariableName = DynamicVariableName::from_static("memory_summary");
/// The most salient memories, one sentence each.
pub const MEMORY_CONTEXT: DynamicVariableName = DynamicVariableName::from_static("memory_context");
/// The most recently seen of those memories.
pub const RECENT_TOPICS: DynamicVariableName = DynamicVariableName::from_static("recent_topics");
/// Time of the last call or interaction (RFC 3339).
pub const LAST_INTERACTION: DynamicVariableName =
    DynamicVariableName::from_static("last_interaction");

/// Every dynamic variable an answer carries, always.
pub const VARIABLES: [DynamicVariableName; 6] = [
    MEMORY_USER_ID,
    USER_NAME,
    MEMORY_SUMMARY,
    MEMORY_CONTEXT,
    RECENT_TOPICS,
    LAST_INTERACTION,
];

/// Memories read for the context.
const CONTEXT_MEMORIES: usize = 5;
/// Most salient facts read per context memory, ranked again by the ranker's prior (salience
/// and recency) so a recent fact can displace an old one of about the same salience.
const CONTEXT_CANDIDATES_PER_MEMORY: usize = 4;
/// Memories named in `recent_topics`.
const RECENT_MEMORIES: usize = 2;

/// `POST /webhook/conversation-init`.
pub fn router() -> Router<QueryState> {
    Router::new().route("/webhook/conversation-init", post(conversation_init))
}

async fn conversation_init(
    State(state): State<QueryState>,
    headers: HeaderMap,
    request: Result<AnyTypeJson<ConversationInitRequest>, ApiError>,
) -> Result<Json<ConversationInitResponse>, ApiError> {
    state.init_secret.verify(&headers)?;
    let AnyTypeJson(request) = request?;
    let identities = &state.identities;
    let agent = Some(request.agent_id.as_str());
    if !identities.settings.serves_agent(agent) {
        state.metrics.agent_ignored("init");
        return Ok(Json(generic()));
    }
    let (Some(scope), Some(caller)) = (
        identities.scope(agent),
        request.remote_number(|n| identities.is_own_number(n)),
    ) else {
        return Ok(Json(generic()));
    };
    if let Err(limit) = state.init_limiter.admit(caller) {
        state
            .metrics
            .init_limited
            .with_label_values(&[limit.label()])
            .inc();
        tracing::warn!(
            limit = limit.label(),
            "conversation-init over its rate limit; answering generically"
        );
        return Ok(Json(generic()));
    }
    let deadline = Duration::from_millis(state.settings.init_deadline_ms);
    let response =
        match tokio::time::timeout(deadline, personalise(&state, &request, scope, caller)).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                tracing::warn!(%error, "conversation-init lookup failed; answering generically");
                generic()
            }
            Err(_) => {
                tracing::warn!(
                    deadline_ms = state.settings.init_deadline_ms,
                    "conversation-init lookup missed its deadline; answering generically"
                );
                generic()
            }
        };
    Ok(Json(response))
}

/// Every variable, empty: for unknown callers, failures and timeouts.
pub fn generic() -> ConversationInitResponse {
    VARIABLES
        .into_iter()
        .fold(ConversationInitResponse::new(), |response, name| {
            response.with_variable(name, "")
        })
}

#[tracing::instrument(level = "debug", name = "conversation_init", skip_all, fields(user = tracing::field::Empty, known = tracing::field::Empty))]
async fn personalise(
    state: &QueryState,
    request: &ConversationInitRequest,
    scope: Option<&str>,
    caller: &str,
) -> StoreResult<ConversationInitResponse> {
    let store = &state.store;
    let identities = &state.identities;
    let keys = &identities.keys;
    let known = store
        .user_for_caller(&identities.phone_key(scope, caller))
        .await?;
    let user_id = known
        .clone()
        .unwrap_or_else(|| identities.guest_user_id(scope, caller));
    let span = tracing::Span::current();
    span.record("user", memvox_telemetry::trace::hashed_id(&user_id));
    span.record("known", known.is_some());
    let conversation = request.conversation_id.as_deref().filter(|c| !c.is_empty());
    let now_secs = u64::try_from(state.clock.now() / 1000).unwrap_or_default();
    let token = keys.issue(&user_id, &request.agent_id, conversation, now_secs);
    if known.is_none() {
        return Ok(respond(state, token.as_deref(), None, &[]));
    }
    let user = store.get_profile(&user_id).await?;
    let memories = context(state, &user_id).await?;
    Ok(respond(state, token.as_deref(), user.as_ref(), &memories))
}

/// The caller's context: of their most salient active facts, the five with the best prior of
/// the query ranker (salience and recency). Also the MCP `get_profile` tool's top memories.
///
/// # Errors
/// Store failures.
pub(crate) async fn context(state: &QueryState, user_id: &str) -> StoreResult<Vec<Memory>> {
    let salient = most_salient(state, user_id).await?;
    Ok(retrieval::by_prior(state, salient, CONTEXT_MEMORIES))
}

/// The user's most salient active facts (the context's candidates): from their index when it
/// is warm, else read from the store while, for a caller with at least as many facts as the
/// context reads, their index is loaded in the background (one such load at a time,
/// `QueryState::prefetch`), so the agent's memory queries during the call find it warm.
async fn most_salient(state: &QueryState, user_id: &str) -> StoreResult<Vec<Memory>> {
    let wanted = CONTEXT_MEMORIES * CONTEXT_CANDIDATES_PER_MEMORY;
    let filter = MemoryFilter::default();
    if let Some(view) = state.store.warm_view(user_id).await? {
        return Ok(view.most_salient(&filter, wanted));
    }
    let salient = state
        .store
        .list_memories(user_id, &filter, MemoryOrder::Salience, wanted)
        .await?;
    // A caller with fewer facts than the context reads is light: their index, read afresh on
    // each query, is never cached, so loading it now would be wasted.
    if salient.len() == wanted
        && let Ok(permit) = state.prefetch.clone().try_acquire_owned()
    {
        let (store, user) = (state.store.clone(), user_id.to_owned());
        tokio::spawn(async move {
            if let Err(error) = store.user_view(&user).await {
                tracing::warn!(%error, "caller's index not loaded ahead of the call");
            }
            drop(permit);
        });
    }
    Ok(salient)
}

/// The answer for a caller whose identity token is `token` (`None` without a signing key:
/// `user_id` is left out and `memory_user_id` empty, so only the phone channel identifies them).
fn respond(
    state: &QueryState,
    token: Option<&str>,
    user: Option<&User>,
    memories: &[Memory],
) -> ConversationInitResponse {
    let name = user
        .and_then(|u| u.display_name.clone())
        .unwrap_or_default();
    let summary = user.and_then(|u| u.summary.clone()).unwrap_or_default();
    let last = user.and_then(|u| u.last_interaction);
    let context: Vec<&str> = memories.iter().map(|m| m.content.as_str()).collect();
    let mut recent: Vec<&Memory> = memories.iter().collect();
    recent.sort_by_key(|m| std::cmp::Reverse(m.last_seen_at));
    let recent: Vec<&str> = recent
        .iter()
        .take(RECENT_MEMORIES)
        .map(|m| m.content.as_str())
        .collect();
    let mut response = generic();
    if let Some(token) = token {
        response = response.with_user_id(token);
    }
    let mut response = response
        .with_variable(MEMORY_USER_ID, token.unwrap_or_default())
        .with_variable(USER_NAME, name.as_str())
        .with_variable(MEMORY_SUMMARY, summary)
        .with_variable(MEMORY_CONTEXT, sentences(&context))
        .with_variable(RECENT_TOPICS, sentences(&recent))
        .with_variable(LAST_INTERACTION, last.map(rfc3339).unwrap_or_default());
    if state.settings.first_message_override && (!memories.is_empty() || last.is_some()) {
        let greeting = if name.is_empty() {
            state.settings.greeting.clone()
        } else {
            state.settings.greeting_named.replace("{name}", &name)
        };
        response = response.with_first_message(greeting);
    }
    response
}

/// Texts joined as sentences: `"Likes tea. Lives in Lyon."`.
fn sentences(texts: &[&str]) -> String {
    texts
        .iter()
        .map(|text| {
            let text = text.trim();
            if text.ends_with(['.', '!', '?']) {
                text.to_owned()
            } else {
                format!("{text}.")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
