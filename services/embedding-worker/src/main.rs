//! `memvox-embedding-worker`: the embedding worker as its own process, with health and metrics
//! on `http.listen`.

use memvox_embedding_worker::EmbeddingConfig;
use memvox_runtime::{App, Service, load_config, serve_beside};
use memvox_store::EmbeddingSpace;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut shared, config, _traces) = load_config(EmbeddingConfig::load)?;
    let embedder = memvox_ai::build_embedder(&config.embedder)?;
    let space = EmbeddingSpace::new(embedder.model_id(), embedder.dimension());
    // What a worker writes is derived from durably stored events (`StoreSettings`).
    shared.store.asynchronous_commit = true;
    let app = App::build(shared, space).await?;
    serve_beside(
        &app,
        Service::EmbeddingWorker,
        memvox_embedding_worker::run(&app, &config, embedder),
    )
    .await
}
