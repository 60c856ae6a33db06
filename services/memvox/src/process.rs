//! [`Memvox`]: every part in one process — the runtime ([`App`]), the full configuration and
//! the one embedder the query service and both workers share (one model load, one query-vector
//! cache). `memvox serve` and `memvox eval` run on it, and so do the end-to-end tests.

use std::{ops::Deref, sync::Arc};

use memvox_ai::Embedder;
use memvox_bus::{Reconciler, Worker};
use memvox_gateway::GatewayState;
use memvox_query::QueryState;
use memvox_runtime::App;
use memvox_store::EmbeddingSpace;

use crate::Config;

/// memvox in one process. Cheap to clone; derefs to its [`App`], whose handles (store, bus,
/// metrics, shutdown) every part shares.
#[derive(Clone)]
pub struct Memvox {
    /// The shared handles.
    pub app: App,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// The embedding model (with its query cache).
    pub embedder: Arc<dyn Embedder>,
}

impl Memvox {
    /// Builds the embedder, then the runtime with the store opened in the embedder's space.
    ///
    /// # Errors
    /// The part that could not start: the model, the keys, the store or the bus.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let embedder = memvox_ai::build_embedder(&config.embedder)?;
        let space = EmbeddingSpace::new(embedder.model_id(), embedder.dimension());
        let app = App::build(config.shared.clone(), space).await?;
        Ok(Self {
            app,
            config: Arc::new(config),
            embedder,
        })
    }

    /// The gateway's state.
    ///
    /// # Errors
    /// An empty webhook secret, or metrics already registered.
    pub fn gateway(&self) -> anyhow::Result<GatewayState> {
        Ok(GatewayState::from_app(
            &self.app,
            self.config.gateway.clone(),
        )?)
    }

    /// The query service's state.
    ///
    /// # Errors
    /// A malformed token digest, unusable summarizer settings, or metrics already registered.
    pub fn query(&self) -> anyhow::Result<QueryState> {
        let config = self.config.query_config();
        Ok(QueryState::from_app(
            &self.app,
            &config,
            self.embedder.clone(),
        )?)
    }

    /// The extraction worker and the outbox reconciler.
    ///
    /// # Errors
    /// Unusable extractor settings, or metrics already registered.
    pub fn extraction_worker(&self) -> anyhow::Result<(Worker, Reconciler)> {
        let config = self.config.extraction_config();
        memvox_extraction_worker::build(&self.app, &config, self.embedder.clone())
    }

    /// The embedding worker.
    ///
    /// # Errors
    /// Unusable summarizer settings, or metrics already registered.
    pub fn embedding_worker(&self) -> anyhow::Result<Worker> {
        let config = self.config.embedding_config();
        memvox_embedding_worker::build(&self.app, &config, self.embedder.clone())
    }

    /// Runs the extraction worker, its reconciler and the retention job until shutdown.
    ///
    /// # Errors
    /// See [`Memvox::extraction_worker`].
    pub async fn run_extraction(&self) -> anyhow::Result<()> {
        let config = self.config.extraction_config();
        memvox_extraction_worker::run(&self.app, &config, self.embedder.clone()).await
    }

    /// Runs the embedding worker until shutdown.
    ///
    /// # Errors
    /// See [`Memvox::embedding_worker`].
    pub async fn run_embedding(&self) -> anyhow::Result<()> {
        let config = self.config.embedding_config();
        memvox_embedding_worker::run(&self.app, &config, self.embedder.clone()).await
    }
}

impl Deref for Memvox {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}
