//! `memvox-query`: the query service on its own.
//!
//! Loads its configuration (`MEMVOX_CONFIG` file, `MEMVOX_*` environment: the shared sections,
//! `[query]`, `[embedder]`, `[summarizer]`, `gateway.audio_dir`), builds its embedder and the
//! runtime in the embedder's space, serves the tool, the initiation webhook and the REST API
//! with health and metrics endpoints on `http.listen`, and on Ctrl-C or SIGTERM turns readiness
//! to 503 first, then drains in-flight requests for `http.shutdown_grace_ms`.

use memvox_query::{QueryConfig, QueryState, router};
use memvox_runtime::{App, Service, cancel_on_signal, load_config, serve_http};
use memvox_store::EmbeddingSpace;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (shared, config) = load_config(QueryConfig::load)?;
    let embedder = memvox_ai::build_embedder(&config.embedder)?;
    let space = EmbeddingSpace::new(embedder.model_id(), embedder.dimension());
    let app = App::build(shared, space).await?;
    cancel_on_signal(app.shutdown.clone());
    let state = QueryState::from_app(&app, &config, embedder)?;
    serve_http(&app, Service::Query, router(state)).await?;
    Ok(())
}
