//! memvox configuration: one typed [`Config`], loaded in layers — built-in defaults, then an
//! optional TOML file, then `MEMVOX_`-prefixed environment variables with `__` for nesting
//! (`MEMVOX_STORE__URL=postgres://…` sets `store.url`) — and validated once at start-up with a
//! sentence that says what is wrong.
//!
//! Every section belongs to the library that uses it (the store's settings live in
//! `memvox-store`, and so on); this crate only composes and validates them.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

mod privacy;
mod query;
mod secret;
mod services;

pub use privacy::{PrivacySettings, UnredactedWebhooks};
pub use query::QuerySettings;
pub use secret::Secret;
pub use services::{AUDIO_FILE_SUFFIX, GatewaySettings, WorkerSettings, audio_path};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use memvox_ai::{EmbedderSettings, ExtractorSettings, SummarizerSettings};
use memvox_bus::BusSettings;
use memvox_cache::CacheSettings;
use memvox_crypto::EncryptionSettings;
use memvox_identity::IdentitySettings;
use memvox_store::StoreSettings;
use memvox_telemetry::LogSettings;
use serde::Deserialize;

/// Environment variable naming the configuration file.
pub const CONFIG_FILE_ENV: &str = "MEMVOX_CONFIG";

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "MEMVOX_";

/// The whole configuration of every memvox process.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP listener.
    pub http: HttpSettings,
    /// System of record.
    pub store: StoreSettings,
    /// Encryption at rest of the system of record.
    pub encryption: EncryptionSettings,
    /// Logging.
    pub log: LogSettings,
    /// Embedding model.
    pub embedder: EmbedderSettings,
    /// Memory extraction from calls.
    pub extractor: ExtractorSettings,
    /// Summaries for queries and users.
    pub summarizer: SummarizerSettings,
    /// Streams between services.
    pub bus: BusSettings,
    /// Post-call webhook gateway.
    pub gateway: GatewaySettings,
    /// Extraction and embedding workers.
    pub workers: WorkerSettings,
    /// Query service: memory-query tool, conversation-init webhook, REST API.
    pub query: QuerySettings,
    /// Query caches and per-user cache versions.
    pub cache: CacheSettings,
    /// How callers are identified (shared by the query service and the extraction worker).
    pub identity: IdentitySettings,
    /// Redaction at write time and which post-call webhook variant is stored.
    pub privacy: PrivacySettings,
}

/// HTTP listener settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on (`127.0.0.1:8080` by default; `0.0.0.0:8080` in containers).
    pub listen: SocketAddr,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub shutdown_grace_ms: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            shutdown_grace_ms: 10_000,
        }
    }
}

/// A configuration that cannot be loaded or makes no sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an environment variable could not be parsed into the configuration.
    #[error("configuration: {0}")]
    Load(String),
    /// A value is out of range or contradicts another.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` (or the file named by `MEMVOX_CONFIG`), then the
    /// environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from));
        let mut figment = Figment::new();
        if let Some(path) = &file {
            if !path.is_file() {
                return Err(ConfigError::Load(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__").filter(|key| {
            key != "config" && !key.as_str().to_ascii_lowercase().starts_with("test_")
        }));
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Load(one_line(&e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values and cross-field rules that types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.store
            .backend()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.encryption
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.bus
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.cache
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if !(0.0..=1.0).contains(&self.workers.link_threshold) {
            return Err(ConfigError::Invalid(
                "workers.link_threshold is a cosine similarity and must be within 0..=1".into(),
            ));
        }
        if self.workers.events_per_commit == Some(0) {
            return Err(ConfigError::Invalid(
                "workers.events_per_commit must be at least 1: every event is written in some \
                 transaction"
                    .into(),
            ));
        }
        for (key, turns) in [
            ("episode_context_turns", self.workers.episode_context_turns),
            ("episode_reply_turns", self.workers.episode_reply_turns),
        ] {
            if turns > services::MAX_EPISODE_CONTEXT_TURNS {
                return Err(ConfigError::Invalid(format!(
                    "workers.{key} is {turns}: an episode keeps at most {} turns before and \
                     after the caller's (wider windows blur which turn answered)",
                    services::MAX_EPISODE_CONTEXT_TURNS
                )));
            }
        }
        for (key, days) in [
            (
                "raw_payload_retention_days",
                self.workers.raw_payload_retention_days,
            ),
            ("turn_retention_days", self.workers.turn_retention_days),
            (
                "episode_retention_days",
                self.workers.episode_retention_days,
            ),
            ("audio_retention_days", self.workers.audio_retention_days),
        ] {
            if days == Some(0) {
                return Err(ConfigError::Invalid(format!(
                    "workers.{key} must be at least 1: data is kept until its call is processed \
                     and read back (leave it unset to keep it forever)"
                )));
            }
        }
        self.gateway.validate().map_err(ConfigError::Invalid)?;
        self.query.validate().map_err(ConfigError::Invalid)?;
        self.identity.validate().map_err(ConfigError::Invalid)?;
        if !(0.0..=1.0).contains(&self.query.lexical_weight) {
            return Err(ConfigError::Invalid(
                "query.lexical_weight must be within 0..=1 (0 turns lexical search off)".into(),
            ));
        }
        if let Some((sector, rate)) = self.query.decay.invalid() {
            return Err(ConfigError::Invalid(format!(
                "query.decay.{sector} is {rate}: a decay rate per day must be a number >= 0"
            )));
        }
        if self.store.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "store.max_connections must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Figment errors can span several lines; a start-up error is one line.
fn one_line(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
