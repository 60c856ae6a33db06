//! The sections every memvox process reads: the HTTP listener, the store and its encryption,
//! logging, the bus, the caches, caller identity and privacy. Each section's type belongs to the
//! library that uses it (the store's settings live in `memvox-store`, and so on); this module
//! composes and validates them.

use std::net::SocketAddr;

use memvox_bus::BusSettings;
use memvox_cache::CacheSettings;
use memvox_crypto::EncryptionSettings;
use memvox_identity::IdentitySettings;
use memvox_store::StoreSettings;
use memvox_telemetry::LogSettings;
use serde::Deserialize;

use crate::{ConfigError, Layers, PrivacySettings};

/// The sections shared by every process.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SharedConfig {
    /// HTTP listener.
    pub http: HttpSettings,
    /// System of record.
    pub store: StoreSettings,
    /// Encryption at rest of the system of record.
    pub encryption: EncryptionSettings,
    /// Logging.
    pub log: LogSettings,
    /// Streams between services.
    pub bus: BusSettings,
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

impl SharedConfig {
    /// The shared sections of `layers`, validated.
    ///
    /// # Errors
    /// [`ConfigError`] for a value that does not parse or breaks a rule.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        let shared: Self = layers.extract()?;
        shared.validate()?;
        Ok(shared)
    }

    /// Checks values and cross-field rules that types cannot express.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] explaining the first broken rule in a sentence.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid(e.to_string());
        self.store.backend().map_err(|e| invalid(&e))?;
        self.encryption.validate().map_err(|e| invalid(&e))?;
        self.bus.validate().map_err(|e| invalid(&e))?;
        self.cache.validate().map_err(|e| invalid(&e))?;
        self.identity.validate().map_err(ConfigError::Invalid)?;
        if self.store.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "store.max_connections must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
