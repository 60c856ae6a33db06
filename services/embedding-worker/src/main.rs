//! `memvox-embedding-worker`: the embedding worker as its own process, with health and metrics
//! on `http.listen`.

use axum::Router;
use memvox_config::{Layers, SharedConfig};
use memvox_embedding_worker::EmbeddingConfig;
use memvox_runtime::{App, Service, bind_http, cancel_on_signal, serve_http_on};
use memvox_store::EmbeddingSpace;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let layers = Layers::load(None)?;
    let (shared, config) = (
        SharedConfig::load(&layers)?,
        EmbeddingConfig::load(&layers)?,
    );
    memvox_telemetry::init_logging(&shared.log)?;
    let embedder = memvox_ai::build_embedder(&config.embedder)?;
    let space = EmbeddingSpace::new(embedder.model_id(), embedder.dimension());
    let app = App::build(shared, space).await?;
    cancel_on_signal(app.shutdown.clone());
    // Bound before the worker starts: a taken port must stop the process, not leave the worker
    // running without health endpoints.
    let listener = bind_http(app.config.http.listen).await?;
    let (served, worked) = tokio::join!(
        serve_http_on(&app, Service::EmbeddingWorker, Router::new(), listener),
        memvox_embedding_worker::run(&app, &config, embedder)
    );
    served?;
    worked
}
