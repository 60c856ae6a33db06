//! What the extraction worker reads of the configuration besides the shared sections:
//! `[workers]`, the models it runs (`[embedder]`, `[extractor]`) and where the gateway keeps
//! post-call audio (`gateway.audio_dir`, which retention ages out).

use std::path::PathBuf;

use memvox_ai::{EmbedderSettings, ExtractorSettings};
use memvox_config::{AUDIO_DIR_KEY, ConfigError, Layers, WorkerSettings, sections};

/// The extraction worker's part of the configuration.
#[derive(Debug, Clone, Default)]
pub struct ExtractionConfig {
    /// `[workers]`.
    pub workers: WorkerSettings,
    /// The embedding model the worker's own process builds (`memvox serve` builds one for
    /// every part of the process).
    pub embedder: EmbedderSettings,
    /// Memory extraction.
    pub extractor: ExtractorSettings,
    /// `gateway.audio_dir`: where post-call audio is kept (`None`: nowhere).
    pub audio_dir: Option<PathBuf>,
}

impl ExtractionConfig {
    /// The extraction worker's sections of `layers`, validated.
    ///
    /// # Errors
    /// [`ConfigError`] saying in a sentence what is wrong.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        Ok(Self {
            workers: WorkerSettings::load(layers)?,
            embedder: layers.section(sections::EMBEDDER)?,
            extractor: layers.section(sections::EXTRACTOR)?,
            audio_dir: layers.section(AUDIO_DIR_KEY)?,
        })
    }
}
