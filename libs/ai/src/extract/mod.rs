//! Memory extraction: one call transcript in, memory candidates out.
//!
//! Owns the [`Extractor`] trait, its input ([`CallTranscript`], [`ExistingMemory`]), its error
//! ([`ExtractError`]), and two implementations: [`RuleExtractor`] (offline, deterministic, the
//! default) and [`OpenAiExtractor`] (one structured chat completion per call). [`build_extractor`]
//! is the one place that chooses between them.
//!
//! Invariants every extractor keeps, so the extraction worker can trust its output:
//! - every candidate's `content` is non-empty, third person and shorter than
//!   [`MAX_CONTENT_CHARS`] characters; `salience` is in `[0, 1]`;
//! - every `turn_indexes` entry is the index of a turn of this call (sorted, no duplicates);
//!   memories drawn from the platform's analysis (summary, action items) point at every caller
//!   turn, and reflective memories drawn from call times point at no turn;
//! - every `Update` / `Supersede` / `Noop` target is the id of one of the given
//!   [`CallTranscript::existing`] memories;
//! - an extractor returns everything or an error: nothing is half-extracted.

mod calendar;
pub mod chat;
mod claims;
pub mod openai;
mod ops;
pub mod rules;
mod settings;

use async_trait::async_trait;
use memvox_core::{CallOutcome, MemoryCandidate, MemoryId, Sector, Turn, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::ProviderError;

pub use chat::ChatModelSettings;
pub use openai::{EXTRACT_PROMPT_VERSION, OpenAiExtractor};
pub use ops::assign_op;
pub use rules::RuleExtractor;
pub use settings::{ExtractorProvider, ExtractorSettings, build_extractor};

/// Longest memory text, in characters, is one less than this.
pub const MAX_CONTENT_CHARS: usize = 100;

/// Turns one call into memory candidates, each with an op against the user's existing memories.
///
/// Object-safe: workers hold an `Arc<dyn Extractor>`.
#[async_trait]
pub trait Extractor: Send + Sync + std::fmt::Debug {
    /// Short stable name for logs and metrics (`rules`, `openai`).
    fn name(&self) -> &'static str;

    /// Extracts the memories worth keeping from `call`.
    async fn extract(&self, call: &CallTranscript) -> Result<Vec<MemoryCandidate>, ExtractError>;
}

/// Everything an extractor may use about one call. Built by the extraction worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallTranscript {
    /// The caller.
    pub user_id: String,
    /// ElevenLabs conversation id.
    pub conversation_id: String,
    /// Call start.
    pub started_at: UnixMillis,
    /// The caller's offset from UTC in minutes, when known. Reflective time-of-day memories
    /// speak of "morning" only when it is; otherwise they name UTC hours.
    pub utc_offset_minutes: Option<i32>,
    /// Transcript turns with their indexes as delivered; tool turns have `message: None`.
    pub turns: Vec<Turn>,
    /// The platform's summary of the call (`analysis.transcript_summary`).
    pub summary: Option<String>,
    /// Follow-ups the platform's analysis collected.
    pub action_items: Vec<String>,
    /// The platform's verdict on the call.
    pub outcome: CallOutcome,
    /// The user's existing memories most similar to this call, most similar first.
    pub existing: Vec<ExistingMemory>,
    /// Start times of the user's earlier calls (this one excluded; duplicates ignored).
    pub previous_call_times: Vec<UnixMillis>,
}

impl CallTranscript {
    /// Indexes of the caller turns that carry words, in order.
    pub fn caller_turn_indexes(&self) -> Vec<u32> {
        self.turns
            .iter()
            .filter(|t| t.role == memvox_core::Role::User && has_words(t))
            .map(|t| t.index)
            .collect()
    }
}

fn has_words(turn: &Turn) -> bool {
    turn.message
        .as_deref()
        .is_some_and(|m| !m.trim().is_empty())
}

/// One of the user's stored memories, as shown to an extractor for dedupe and contradictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExistingMemory {
    /// Its id: the target of an update, supersede or noop.
    pub id: MemoryId,
    /// Its text.
    pub content: String,
    /// Its sector.
    pub sector: Sector,
}

/// Why extraction failed, and whether trying the same call again later could help.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The provider gave no answer (unavailable, too slow, or refused the request).
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The model's output broke the contract on every attempt. Dead-letter the call.
    #[error("{provider} returned unusable output {attempts} times, last: {reason}")]
    InvalidOutput {
        /// Which provider.
        provider: &'static str,
        /// How many answers were tried.
        attempts: u32,
        /// What was wrong with the last one.
        reason: String,
    },
    /// The settings are wrong (e.g. a base URL without a scheme). Fix the configuration.
    #[error("invalid extractor settings: {0}")]
    Config(String),
}

impl ExtractError {
    /// The error without the provider's message or the model's output (either may quote the
    /// call): what may be stored with a dead letter.
    pub fn summary(&self) -> String {
        match self {
            ExtractError::Provider(error) => error.summary(),
            ExtractError::InvalidOutput {
                provider, attempts, ..
            } => format!("{provider} returned unusable output {attempts} times"),
            ExtractError::Config(_) => self.to_string(),
        }
    }

    /// Whether the same call may succeed if extracted again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ExtractError::Provider(error) if error.is_retryable())
    }
}
