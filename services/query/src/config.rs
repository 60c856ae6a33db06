//! What the query service reads of the configuration besides the shared sections: `[query]`,
//! the models it runs (`[embedder]`, `[summarizer]`) and where the gateway keeps post-call
//! audio (`gateway.audio_dir`, which an erasure empties of the caller's files).

use std::path::PathBuf;

use memvox_ai::{EmbedderSettings, SummarizerSettings};
use memvox_config::{AUDIO_DIR_KEY, ConfigError, Layers, sections};

use crate::QuerySettings;

/// The query service's part of the configuration.
#[derive(Debug, Clone, Default)]
pub struct QueryConfig {
    /// `[query]`.
    pub query: QuerySettings,
    /// The embedding model the service's own process builds (`memvox serve` builds one for
    /// every part of the process).
    pub embedder: EmbedderSettings,
    /// Summaries.
    pub summarizer: SummarizerSettings,
    /// `gateway.audio_dir`: where post-call audio is kept (`None`: nowhere).
    pub audio_dir: Option<PathBuf>,
}

impl QueryConfig {
    /// The query service's sections of `layers`, validated.
    ///
    /// # Errors
    /// [`ConfigError`] saying in a sentence what is wrong.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        Ok(Self {
            query: QuerySettings::load(layers)?,
            embedder: layers.section(sections::EMBEDDER)?,
            summarizer: layers.section(sections::SUMMARIZER)?,
            audio_dir: layers.section(AUDIO_DIR_KEY)?,
        })
    }
}
