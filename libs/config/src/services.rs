//! Settings of the services: the webhook gateway, the query service and the two workers.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Secret;

/// How the name of every post-call audio file ends (see [`audio_path`]).
pub const AUDIO_FILE_SUFFIX: &str = ".mp3.b64";

/// The file a conversation's post-call audio is saved to under `gateway.audio_dir`: written by
/// the gateway, deleted with the caller by an erasure or past `workers.audio_retention_days`.
pub fn audio_path(dir: &Path, conversation_id: &str) -> PathBuf {
    dir.join(format!("{conversation_id}{AUDIO_FILE_SUFFIX}"))
}

/// Post-call webhook gateway (`[gateway]`, `MEMVOX_GATEWAY__*`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// ElevenLabs webhook signing secrets; several may be active at once during rotation.
    /// Without one, `memvox serve` refuses post-call webhooks (503) rather than accept unsigned
    /// traffic.
    pub webhook_secrets: Vec<Secret>,
    /// Oldest signature timestamp accepted, in seconds before now (ElevenLabs' SDKs: 1800).
    pub signature_tolerance_secs: u64,
    /// Newest signature timestamp accepted, in seconds after now; `None` accepts any (as the
    /// SDKs do).
    pub signature_future_skew_secs: Option<u64>,
    /// Largest transcription or failure webhook body, in bytes.
    pub max_body_bytes: usize,
    /// Largest audio webhook body, in bytes (whole-call base64 MP3).
    pub max_audio_body_bytes: usize,
    /// Where post-call audio is written; `None` acknowledges audio deliveries and drops them.
    pub audio_dir: Option<PathBuf>,
    /// Proxies (CIDR blocks, e.g. `10.0.0.0/8`, `203.0.113.7/32`) whose `X-Forwarded-For` /
    /// `Forwarded` headers name the client: behind an ingress, its addresses. A request from
    /// any other peer is limited by that peer's address, whatever headers it sends.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Requests per second allowed per client address.
    pub rate_limit_per_second: u32,
    /// Burst above the steady rate.
    pub rate_limit_burst: u32,
    /// How long a whole request body may take to arrive, in milliseconds; a slower one gets 408
    /// and changes nothing.
    pub body_read_timeout_ms: u64,
    /// Bodies larger than this (declared, or once this many bytes arrived) need one of the
    /// `max_concurrent_large_bodies` slots.
    pub large_body_bytes: usize,
    /// Large bodies read and processed at once; a signed delivery finding none free gets 503 with
    /// `Retry-After` (ElevenLabs retries it), so memory stays bounded.
    pub max_concurrent_large_bodies: usize,
}

