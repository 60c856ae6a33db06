//! `memvox-extraction-worker`: the extraction worker as its own process, with health and
//! metrics on `http.listen`.

use memvox_extraction_worker::ExtractionConfig;
use memvox_runtime::{App, Service, load_config, serve_beside};
use memvox_store::EmbeddingSpace;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut shared, config, _traces) = load_config(ExtractionConfig::load)?;
    let embedder = memvox_ai::build_embedder(&config.embedder)?;
    let space = EmbeddingSpace::new(embedder.model_id(), embedder.dimension());
    // What a worker writes is derived from durably stored events (`StoreSettings`).
    shared.store.asynchronous_commit = true;
    let app = App::build(shared, space).await?;
    serve_beside(
        &app,
        Service::ExtractionWorker,
        memvox_extraction_worker::run(&app, &config, embedder),
    )
    .await
}
