//! memvox embedding worker: a consumer group on the `memories` stream that embeds changed
//! memories in batches, links similar ones, keeps user summaries fresh and applies recall
//! reinforcement (see [`handler`]).

pub mod handler;
mod metrics;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use memvox_bus::{MEMORIES, Worker, WorkerConfig, unique_consumer_name};
use memvox_runtime::App;

pub use handler::EmbeddingHandler;
pub use metrics::EmbeddingMetrics;

/// Consumer group of the embedding workers on the memories stream.
pub const GROUP: &str = "embedding";

/// Builds the embedding worker from the app.
pub fn build(app: &App) -> anyhow::Result<Worker> {
    let handler = EmbeddingHandler {
        store: app.store.clone(),
        embedder: app.embedder.clone(),
        summarizer: memvox_ai::build_summarizer(&app.config.summarizer)?,
        settings: app.config.workers.clone(),
        summarized: Mutex::new(HashMap::new()),
        versions: app.cache.versions.clone(),
        metrics: EmbeddingMetrics::register(app.metrics.registry())?,
    };
    let mut config = WorkerConfig::new(
        &app.config.bus,
        MEMORIES,
        GROUP,
        &unique_consumer_name("embedding"),
    );
    config.batch_size = app.config.workers.embed_batch_max.max(1);
    Ok(Worker::new(app.bus.clone(), Arc::new(handler), config)
        .with_metrics(app.bus_metrics.clone()))
}

/// Runs the worker until the app's shutdown token is cancelled.
pub async fn run(app: &App) -> anyhow::Result<()> {
    build(app)?.run(app.shutdown.clone()).await;
    Ok(())
}
