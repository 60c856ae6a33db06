//! memvox extraction worker: a consumer group on the `events` stream that turns each accepted
//! post-call webhook into a recorded call and deduplicated memories, exactly once in effect
//! (see [`handler`]), plus the outbox reconciler that re-publishes events whose message was lost
//! and the [`retention`] job that deletes raw payloads and turns past their age.

mod audio_retention;
mod batch;
pub mod call;
mod config;
mod error;
pub mod handler;
pub mod identity;
mod metrics;
mod outbox;
pub mod plan;
mod prepare;
pub mod retention;

use std::{sync::Arc, time::Duration};

use memvox_ai::Embedder;
use memvox_bus::{EVENTS, Reconciler, Worker, WorkerConfig, unique_consumer_name};
use memvox_runtime::App;

pub use config::ExtractionConfig;
pub use error::ProcessError;
pub use handler::ExtractionHandler;
pub use metrics::ExtractionMetrics;
pub use outbox::StoreOutbox;

/// Consumer group of the extraction workers on the events stream.
pub const GROUP: &str = "extraction";

/// Events re-published per reconciliation pass.
const OUTBOX_BATCH: usize = 500;

/// Builds the extraction worker (handler + bus runner) and the outbox reconciler from the app,
/// opened in `embedder`'s space.
pub fn build(
    app: &App,
    config: &ExtractionConfig,
    embedder: Arc<dyn Embedder>,
) -> anyhow::Result<(Worker, Reconciler)> {
    let extractor = memvox_ai::build_extractor(&config.extractor)?;
    let handler = ExtractionHandler {
        store: app.store.clone(),
        bus: app.bus.clone(),
        embedder,
        extractor,
        events_per_commit: config.workers.events_per_commit(matches!(
            app.config.store.backend()?,
            memvox_store::StoreBackend::Sqlite { .. }
        )),
        settings: config.workers.clone(),
        redaction: app.config.privacy.redaction.policy(),
        identities: app.identities.clone(),
        max_attempts: app.config.bus.max_attempts,
        metrics: ExtractionMetrics::register(app.metrics.registry())?,
        versions: app.cache.versions.clone(),
    };
    memvox_ai::register_metrics(app.metrics.registry())?;
    let runner = WorkerConfig::new(
        &app.config.bus,
        EVENTS,
        GROUP,
        &unique_consumer_name("extraction"),
    );
    let worker = Worker::new(app.bus.clone(), Arc::new(handler), runner)
        .with_metrics(app.bus_metrics.clone());
    let reconciler = Reconciler::new(
        app.bus.clone(),
        Arc::new(StoreOutbox(app.store.clone())),
        Duration::from_millis(config.workers.outbox_grace_ms),
        OUTBOX_BATCH,
    )
    .waiting_for(EVENTS, GROUP);
    Ok((worker, reconciler))
}

/// Runs the worker, the reconciler and the retention job until the app's shutdown token is
/// cancelled.
pub async fn run(
    app: &App,
    config: &ExtractionConfig,
    embedder: Arc<dyn Embedder>,
) -> anyhow::Result<()> {
    let (worker, reconciler) = build(app, config, embedder)?;
    let retention = retention::Retention::new(config.workers.clone(), app.metrics.registry())?
        .with_audio_dir(config.audio_dir.clone());
    let interval = Duration::from_millis(config.workers.outbox_interval_ms);
    tokio::join!(
        worker.run(app.shutdown.clone()),
        reconciler.run(interval, app.shutdown.clone()),
        retention.run(app.store.as_ref(), app.shutdown.clone()),
    );
    Ok(())
}
