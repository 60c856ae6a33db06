//! Text embedders: the [`Embedder`] trait and its implementations.
//!
//! Owns the contract every provider keeps, so callers (store, workers, query path) can hold an
//! `Arc<dyn Embedder>` and never care which one it is:
//! - `embed(texts)` returns exactly one vector per text, in input order, each of
//!   [`Embedder::dimension`] floats and L2-normalised (so cosine similarity is a dot product);
//! - an empty or whitespace-only text is rejected with [`AiError::InvalidInput`] by every
//!   provider alike (OpenAI would answer 400, a static model a zero vector);
//! - [`Embedder::model_id`] is stable for a given model and dimension, and changes whenever
//!   vectors would not be comparable; the store records it next to every vector.
//!
//! Providers: [`StaticEmbedder`] (bundled model2vec model, the default), [`HashingEmbedder`]
//! (no asset, fallback and tests), [`OpenAiEmbedder`] (any OpenAI-compatible server),
//! `MiniLmEmbedder` (the transformer in process, `minilm` feature), and [`CachedEmbedder`],
//! which wraps any of them. [`build_embedder`] is the one place that chooses between them.

mod cached;
mod hashing;
#[cfg(feature = "minilm")]
mod minilm;
mod model_path;
mod openai;
mod settings;
mod static_model;

use async_trait::async_trait;

use crate::AiError;

pub use cached::CachedEmbedder;
pub use hashing::HashingEmbedder;
#[cfg(feature = "minilm")]
pub use minilm::MiniLmEmbedder;
pub use openai::OpenAiEmbedder;
pub use settings::{EmbedderProvider, EmbedderSettings, OpenAiSettings, build_embedder};
pub use static_model::StaticEmbedder;

/// Turns texts into L2-normalised vectors of a fixed dimension.
///
/// Object-safe: services hold an `Arc<dyn Embedder>`.
#[async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// Stable identifier of the model and its output dimension, e.g. `static-minilm-256`.
    /// Vectors from embedders with different ids must never be compared.
    fn model_id(&self) -> &str;

    /// Number of floats in every vector this embedder returns.
    fn dimension(&self) -> usize;

    /// Embeds `texts`, returning one L2-normalised vector per text in the same order.
    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError>;

    /// Embeds one text (a query, typically).
    async fn embed_one(&self, text: &str) -> Result<Vec<f32>, AiError> {
        let mut vectors = self.embed(&[text]).await?;
        vectors.pop().ok_or_else(|| AiError::InvalidResponse {
            provider: "embedder",
            message: "no vector returned for one text".to_owned(),
        })
    }
}

/// Rejects texts no provider can embed meaningfully (empty or whitespace only).
pub(crate) fn check_inputs(texts: &[&str]) -> Result<(), AiError> {
    match texts.iter().position(|t| t.trim().is_empty()) {
        Some(index) => Err(AiError::InvalidInput {
            index,
            reason: "the text is empty".to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_inputs_names_the_empty_text() {
        let err = check_inputs(&["fine", "  \n", "x"]).unwrap_err();
        assert!(matches!(err, AiError::InvalidInput { index: 1, .. }));
        assert!(!err.retryable());
        assert!(check_inputs(&["a", "b"]).is_ok());
    }
}
