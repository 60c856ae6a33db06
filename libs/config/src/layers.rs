//! The layering every memvox process loads its configuration with: built-in defaults (each
//! section type's `Default`), then an optional TOML file, then `MEMVOX_`-prefixed environment
//! variables with `__` for nesting (`MEMVOX_STORE__URL=postgres://…` sets `store.url`).
//!
//! A process reads the sections it uses from the loaded [`Layers`] ([`Layers::extract`],
//! [`Layers::section`]); the sections themselves belong to the crates that use them. Every
//! process refuses a section no memvox process knows ([`sections::ALL`]), so a misspelt
//! section name stops start-up wherever it is loaded.

use std::path::{Path, PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
    value::Dict,
};
use serde::de::DeserializeOwned;

use crate::ConfigError;

/// Environment variable naming the configuration file.
pub const CONFIG_FILE_ENV: &str = "MEMVOX_CONFIG";

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "MEMVOX_";

/// The sections of the configuration file (`[name]`, `MEMVOX_NAME__*`) and who reads them.
pub mod sections {
    /// HTTP listener (every process).
    pub const HTTP: &str = "http";
    /// System of record (every process).
    pub const STORE: &str = "store";
    /// Encryption at rest (every process).
    pub const ENCRYPTION: &str = "encryption";
    /// Logging (every process).
    pub const LOG: &str = "log";
    /// Streams between services (every process).
    pub const BUS: &str = "bus";
    /// Query caches and cache versions (every process).
    pub const CACHE: &str = "cache";
    /// How callers are identified (every process).
    pub const IDENTITY: &str = "identity";
    /// Redaction and unredacted webhooks (every process).
    pub const PRIVACY: &str = "privacy";
    /// The post-call webhook gateway (`memvox-gateway`; its `audio_dir` also the query service
    /// and the extraction worker).
    pub const GATEWAY: &str = "gateway";
    /// The ElevenLabs API: its key, and the gateway's poll of past conversations
    /// (`memvox-gateway`; also `memvox elevenlabs import`).
    pub const ELEVENLABS: &str = "elevenlabs";
    /// The query service (`memvox-query`).
    pub const QUERY: &str = "query";
    /// Both workers.
    pub const WORKERS: &str = "workers";
    /// The embedding model (`memvox-ai`; the query service and both workers).
    pub const EMBEDDER: &str = "embedder";
    /// Memory extraction (`memvox-ai`; the extraction worker).
    pub const EXTRACTOR: &str = "extractor";
    /// Summaries (`memvox-ai`; the query service and the embedding worker).
    pub const SUMMARIZER: &str = "summarizer";
    /// Every section.
    pub const ALL: [&str; 15] = [
        HTTP, STORE, ENCRYPTION, LOG, BUS, CACHE, IDENTITY, PRIVACY, GATEWAY, ELEVENLABS, QUERY,
        WORKERS, EMBEDDER, EXTRACTOR, SUMMARIZER,
    ];
}

/// The configuration as loaded, before any section is read.
#[derive(Debug, Clone)]
pub struct Layers(Figment);

impl Layers {
    /// Loads `file` (or the file named by `MEMVOX_CONFIG`), then the environment.
    ///
    /// # Errors
    /// [`ConfigError::Load`] for a missing file, a value that does not parse, or an unknown
    /// section.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
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
        let layers = Self(figment);
        layers.check_sections()?;
        Ok(layers)
    }

    /// A type whose fields are sections, read from the whole configuration; sections it does
    /// not name are left to the types that own them.
    ///
    /// # Errors
    /// [`ConfigError::Load`] naming the key that does not fit.
    pub fn extract<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.0
            .extract()
            .map_err(|e| ConfigError::Load(one_line(&e)))
    }

    /// The value at `key` — a section (`gateway`) or a dotted key in one (`gateway.audio_dir`)
    /// — or its default where nothing sets it.
    ///
    /// # Errors
    /// [`ConfigError::Load`] naming the key that does not fit.
    pub fn section<T: DeserializeOwned + Default>(&self, key: &str) -> Result<T, ConfigError> {
        if !self.0.contains(key) {
            return Ok(T::default());
        }
        self.0
            .extract_inner(key)
            .map_err(|e| ConfigError::Load(one_line(&e)))
    }

    /// Refuses a top-level key that is no section of [`sections::ALL`].
    fn check_sections(&self) -> Result<(), ConfigError> {
        let top: Dict = self.extract()?;
        match top
            .keys()
            .find(|key| !sections::ALL.contains(&key.as_str()))
        {
            Some(unknown) => Err(ConfigError::Load(format!(
                "unknown section `{unknown}`: the sections are {}",
                sections::ALL.join(", ")
            ))),
            None => Ok(()),
        }
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
