//! Settings of the query service: API tokens, the conversation-initiation secret, retrieval
//! limits and the request limits of `POST /tools/memory-query`, `/webhook/conversation-init` and
//! the `/v1` REST API.

use serde::Deserialize;

use crate::Secret;

/// Query service (`[query]`, `MEMVOX_QUERY__*`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuerySettings {
    /// SHA-256 (lower-case hex) of every accepted API bearer token; several may be active at
    /// once during rotation. Only hashes are configured, never tokens. Empty: the tool and the
    /// REST API refuse every request (401).
    pub api_token_sha256: Vec<String>,
    /// Header carrying the conversation-initiation shared secret (configured in ElevenLabs as a
    /// request header of the webhook).
    pub init_secret_header: String,
    /// Accepted values of that header; several may be active during rotation. Empty: the
    /// initiation webhook answers 503.
    pub init_secrets: Vec<Secret>,
    /// Budget of the initiation webhook's store lookups, in ms; past it a generic response goes
    /// out so the call still starts.
    pub init_deadline_ms: u64,
    /// Memories returned by a query that names no limit.
    pub default_limit: u32,
    /// Largest limit; larger requested limits are clamped to it (and 0 is raised to 1).
    pub max_limit: u32,
    /// Vector-search candidates fetched per returned memory, before ranking.
    pub candidate_factor: usize,
    /// Weight of the lexical score (BM25 of the query's exact words — names, numbers, product
    /// codes — normalised by the best candidate's) in a memory's relevance; the cosine
    /// similarity weighs the rest (`1 − lexical_weight`). `0` turns lexical search off.
    pub lexical_weight: f64,
    /// Callers with fewer embedded memories are not searched lexically. `0` (the default):
    /// every caller is, since every call's episodes make even a new caller's history long
    /// enough for exact words to matter.
    pub lexical_min_memories: usize,
    /// Decay rate λ per day of each sector, applied when ranking (`recency = e^(−λ·days)`
    /// since the memory was last seen or recalled).
    pub decay: memvox_core::SectorDecay,
    /// Links followed from each returned memory in graph expansion.
    pub expansion_per_match: usize,
    /// Memories graph expansion may add to a result.
    pub expansion_max: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Requests per second allowed per API token (0 disables limiting).
    pub rate_limit_per_second: u32,
    /// Burst above the steady rate, per API token.
    pub rate_limit_burst: u32,
    /// Tool invocations queued for the log before new ones are dropped (with a warning).
    pub invocation_queue: usize,
    /// First message for a returning caller whose name is known; `{name}` is replaced.
    pub greeting_named: String,
    /// First message for a returning caller whose name is unknown.
    pub greeting: String,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            api_token_sha256: Vec::new(),
            init_secret_header: "x-memvox-secret".to_owned(),
            init_secrets: Vec::new(),
            init_deadline_ms: 300,
            default_limit: 3,
            max_limit: 20,
            candidate_factor: 4,
            lexical_weight: 0.3,
            lexical_min_memories: 0,
            decay: memvox_core::SectorDecay::default(),
            expansion_per_match: 1,
            expansion_max: 2,
            max_body_bytes: 64 * 1024,
            rate_limit_per_second: 1_000,
            rate_limit_burst: 2_000,
            invocation_queue: 10_000,
            greeting_named: "Hi {name}, welcome back! How can I help you today?".to_owned(),
            greeting: "Welcome back! How can I help you today?".to_owned(),
        }
    }
}
