//! Settings of the two workers (`[workers]`, `MEMVOX_WORKERS__*`): shared by the extraction
//! worker (group commits, episodes, the outbox, retention) and the embedding worker (batches,
//! links, summaries), so they live here rather than in either.

use serde::Deserialize;

use crate::{ConfigError, Layers, sections};

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

    /// The `[workers]` section of `layers`, validated.
    ///
    /// # Errors
    /// [`ConfigError`] for a value that does not parse or breaks a rule.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        let workers: Self = layers.section(sections::WORKERS)?;
        workers.validate()?;
        Ok(workers)
    }

    /// Rules the types cannot express, each broken one explained in a sentence.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] explaining the first broken rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.link_threshold) {
            return Err(ConfigError::Invalid(
                "workers.link_threshold is a cosine similarity and must be within 0..=1".into(),
            ));
        }
        if self.events_per_commit == Some(0) {
            return Err(ConfigError::Invalid(
                "workers.events_per_commit must be at least 1: every event is written in some \
                 transaction"
                    .into(),
            ));
        }
        for (key, turns) in [
            ("episode_context_turns", self.episode_context_turns),
            ("episode_reply_turns", self.episode_reply_turns),
        ] {
            if turns > MAX_EPISODE_CONTEXT_TURNS {
                return Err(ConfigError::Invalid(format!(
                    "workers.{key} is {turns}: an episode keeps at most \
                     {MAX_EPISODE_CONTEXT_TURNS} turns before and after the caller's (wider \
                     windows blur which turn answered)"
                )));
            }
        }
        for (key, days) in [
            (
                "raw_payload_retention_days",
                self.raw_payload_retention_days,
            ),
            ("turn_retention_days", self.turn_retention_days),
            ("episode_retention_days", self.episode_retention_days),
            ("audio_retention_days", self.audio_retention_days),
        ] {
            if days == Some(0) {
                return Err(ConfigError::Invalid(format!(
                    "workers.{key} must be at least 1: data is kept until its call is processed \
                     and read back (leave it unset to keep it forever)"
                )));
            }
        }
        Ok(())
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
