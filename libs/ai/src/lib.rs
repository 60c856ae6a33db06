//! memvox model calls: text embedders (and, later, extraction and summaries).
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
pub mod summarize;

#[cfg(feature = "minilm")]
pub use embed::MiniLmEmbedder;
pub use embed::{
    ApiKey, CachedEmbedder, Embedder, EmbedderProvider, EmbedderSettings, HashingEmbedder,
    OpenAiEmbedder, OpenAiSettings, StaticEmbedder, build_embedder,
};
pub use error::{AiError, Fault};
pub use extract::{
    CallTranscript, ChatModelSettings, ExistingMemory, ExtractError, Extractor, ExtractorProvider,
    ExtractorSettings, OpenAiExtractor, RuleExtractor, build_extractor,
};
pub use summarize::{
    ExtractiveSummarizer, OpenAiSummarizer, SummarizeError, Summarizer, SummarizerProvider,
    SummarizerSettings, SummarizerWithFallback, Summary, SummaryMemory, SummarySource,
    build_summarizer,
};