impl GatewaySettings {
    /// Checks the body-handling limits.
    ///
    /// # Errors
    /// A sentence naming the setting and the rule it breaks.
    pub fn validate(&self) -> Result<(), String> {
        if self.body_read_timeout_ms == 0 {
            return Err(
                "gateway.body_read_timeout_ms must be at least 1: a zero timeout would \
                 refuse every webhook before its body arrives"
                    .into(),
            );
        }
        if self.max_concurrent_large_bodies == 0 {
            return Err(
                "gateway.max_concurrent_large_bodies must be at least 1: with no slot \
                 every audio delivery would be refused"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            webhook_secrets: Vec::new(),
            signature_tolerance_secs: 1_800,
            signature_future_skew_secs: None,
            max_body_bytes: 5 * 1024 * 1024,
            max_audio_body_bytes: 64 * 1024 * 1024,
            audio_dir: None,
            trusted_proxies: Vec::new(),
            rate_limit_per_second: 500,
            rate_limit_burst: 1_000,
            body_read_timeout_ms: 10_000,
            large_body_bytes: 1024 * 1024,
            max_concurrent_large_bodies: 4,
        }
    }
}

/// Workers (`[workers]`, `MEMVOX_WORKERS__*`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Existing memories shown to the extractor for dedupe and contradictions.
    pub existing_memories: usize,
    /// Cosine similarity above which two memories of a user are linked.
    pub link_threshold: f64,
    /// Most automatic links per memory.
    pub max_links_per_memory: usize,
    /// Most messages the embedding worker takes per step (each a call's changed memories, or
    /// a recall); the memories they name are embedded with one embedder call.
    pub embed_batch_max: usize,
    /// Shortest interval between two summaries of one user, in ms.
    pub summary_debounce_ms: u64,
    /// Age of an unfinished event before the outbox reconciler publishes it again, in ms.
    pub outbox_grace_ms: u64,
    /// How often the reconciler looks, in ms.
    pub outbox_interval_ms: u64,
    /// Most post-call events the extraction worker writes in one transaction (a group
    /// commit); `None`: [`SQLITE_EVENTS_PER_COMMIT`] on SQLite, [`POSTGRES_EVENTS_PER_COMMIT`]
    /// on PostgreSQL (see [`WorkerSettings::events_per_commit`]).
    pub events_per_commit: Option<usize>,
    /// Spoken turns before each caller turn that its episode keeps as context (the window of
    /// an episode is this many turns plus the caller's; one window per caller turn). Measured
    /// on the conversational probe with the final ranking (recall@10 / @5): 1 → 0.788 / 0.711,
    /// 2 → 0.777 / 0.689, 3 → 0.689 / 0.592 (0 was the worst with the first ranking).
    pub episode_context_turns: usize,
    /// Agent turns right after each caller turn that its episode keeps as the reply, shown
    /// with it but not searched (the slot offered, the order's status: often what the caller's
    /// turn asked for).
    pub episode_reply_turns: usize,
    /// Days a processed event's raw payload (the webhook as received) is kept; `None`: forever.
    pub raw_payload_retention_days: Option<u64>,
    /// Days a call's transcript turns are kept (its memories, episodes and summary stay);
    /// `None`: forever.
    pub turn_retention_days: Option<u64>,
    /// Days a call's episodes (windows of its transcript, searched with the facts) are kept: a
    /// policy, off (`None`: forever) by default, since episodes answer "what did I say about…";
    /// set it (e.g. to `turn_retention_days`) where no transcript text may outlive its age.
    pub episode_retention_days: Option<u64>,
    /// Days a post-call audio file under `gateway.audio_dir` is kept, by the file's
    /// modification time (when the gateway wrote it); `None`: forever.
    pub audio_retention_days: Option<u64>,
    /// How often the retention job looks, in ms.
    pub retention_interval_ms: u64,
}

/// Events per extraction transaction on SQLite unless configured: its one writer is shared
/// with the gateway's acknowledgements, which wait for the transaction in progress (measured
/// in `memvox serve` at 1,000 deliveries/s: 8 → p99 20.5 ms, 2 → 11.1 ms; the pipeline bench
/// ingests 361–402 calls/s at 8, 333–363 at 2, 290–302 at 1).
pub const SQLITE_EVENTS_PER_COMMIT: usize = 2;

/// Events per extraction transaction on PostgreSQL unless configured: each commit waits for a
/// WAL flush, which a larger group shares, and the gateway's inserts do not wait for it.
pub const POSTGRES_EVENTS_PER_COMMIT: usize = 8;

impl WorkerSettings {
    /// Most events the extraction worker writes in one transaction on SQLite (`sqlite`) or
    /// PostgreSQL: the configured number, else the backend's default.
    pub fn events_per_commit(&self, sqlite: bool) -> usize {
        self.events_per_commit.unwrap_or(if sqlite {
            SQLITE_EVENTS_PER_COMMIT
        } else {
            POSTGRES_EVENTS_PER_COMMIT
        })
    }
}

/// Longest episode context (and reply) accepted: wider windows blur which turn answered a
/// question.
pub const MAX_EPISODE_CONTEXT_TURNS: usize = 8;

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            existing_memories: 20,
            link_threshold: 0.8,
            max_links_per_memory: 5,
            embed_batch_max: 64,
            summary_debounce_ms: 60_000,
            outbox_grace_ms: 30_000,
            outbox_interval_ms: 10_000,
            events_per_commit: None,
            episode_context_turns: 1,
            episode_reply_turns: 1,
            raw_payload_retention_days: None,
            turn_retention_days: None,
            episode_retention_days: None,
            audio_retention_days: None,
            retention_interval_ms: 3_600_000,
        }
    }
}
