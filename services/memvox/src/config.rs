//! The full configuration: every section of the file, composed from the types of the crates
//! that own them — the shared sections (`memvox-config`), `[gateway]` (`memvox-gateway`),
//! `[elevenlabs]` (`memvox-gateway`: the API key, the poll), `[query]` (`memvox-query`),
//! `[workers]` (`memvox-config`, shared by both workers) and the models' sections (`memvox-ai`). Each part of `memvox serve` gets the view its own binary
//! would read ([`Config::query_config`], …).

use std::path::Path;

use memvox_ai::{EmbedderSettings, ExtractorSettings, SummarizerSettings};
use memvox_config::{ConfigError, Layers, SharedConfig, WorkerSettings, sections};
use memvox_embedding_worker::EmbeddingConfig;
use memvox_extraction_worker::ExtractionConfig;
use memvox_gateway::GatewaySettings;
use memvox_gateway::import::ElevenLabsSettings;
use memvox_query::{QueryConfig, QuerySettings};

/// The whole configuration of `memvox`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The sections every process reads (`http`, `store`, `encryption`, `log`, `bus`, `cache`,
    /// `identity`, `privacy`).
    pub shared: SharedConfig,
    /// Post-call webhook gateway.
    pub gateway: GatewaySettings,
    /// The ElevenLabs API: the key `memvox elevenlabs import` and the poll use, and the poll.
    pub elevenlabs: ElevenLabsSettings,
    /// Query service: memory-query tool, conversation-init webhook, REST API.
    pub query: QuerySettings,
    /// Extraction and embedding workers.
    pub workers: WorkerSettings,
    /// Embedding model.
    pub embedder: EmbedderSettings,
    /// Memory extraction from calls.
    pub extractor: ExtractorSettings,
    /// Summaries for queries and users.
    pub summarizer: SummarizerSettings,
}

impl Config {
    /// Loads defaults, then `file` (or the file named by `MEMVOX_CONFIG`), then the
    /// environment, and validates every section.
    ///
    /// # Errors
    /// [`ConfigError`] saying in a sentence what is wrong.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let layers = Layers::load(file)?;
        Ok(Self {
            shared: SharedConfig::load(&layers)?,
            gateway: GatewaySettings::load(&layers)?,
            elevenlabs: ElevenLabsSettings::load(&layers)?,
            query: QuerySettings::load(&layers)?,
            workers: WorkerSettings::load(&layers)?,
            embedder: layers.section(sections::EMBEDDER)?,
            extractor: layers.section(sections::EXTRACTOR)?,
            summarizer: layers.section(sections::SUMMARIZER)?,
        })
    }

    /// What the query service reads.
    pub fn query_config(&self) -> QueryConfig {
        QueryConfig {
            query: self.query.clone(),
            embedder: self.embedder.clone(),
            summarizer: self.summarizer.clone(),
            audio_dir: self.gateway.audio_dir.clone(),
        }
    }

    /// What the extraction worker reads.
    pub fn extraction_config(&self) -> ExtractionConfig {
        ExtractionConfig {
            workers: self.workers.clone(),
            embedder: self.embedder.clone(),
            extractor: self.extractor.clone(),
            audio_dir: self.gateway.audio_dir.clone(),
        }
    }

    /// What the embedding worker reads.
    pub fn embedding_config(&self) -> EmbeddingConfig {
        EmbeddingConfig {
            workers: self.workers.clone(),
            embedder: self.embedder.clone(),
            summarizer: self.summarizer.clone(),
        }
    }
}
