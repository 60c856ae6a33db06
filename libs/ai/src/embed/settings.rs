//! Embedder configuration and the one function that turns it into an embedder.
//!
//! Owns [`EmbedderSettings`] (deserialised from the service configuration, every field with a
//! default so an empty section means "the bundled static model") and [`build_embedder`], the
//! only place in memvox that matches on [`EmbedderProvider`]. Invariants: secrets never appear
//! in `Debug` output; contradictory settings fail at start-up with a sentence saying why; a
//! missing bundled model is an error, never a silent switch to another provider (a caller that
//! chooses to fall back to `hashing` must log it loudly).

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;
use serde::Deserialize;

use super::{CachedEmbedder, Embedder, HashingEmbedder, OpenAiEmbedder, StaticEmbedder};
use crate::AiError;

/// Which embedder to use.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderProvider {
    /// The bundled model2vec static model: offline, ~1 µs per text, 256 dimensions.
    #[default]
    Static,
    /// Feature hashing of words and character n-grams: no asset, spelling only, 1024 dimensions.
    Hashing,
    /// An OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp, TEI).
    #[serde(rename = "openai")]
    OpenAi,
    /// all-MiniLM-L6-v2 run in process with candle: the best offline quality, milliseconds per
    /// text, 384 dimensions. Needs the `minilm` cargo feature and `scripts/fetch-minilm.sh`.
    #[serde(rename = "minilm")]
    MiniLm,
}

/// How memvox embeds text.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedderSettings {
    /// Which embedder to use (default `static`).
    pub provider: EmbedderProvider,
    /// Directory of the local model for `static` or `minilm`. Unset: `models/static-minilm-256`
    /// or `models/minilm`, looked for under the working directory, above the executable and in
    /// the source repository.
    pub model_path: Option<PathBuf>,
    /// Memory bound, in bytes, of the cache of recent embeddings keyed by (model id, sha256 of
    /// the text); repeated queries skip the model. 0 disables the cache. Default 32 MiB.
    pub cache_bytes: u64,
    /// Settings of the `openai` provider (ignored by the others).
    pub openai: OpenAiSettings,
}

impl Default for EmbedderSettings {
    fn default() -> Self {
        Self {
            provider: EmbedderProvider::Static,
            model_path: None,
            cache_bytes: 32 * 1024 * 1024,
            openai: OpenAiSettings::default(),
        }
    }
}

/// Settings of an OpenAI-compatible embeddings endpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiSettings {
    /// Base URL up to and including the API version, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1` (Ollama). `/embeddings` is appended.
    pub base_url: String,
    /// Bearer token. Unset: the `OPENAI_API_KEY` environment variable, if any (local servers
    /// such as Ollama need none). Redacted in `Debug`.
    pub api_key: Option<SecretString>,
    /// Embedding model name (default `text-embedding-3-small`).
    pub model: String,
    /// Output size to request, sent as the `dimensions` parameter (text-embedding-3 models
    /// shorten their vectors to it). Unset: the parameter is not sent.
    pub dimensions: Option<usize>,
    /// The model's own output size when `dimensions` is unset. Needed only for models other
    /// than OpenAI's text-embedding-3-small (1536), -3-large (3072) and ada-002 (1536), e.g.
    /// 768 for `nomic-embed-text` on Ollama.
    pub model_dimension: Option<usize>,
    /// Time limit of one HTTP request, in milliseconds (default 10 000). A timeout is retried.
    pub timeout_ms: u64,
    /// Most texts sent in one request (default 128; OpenAI accepts up to 2048).
    pub batch_size: usize,
    /// Retries of a request after a 429, a 5xx, a timeout or a connection error (default 3).
    /// Other 4xx answers are never retried.
    pub max_retries: u32,
    /// Wait before the first retry, in milliseconds (default 500); it doubles on every further
    /// retry, up to 8 s.
    pub initial_backoff_ms: u64,
}

impl Default for OpenAiSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".to_owned(),
            api_key: None,
            model: "text-embedding-3-small".to_owned(),
            dimensions: None,
            model_dimension: None,
            timeout_ms: 10_000,
            batch_size: 128,
            max_retries: 3,
            initial_backoff_ms: 500,
        }
    }
}

impl OpenAiSettings {
    /// The size of the vectors this configuration yields, or why it cannot be known.
    pub fn output_dimension(&self) -> Result<usize, AiError> {
        let known = match self.model.as_str() {
            "text-embedding-3-small" | "text-embedding-ada-002" => Some(1536),
            "text-embedding-3-large" => Some(3072),
            _ => None,
        };
        match (self.dimensions, self.model_dimension.or(known)) {
            (Some(0), _) | (None, Some(0)) => Err(AiError::Config(
                "openai dimensions must be greater than zero".to_owned(),
            )),
            (Some(d), _) => Ok(d),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(AiError::Config(format!(
                "the output size of model `{}` is unknown: set openai.model_dimension to it \
                 (or openai.dimensions to request a size the model supports)",
                self.model
            ))),
        }
    }

    /// Checks the settings that cannot be checked by their types alone.
    pub fn validate(&self) -> Result<(), AiError> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(AiError::Config(format!(
                "openai.base_url must start with http:// or https://, got `{}`",
                self.base_url
            )));
        }
        if self.batch_size == 0 {
            return Err(AiError::Config(
                "openai.batch_size must be at least 1".to_owned(),
            ));
        }
        if self.timeout_ms == 0 {
            return Err(AiError::Config(
                "openai.timeout_ms must be greater than zero, or every request times out"
                    .to_owned(),
            ));
        }
        self.output_dimension().map(|_| ())
    }
}

/// Builds the configured embedder, wrapped in a [`CachedEmbedder`] unless `cache_bytes` is 0.
///
/// The one place that matches on [`EmbedderProvider`]. Fails with [`AiError::ModelMissing`]
/// when a local model is absent (naming the path and the command that fixes it) and with
/// [`AiError::Config`] for contradictory settings.
pub fn build_embedder(settings: &EmbedderSettings) -> Result<Arc<dyn Embedder>, AiError> {
    let path = settings.model_path.as_deref();
    let inner: Arc<dyn Embedder> = match settings.provider {
        EmbedderProvider::Static => Arc::new(StaticEmbedder::find(path)?),
        EmbedderProvider::Hashing => Arc::new(HashingEmbedder::new()),
        EmbedderProvider::OpenAi => Arc::new(OpenAiEmbedder::new(&settings.openai)?),
        EmbedderProvider::MiniLm => build_minilm(path)?,
    };
    tracing::info!(
        model_id = inner.model_id(),
        dimension = inner.dimension(),
        "embedder ready"
    );
    Ok(if settings.cache_bytes > 0 {
        Arc::new(CachedEmbedder::new(inner, settings.cache_bytes))
    } else {
        inner
    })
}

#[cfg(feature = "minilm")]
fn build_minilm(path: Option<&std::path::Path>) -> Result<Arc<dyn Embedder>, AiError> {
    Ok(Arc::new(super::MiniLmEmbedder::find(path)?))
}

#[cfg(not(feature = "minilm"))]
fn build_minilm(_path: Option<&std::path::Path>) -> Result<Arc<dyn Embedder>, AiError> {
    Err(AiError::Config(
        "the minilm embedder is not compiled in: rebuild with `--features memvox-ai/minilm`"
            .to_owned(),
    ))
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
