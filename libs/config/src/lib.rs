//! memvox configuration: the layering every process loads ([`Layers`]: built-in defaults, then
//! an optional TOML file, then `MEMVOX_`-prefixed environment variables with `__` for nesting —
//! `MEMVOX_STORE__URL=postgres://…` sets `store.url`), the sections every process shares
//! ([`SharedConfig`]), the workers' section ([`WorkerSettings`]) and what several services
//! agree on (privacy, secrets, where audio files are).
//!
//! A service owns its own section (the gateway's settings live in `memvox-gateway`, the query
//! service's in `memvox-query`, the models' in `memvox-ai`); each binary reads the shared
//! sections and its own from the layers, and the `memvox` command composes them all. Every
//! section is validated once at start-up, each broken rule explained in a sentence.

mod audio;
mod layers;
mod privacy;
mod secret;
mod shared;
mod workers;

pub use audio::{AUDIO_DIR_KEY, AUDIO_FILE_SUFFIX, audio_path};
pub use layers::{CONFIG_FILE_ENV, ENV_PREFIX, Layers, sections};
pub use privacy::{PrivacySettings, UnredactedWebhooks};
pub use secret::{ExposeSecret, Secret};
pub use shared::{HttpSettings, SharedConfig};
pub use workers::WorkerSettings;

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

#[cfg(test)]
mod tests;
