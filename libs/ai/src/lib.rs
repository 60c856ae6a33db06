//! memvox model calls: text embedders, extraction and summaries, and the metrics of the
//! requests they make to model APIs ([`register_metrics`]).
//!
//! Owns everything that turns text into model output. Invariants: providers are chosen in one
//! place ([`build_embedder`]) from typed settings ([`EmbedderSettings`]); every failure is an
//! [`AiError`] that says whose fault it is and whether to retry; the default build needs no
//! network, no API key and no GPU (the bundled static model, or the hashing fallback).
//!
//! ```no_run
//! # async fn demo() -> Result<(), memvox_ai::AiError> {
//! use memvox_ai::{EmbedderSettings, build_embedder};
//! let embedder = build_embedder(&EmbedderSettings::default())?;
//! let vectors = embedder.embed(&["Maria is allergic to peanuts."]).await?;
//! assert_eq!(vectors[0].len(), embedder.dimension());
//! # Ok(()) }
//! ```

pub mod embed;
mod error;
pub mod eval;
pub mod extract;
mod metrics;
mod provider_error;
pub mod summarize;

#[cfg(feature = "minilm")]
pub use embed::MiniLmEmbedder;
pub use embed::{
    CachedEmbedder, Embedder, EmbedderProvider, EmbedderSettings, HashingEmbedder, OpenAiEmbedder,
    OpenAiSettings, StaticEmbedder, build_embedder,
};
pub use error::{AiError, Fault};
pub use extract::{
    CallTranscript, ChatModelSettings, ExistingMemory, ExtractError, Extractor, ExtractorProvider,
    ExtractorSettings, OpenAiExtractor, RuleExtractor, build_extractor,
};
pub use metrics::register_metrics;
pub use provider_error::ProviderError;
pub use summarize::{
    ExtractiveSummarizer, OpenAiSummarizer, SummarizeError, Summarizer, SummarizerProvider,
    SummarizerSettings, SummarizerWithFallback, Summary, SummaryMemory, SummarySource,
    build_summarizer,
};

/// Runs CPU-bound work (a model, a rule extractor) without stalling the async runtime: on a
/// multi-threaded runtime the worker thread hands its other tasks to another worker first
/// (`block_in_place`), so a task waiting on I/O — a store write between two statements — is
/// not queued behind it; elsewhere (a current-thread runtime, tests) it simply runs.
pub(crate) fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}
