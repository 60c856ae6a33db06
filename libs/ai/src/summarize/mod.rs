//! Summaries of memories: the sentence the agent hears in a memory-query answer, and the
//! profile of a caller.
//!
//! Owns the [`Summarizer`] trait, its input ([`SummaryMemory`]) and output ([`Summary`]), its
//! error ([`SummarizeError`]), and three implementations: [`ExtractiveSummarizer`] (always
//! available, deterministic), [`OpenAiSummarizer`] (an OpenAI-compatible chat model) and
//! [`SummarizerWithFallback`] (the model under a hard deadline, the extractive one when it is
//! late or fails). [`build_summarizer`] is the one place that chooses.
//!
//! Invariants: inputs are ranked best first and summaries only restate them (nothing is added
//! that no memory says); a summary built from no memories is empty; every [`Summary`] says which
//! implementation wrote it and, when a fallback answered, why.

mod extractive;
mod fallback;
mod openai;
mod settings;

use async_trait::async_trait;
use memvox_core::{Memory, Sector};
use serde::{Deserialize, Serialize};

use crate::ProviderError;

pub use crate::extract::ChatModelSettings;
pub use extractive::ExtractiveSummarizer;
pub use fallback::SummarizerWithFallback;
pub use openai::{OpenAiSummarizer, SUMMARY_PROMPT_VERSION};
pub use settings::{SummarizerProvider, SummarizerSettings, build_summarizer};

/// Writes short summaries of a user's memories.
///
/// Object-safe: services hold an `Arc<dyn Summarizer>`.
#[async_trait]
pub trait Summarizer: Send + Sync + std::fmt::Debug {
    /// Short stable name for logs and metrics (`extractive`, `openai`, `llm+extractive`).
    fn name(&self) -> &'static str;

    /// One or two sentences answering `query` from `memories` (ranked best first): what the
    /// agent hears in the memory-query tool response.
    async fn summarize_for_query(
        &self,
        query: &str,
        memories: &[SummaryMemory],
    ) -> Result<Summary, SummarizeError>;

    /// Who this caller is, from their top memories (ranked best first).
    async fn summarize_user(&self, memories: &[SummaryMemory]) -> Result<Summary, SummarizeError>;
}

/// A memory as a summarizer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryMemory {
    /// The memory's text.
    pub content: String,
    /// Its sector.
    pub sector: Sector,
}

impl From<&Memory> for SummaryMemory {
    fn from(memory: &Memory) -> Self {
        Self {
            content: memory.content.clone(),
            sector: memory.sector,
        }
    }
}

/// Who wrote a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SummarySource {
    /// The chat model.
    Llm,
    /// The extractive summarizer.
    Extractive,
}

/// A summary and its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The text; empty when there were no memories.
    pub text: String,
    /// Who wrote it.
    pub source: SummarySource,
    /// Why the model's summary was not used, when a fallback answered.
    pub fallback_reason: Option<String>,
}

/// Why a summary could not be written, and whether trying again later could help.
#[derive(Debug, thiserror::Error)]
pub enum SummarizeError {
    /// The provider gave no answer (unavailable, too slow, or refused the request).
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The model answered with nothing usable (empty, refused, cut off).
    #[error("{provider} returned an unusable summary: {reason}")]
    InvalidOutput {
        /// Which provider.
        provider: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The settings are wrong. Fix the configuration.
    #[error("invalid summarizer settings: {0}")]
    Config(String),
}

impl SummarizeError {
    /// The error without the provider's message or what was wrong with the model's output
    /// (either may quote the memories): what may be stored with a dead letter.
    pub fn summary(&self) -> String {
        match self {
            SummarizeError::Provider(error) => error.summary(),
            SummarizeError::InvalidOutput { provider, .. } => {
                format!("{provider} returned an unusable summary")
            }
            SummarizeError::Config(_) => self.to_string(),
        }
    }

    /// Whether the same request may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SummarizeError::Provider(error) if error.is_retryable())
    }
}
