//! What the embedding worker reads of the configuration besides the shared sections:
//! `[workers]` and the models it runs (`[embedder]`, `[summarizer]`).

use memvox_ai::{EmbedderSettings, SummarizerSettings};
use memvox_config::{ConfigError, Layers, WorkerSettings, sections};

/// The embedding worker's part of the configuration.
#[derive(Debug, Clone, Default)]
pub struct EmbeddingConfig {
    /// `[workers]`.
    pub workers: WorkerSettings,
    /// The embedding model the worker's own process builds (`memvox serve` builds one for
    /// every part of the process).
    pub embedder: EmbedderSettings,
    /// Summaries.
    pub summarizer: SummarizerSettings,
}

impl EmbeddingConfig {
    /// The embedding worker's sections of `layers`, validated.
    ///
    /// # Errors
    /// [`ConfigError`] saying in a sentence what is wrong.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        Ok(Self {
            workers: WorkerSettings::load(layers)?,
            embedder: layers.section(sections::EMBEDDER)?,
            summarizer: layers.section(sections::SUMMARIZER)?,
        })
    }
}
