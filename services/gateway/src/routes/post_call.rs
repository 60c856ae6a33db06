//! `POST /webhook/post-call`: the ElevenLabs post-call webhook (spec §1, §2, §6, §8).
//!
//! Steps, each answering as soon as it fails: a secret must be configured (503); the body must
//! be declared JSON (415); the signature header must be present, well formed and fresh (401,
//! before a byte of the body is read); the body is read up to the larger of the two size limits
//! (413) within the read timeout (408), a large one only while a large-body slot is free (503
//! with `Retry-After`), and MACed as it streams in; the signature must match the exact bytes
//! (401); the envelope head is parsed (400 with the field path); an undocumented `type` is acknowledged and dropped (200, never 4xx: rejections
//! count towards auto-disabling the webhook), and so is an `unredacted_transcript` or
//! `unredacted_audio` unless `privacy.unredacted_webhooks = "store"` (then it is recorded under
//! its redacted counterpart's type, so only one variant of a call is ever kept, its raw `type`
//! left in the stored payload; the workers redact it like any transcript); the per-type limit applies (413); audio is taken
//! out (an audio event of an erased conversation is acknowledged and dropped before: 200
//! `ignored`, counted as `erased`, no file written); the row is stored idempotently on `(type, conversation_id)` — or refused by an
//! erased conversation's tombstone in the same statement (200 `ignored`, counted as `erased`,
//! nothing written). Only then is the 200 sent; the row's publish and its published mark follow
//! (see `ingest`, `marks`).

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use memvox_config::UnredactedWebhooks;
use memvox_elevenlabs::{EnvelopeHead, EventKind, SIGNATURE_HEADER, SignatureError};
use memvox_store::{Erased, NewEvent};
use serde::Serialize;

use crate::GatewayState;
use crate::audio::strip_audio;
use crate::audio_file::audio_path;
use crate::body::{read_signed, require_json};
use crate::error::GatewayError;
use crate::ingest::{Recorded, record, store_error};
use crate::metrics::EventOutcome;

/// Path of the post-call webhook.
pub const PATH: &str = "/webhook/post-call";

/// The 200 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ack {
    /// `accepted`, or `ignored` for an event type memvox does not process or of an erased
    /// conversation.
    pub status: &'static str,
    /// Whether this delivery repeated one already stored.
    pub duplicate: bool,
}

/// The post-call webhook route.
pub fn router() -> Router<GatewayState> {
    Router::new().route(PATH, post(receive))
}

