//! Settings of the query service: API tokens, the conversation-initiation secret, retrieval
//! limits, the request limits of `POST /tools/memory-query`, `/webhook/conversation-init` and
//! the `/v1` REST API, and the custom-LLM proxy (`[query.llm_proxy]`).

use memvox_config::{ConfigError, ExposeSecret, Layers, Secret, sections};
use serde::Deserialize;

use crate::llm_proxy::LlmProxySettings;

/// Longest inspector session: a week, in minutes.
const MAX_UI_SESSION_MINUTES: u32 = 7 * 24 * 60;

/// Query service (`[query]`, `MEMVOX_QUERY__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuerySettings {
    /// SHA-256 (lower-case hex) of every accepted tool token: the bearer ElevenLabs presents
    /// on `POST /tools/memory-query`. A tool token may only query, and only for the identity
    /// the call carries; it is refused on `/v1`. Several may be active during rotation. Only
    /// hashes are configured, never tokens. Empty: the tool refuses every call (401).
    pub tool_token_sha256: Vec<String>,
    /// SHA-256 (lower-case hex) of every accepted admin token: the bearer for the `/v1` REST
    /// API (read, add, edit, export, erase any user). Refused on the tool. Empty: `/v1`
    /// refuses every request (401).
    pub admin_token_sha256: Vec<String>,
    /// Header carrying the conversation-initiation shared secret (configured in ElevenLabs as a
    /// request header of the webhook).
    pub init_secret_header: String,
    /// Accepted values of that header; several may be active during rotation. Empty: the
    /// initiation webhook answers 503. An empty value is refused at start-up.
    pub init_secrets: Vec<Secret>,
    /// Initiation requests per minute answered with a lookup for one caller number; past it the
    /// call still starts, with the generic (empty) answer. `0` disables the limit.
    pub init_rate_per_number_per_minute: u32,
    /// Initiation requests per second answered with a lookup, all numbers together; past it
    /// the generic answer goes out without touching the store. `0` disables the limit.
    pub init_rate_global_per_second: u32,
    /// Send a `conversation_config_override.agent.first_message` (the greetings below) to
    /// returning callers. Off by default: ElevenLabs fails the call when an override arrives
    /// for a field the agent has not enabled, so turn this on only after enabling
    /// `platform_settings.overrides.conversation_config_override.agent.first_message` on
    /// every agent that uses this webhook.
    pub first_message_override: bool,
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
    /// Whether `/mcp` accepts the admin token (acting on any user named). Off by default:
    /// `/mcp` is routed publicly, for ElevenLabs agents, while the admin API is not; turn it on
    /// only where `/mcp` is not reachable from outside or admins need an MCP client.
    pub mcp_admin: bool,
    /// How long a memory-inspector session (`/ui`, signed in with an admin token) lasts, in
    /// minutes; signing in again starts a new one.
    pub ui_session_minutes: u32,
    /// Requests per second allowed per API token (0 disables limiting).
    pub rate_limit_per_second: u32,
    /// Burst above the steady rate, per API token.
    pub rate_limit_burst: u32,
    /// Tool invocations queued for the log before new ones are dropped (with a warning).
    pub invocation_queue: usize,
    /// How often the memories recalled for each caller are announced for reinforcement, in
    /// ms: one message (and one store write) per caller per interval, whatever the queries.
    pub recall_flush_ms: u64,
    /// First message for a returning caller whose name is known; `{name}` is replaced.
    pub greeting_named: String,
    /// First message for a returning caller whose name is unknown.
    pub greeting: String,
    /// The custom-LLM proxy (`POST /llm/v1/chat/completions`).
    pub llm_proxy: LlmProxySettings,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            tool_token_sha256: Vec::new(),
            admin_token_sha256: Vec::new(),
            init_secret_header: "x-memvox-secret".to_owned(),
            init_secrets: Vec::new(),
            init_rate_per_number_per_minute: 10,
            init_rate_global_per_second: 200,
            first_message_override: false,
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
            mcp_admin: false,
            ui_session_minutes: 480,
            rate_limit_per_second: 1_000,
            rate_limit_burst: 2_000,
            invocation_queue: 10_000,
            recall_flush_ms: 1_000,
            greeting_named: "Hi {name}, welcome back! How can I help you today?".to_owned(),
            greeting: "Welcome back! How can I help you today?".to_owned(),
            llm_proxy: LlmProxySettings::default(),
        }
    }
}

impl QuerySettings {
    /// The `[query]` section of `layers`, validated.
    ///
    /// # Errors
    /// [`ConfigError`] for a value that does not parse or breaks a rule.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        let settings: Self = layers.section(sections::QUERY)?;
        settings.validate().map_err(ConfigError::Invalid)?;
        Ok(settings)
    }

    /// Rules the types cannot express, each broken one explained in a sentence.
    ///
    /// # Errors
    /// The explanation of the first broken rule.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.lexical_weight) {
            return Err(
                "query.lexical_weight must be within 0..=1 (0 turns lexical search off)".into(),
            );
        }
        if let Some((sector, rate)) = self.decay.invalid() {
            return Err(format!(
                "query.decay.{sector} is {rate}: a decay rate per day must be a number >= 0"
            ));
        }
        if let Some(index) = self
            .init_secrets
            .iter()
            .position(|secret| secret.expose_secret().trim().is_empty())
        {
            return Err(format!(
                "query.init_secrets[{index}] is empty: an empty initiation secret would let \
                 anyone who sends the header without a value read callers' memories, so every \
                 secret must be a non-empty string"
            ));
        }
        if self.recall_flush_ms == 0 {
            return Err(
                "query.recall_flush_ms is 0: recalled memories are announced once per \
                        interval, and an interval of nothing would announce them without end, \
                        so set at least 1 (default 1000)"
                    .to_owned(),
            );
        }
        if !(1..=MAX_UI_SESSION_MINUTES).contains(&self.ui_session_minutes) {
            return Err(format!(
                "query.ui_session_minutes is {}: an inspector session must last at least a \
                 minute and at most a week ({MAX_UI_SESSION_MINUTES}), since a session cookie \
                 cannot be revoked before it expires except by removing its admin token",
                self.ui_session_minutes
            ));
        }
        let shared = |ours: &[String], theirs: &[String]| {
            ours.iter()
                .find(|digest| {
                    theirs
                        .iter()
                        .any(|other| other.trim().eq_ignore_ascii_case(digest.trim()))
                })
                .map(|digest| digest.trim().to_owned())
        };
        let elevenlabs = [
            ("query.tool_token_sha256", &self.tool_token_sha256),
            ("query.llm_proxy.token_sha256", &self.llm_proxy.token_sha256),
        ];
        for (list, digests) in elevenlabs {
            if let Some(digest) = shared(digests, &self.admin_token_sha256) {
                return Err(format!(
                    "{list} and query.admin_token_sha256 both hold {digest}: a token \
                     ElevenLabs presents on every call must not also open the admin API, so \
                     give each role its own token"
                ));
            }
        }
        self.llm_proxy.validate()
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
