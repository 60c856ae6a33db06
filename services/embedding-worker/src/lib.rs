//! memvox embedding worker: a consumer group on the `memories` stream that embeds changed
//! memories in batches, links similar ones, keeps user summaries fresh and applies recall
//! reinforcement (see [`handler`]).

mod config;
pub mod handler;
mod metrics;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use memvox_ai::Embedder;
use memvox_bus::{MEMORIES, Worker, WorkerConfig, unique_consumer_name};
use memvox_runtime::App;

pub use config::EmbeddingConfig;
pub use handler::EmbeddingHandler;
pub use metrics::EmbeddingMetrics;

/// Consumer group of the embedding workers on the memories stream.
pub const GROUP: &str = "embedding";

/// Builds the embedding worker from the app, opened in `embedder`'s space.
pub fn build(
    app: &App,
    config: &EmbeddingConfig,
    embedder: Arc<dyn Embedder>,
) -> anyhow::Result<Worker> {
    let handler = EmbeddingHandler {
        store: app.store.clone(),
        embedder,
        summarizer: memvox_ai::build_summarizer(&config.summarizer)?,
        settings: config.workers.clone(),
        summarized: Mutex::new(HashMap::new()),
        metrics: EmbeddingMetrics::register(app.metrics.registry())?,
    };
    memvox_ai::register_metrics(app.metrics.registry())?;
    let mut runner = WorkerConfig::new(
        &app.config.bus,
        MEMORIES,
        GROUP,
        &unique_consumer_name("embedding"),
    );
    runner.batch_size = config.workers.embed_batch_max.max(1);
    Ok(Worker::new(app.bus.clone(), Arc::new(handler), runner)
        .with_metrics(app.bus_metrics.clone()))
}

/// Runs the worker until the app's shutdown token is cancelled.
pub async fn run(
    app: &App,
    config: &EmbeddingConfig,
    embedder: Arc<dyn Embedder>,
) -> anyhow::Result<()> {
    build(app, config, embedder)?
        .run(app.shutdown.clone())
        .await;
    Ok(())
}