async fn receive(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Ack>, GatewayError> {
    let started = Instant::now();
    let (kind, outcome) = accept(&state, &headers, body).await?;
    state.metrics.acknowledged(kind, outcome, started.elapsed());
    Ok(Json(Ack {
        status: match outcome {
            EventOutcome::Ignored | EventOutcome::Erased | EventOutcome::Unredacted => "ignored",
            EventOutcome::Accepted | EventOutcome::Duplicate => "accepted",
        },
        duplicate: outcome == EventOutcome::Duplicate,
    }))
}

async fn accept(
    state: &GatewayState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(EventKind, EventOutcome), GatewayError> {
    let Some(verifier) = state.verifier.as_deref() else {
        tracing::error!("post-call webhook refused: set gateway.webhook_secrets to accept it");
        return Err(GatewayError::NotConfigured);
    };
    require_json(headers)?;
    let settings = &state.settings;
    let signature = headers.get(SIGNATURE_HEADER).map(|value| value.as_bytes());
    let now_secs = state.clock.now_secs();
    let mut check = verifier
        .begin(signature, now_secs)
        .map_err(|error| rejected(state, error, now_secs))?;
    // Held until the answer is ready: the body stays in memory until then.
    let (body, _slot) = read_signed(state, headers, body, &mut check).await?;
    check
        .finish()
        .map_err(|error| rejected(state, error, now_secs))?;

    let head = EnvelopeHead::parse(&body).map_err(GatewayError::Payload)?;
    let kind = head.kind;
    if kind.is_unredacted() && state.unredacted_webhooks == UnredactedWebhooks::Drop {
        tracing::info!(event_type = %head.event_type, conversation_id = head.conversation_id.as_deref(), "unredacted post-call event acknowledged and dropped: privacy.unredacted_webhooks keeps the redacted variant");
        return Ok((kind, EventOutcome::Unredacted));
    }
    let Some(conversation_id) = head.conversation_id.filter(|_| kind != EventKind::Unknown) else {
        tracing::info!(event_type = %head.event_type, "post-call event of an unprocessed type, or without a conversation id, acknowledged and dropped");
        return Ok((kind, EventOutcome::Ignored));
    };
    // An unredacted variant is stored as its redacted counterpart (same idempotency key).
    let stored_kind = kind.redacted();
    let limit = match stored_kind {
        EventKind::Audio => settings.max_audio_body_bytes,
        _ => settings.max_body_bytes,
    };
    if body.len() > limit {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    // An erased caller's conversation never comes back: the store refuses it by its tombstone
    // in the statement that would insert the row (`Recorded::Erased` below). Audio is checked
    // before as well, because its file is written before the row.
    let now = state.clock.now();
    if stored_kind == EventKind::Audio && erased(state, &conversation_id, now).await? {
        tracing::info!(event_type = %head.event_type, "post-call event of an erased conversation acknowledged and dropped");
        return Ok((kind, EventOutcome::Erased));
    }
    let event = NewEvent {
        event_type: stored_kind
            .wire_type()
            .map_or_else(|| head.event_type.into_owned(), str::to_owned),
        conversation_id: conversation_id.into_owned(),
        event_timestamp: i64::try_from(head.event_timestamp).unwrap_or(i64::MAX),
        payload: row_payload(state, stored_kind, body).await?,
        received_at: now,
        // The request's span: a re-publish of the row continues this trace.
        traceparent: memvox_telemetry::trace::current_traceparent(),
    };
    let conversation_id = event.conversation_id.clone();
    let outcome = match record(state, event).await? {
        Recorded::Stored | Recorded::Staged => EventOutcome::Accepted,
        Recorded::Duplicate => EventOutcome::Duplicate,
        Recorded::Erased => {
            tracing::info!(kind = ?stored_kind, "post-call event of an erased conversation acknowledged and dropped");
            // Audio erased between the check above and the insert: the file just saved goes too.
            if let (EventKind::Audio, Some(dir)) = (stored_kind, &settings.audio_dir) {
                let _ = tokio::fs::remove_file(audio_path(dir, &conversation_id)).await;
            }
            EventOutcome::Erased
        }
    };
    Ok((kind, outcome))
}

/// Whether the conversation's caller was erased (its tombstone is in the store).
async fn erased(
    state: &GatewayState,
    conversation_id: &str,
    now: i64,
) -> Result<bool, GatewayError> {
    let tombstone = [Erased::Conversation(conversation_id)];
    state
        .store
        .is_erased(&tombstone, now)
        .await
        .map_err(store_error)
}

/// The JSON to store: the body as received, except audio, whose content is taken out.
async fn row_payload(
    state: &GatewayState,
    kind: EventKind,
    body: Bytes,
) -> Result<String, GatewayError> {
    if kind == EventKind::Audio {
        return strip_audio(&body, state.settings.audio_dir.as_deref(), &state.keyring).await;
    }
    // `EnvelopeHead::parse` accepted it as JSON, which serde_json only does for valid UTF-8.
    String::from_utf8(Vec::from(body)).map_err(|_| GatewayError::Invalid {
        path: ".",
        rule: "body must be UTF-8",
    })
}

/// Counts and logs a signature rejection and turns it into the 401.
///
/// Stale deliveries are refused before their body is read, so the log names the instant they
/// were signed (`now` minus their age) rather than their conversation: the conversations of that
/// time can be backfilled from the ElevenLabs API (spec §2.4: late retries may reuse the original
/// timestamp). A conversation id read from an unverified body would not be trustworthy anyway.
fn rejected(state: &GatewayState, error: SignatureError, now: u64) -> GatewayError {
    let reason = error.reason();
    state.metrics.signature_rejected(reason);
    if let SignatureError::Stale { age_secs } = error {
        let signed_at = now.saturating_sub(age_secs);
        tracing::warn!(reason, error = %error, signed_at, "post-call webhook rejected as stale; backfill the conversations of that time from the conversations API");
    } else {
        tracing::warn!(reason, error = %error, "post-call webhook signature rejected");
    }
    GatewayError::Signature(error)
}
