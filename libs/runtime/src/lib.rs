//! Process bootstrap shared by `memvox serve` and each service's own binary: from the validated
//! shared sections ([`SharedConfig`]) and an embedding space to one [`App`] of cheap handles
//! (store, bus, cache versions, metrics, shutdown token).
//!
//! No model is built here: a service that embeds builds its embedder and opens the store in
//! that embedder's space; the gateway opens it with [`EmbeddingSpace::none`] and so starts
//! without a model.
//!
//! The cache versions ([`Caching`]) are built once per process and shared by the query service
//! and the workers of that process; with the Redis bus they also live in that Redis, so writers
//! in one process invalidate the cached answers of every other.
//!
//! This is the one place that turns the shared configuration into live connections; each
//! library's own builder (`open_store`, `connect_bus`) is the one place that matches on its
//! backend.

mod error_response;
mod http;
mod service;
mod start;

use std::sync::Arc;

use async_trait::async_trait;
use memvox_bus::{Bus, BusBackend, BusMetrics};
use memvox_cache::Caching;
use memvox_config::SharedConfig;
use memvox_crypto::Keyring;
use memvox_identity::Identities;
use memvox_store::{EmbeddingSpace, Store, open_store};
use memvox_telemetry::{Health, Metrics, ReadinessCheck};
use tokio_util::sync::CancellationToken;

pub use error_response::error_response;
pub use http::{bind_http, cancel_on_signal, serve_beside, serve_http, serve_http_on};
pub use service::Service;
pub use start::load_config;

/// Why a process could not start; each variant names the part at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The configuration did not load or validate.
    #[error(transparent)]
    Config(#[from] memvox_config::ConfigError),
    /// Logging could not be started.
    #[error(transparent)]
    Logging(#[from] memvox_telemetry::TelemetryError),
    /// The encryption keys could not be loaded or generated.
    #[error("encryption: {0}")]
    Encryption(#[from] memvox_crypto::CryptoError),
    /// The store could not be opened or does not fit the embedder.
    #[error("store: {0}")]
    Store(#[from] memvox_store::StoreError),
    /// The bus could not be reached.
    #[error("bus: {0}")]
    Bus(#[from] memvox_bus::BusError),
    /// Metrics could not be registered.
    #[error("metrics: {0}")]
    Metrics(String),
    /// The caches could not be set up.
    #[error("cache: {0}")]
    Cache(#[from] memvox_cache::CacheError),
}

/// The handles every service runs on. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The shared sections of the configuration the process started with.
    pub config: Arc<SharedConfig>,
    /// System of record.
    pub store: Arc<dyn Store>,
    /// The encryption keys the store uses, for content kept outside it (post-call audio
    /// files). Disabled when `encryption.enabled = false`.
    pub keyring: Keyring,
    /// Streams between services.
    pub bus: Arc<dyn Bus>,
    /// Prometheus registry shared by every component of the process.
    pub metrics: Metrics,
    /// Bus counters and gauges.
    pub bus_metrics: BusMetrics,
    /// Per-user cache versions (bumped by every writer) and the cache settings and counters.
    pub cache: Caching,
    /// How callers are identified: the `[identity]` settings and the keys that sign and
    /// verify identity tokens (`identity.token_secret`, else derived from the index key).
    pub identities: Identities,
    /// Cancelled when the process should stop.
    pub shutdown: CancellationToken,
}

impl App {
    /// Loads the encryption keys, opens the store in `space` (the embedder's, or
    /// [`EmbeddingSpace::none`] for a process without vectors) and connects the bus.
    pub async fn build(config: SharedConfig, space: EmbeddingSpace) -> Result<App, StartupError> {
        let keyring = open_keyring(&config)?;
        Self::build_with_keyring(config, space, keyring).await
    }

    /// [`App::build`] with keys already loaded (e.g. `memvox keys rotate` with another active
    /// key).
    pub async fn build_with_keyring(
        config: SharedConfig,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> Result<App, StartupError> {
        let identities = Identities::new(
            config.identity.clone(),
            keyring.derive_key(IDENTITY_KEY_PURPOSE),
        );
        if !identities.keys.can_issue() {
            tracing::warn!(
                "no identity.token_secret and encryption off: no identity tokens are issued, \
                 only the phone channel identifies callers, and guest ids are plain hashes"
            );
        }
        let store = open_store(&config.store, space, keyring.clone()).await?;
        let bus = memvox_bus::connect_bus(&config.bus).await?;
        let metrics = Metrics::new();
        let bus_metrics = BusMetrics::register(metrics.registry())
            .map_err(|e| StartupError::Metrics(e.to_string()))?;
        let shared_redis =
            (config.bus.backend == BusBackend::Redis).then_some(config.bus.redis_url.as_str());
        let cache = Caching::new(
            config.cache.clone(),
            shared_redis,
            keyring.sealer(CACHE_SEAL_PURPOSE),
            metrics.registry(),
        )?;
        tracing::info!(
            store = store.backend(),
            embedding_model = store.embedding_space().model.as_str(),
            "runtime ready"
        );
        Ok(App {
            config: Arc::new(config),
            store,
            keyring,
            bus,
            metrics,
            bus_metrics,
            cache,
            identities,
            shutdown: CancellationToken::new(),
        })
    }

    /// Health endpoints for `service`: readiness checks the store, and the bus where the
    /// service cannot work without it ([`Service::needs_bus_to_be_ready`]).
    pub fn health(&self, service: Service) -> Health {
        let health = Health::new(service.name(), self.metrics.clone(), self.shutdown.clone())
            .check("store", Arc::new(StoreReady(self.store.clone())));
        if service.needs_bus_to_be_ready() {
            health.check("bus", Arc::new(BusReady(self.bus.clone())))
        } else {
            health
        }
    }
}

/// What the identity-token key is derived for (changing it invalidates every issued token).
const IDENTITY_KEY_PURPOSE: &str = "identity tokens";

/// What the shared cache's sealing and naming keys are derived for (changing it orphans every
/// Redis cache entry, which then expire).
const CACHE_SEAL_PURPOSE: &str = "shared cache";

/// The keyring the configuration describes: from the key file or the inline keys, the
/// embedded store generating its key file beside the database on first start.
pub fn open_keyring(config: &SharedConfig) -> Result<Keyring, StartupError> {
    Ok(Keyring::open(
        &config.encryption,
        config.store.default_key_file().as_deref(),
    )?)
}

/// Readiness of the system of record.
struct StoreReady(Arc<dyn Store>);

#[async_trait]
impl ReadinessCheck for StoreReady {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Readiness of the bus: it answers a stats request for the events stream.
struct BusReady(Arc<dyn Bus>);

#[async_trait]
impl ReadinessCheck for BusReady {
    async fn check(&self) -> Result<(), String> {
        self.0
            .stats(memvox_bus::EVENTS)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
