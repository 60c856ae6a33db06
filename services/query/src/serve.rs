//! What the query service's binaries run: load the configuration (`MEMVOX_CONFIG` file,
//! `MEMVOX_*` environment: the shared sections, `[query]`, `[embedder]`, `[summarizer]`,
//! `gateway.audio_dir`), build the embedder and the runtime in the embedder's space, then serve
//! a router over the [`QueryState`] with health and metrics endpoints on `http.listen`; on
//! Ctrl-C or SIGTERM readiness turns 503 first, then in-flight requests drain for
//! `http.shutdown_grace_ms`.

use axum::Router;
use memvox_runtime::{App, Service, cancel_on_signal, load_config, serve_http};
use memvox_store::EmbeddingSpace;

use crate::{QueryConfig, QueryState};

/// Serves `router` as `service` until a shutdown signal, after `check` accepted the
/// configuration.
///
/// # Errors
/// A configuration `check` or the loader refuses, a runtime that does not start, a listener
/// that fails.
pub async fn serve(
    service: Service,
    check: impl FnOnce(&QueryConfig) -> anyhow::Result<()>,
    router: impl FnOnce(QueryState) -> Router,
) -> anyhow::Result<()> {
    let (shared, config, _traces) = load_config(QueryConfig::load)?;
    check(&config)?;
    let embedder = memvox_ai::build_embedder(&config.embedder)?;
    let space = EmbeddingSpace::new(embedder.model_id(), embedder.dimension());
    let app = App::build(shared, space).await?;
    cancel_on_signal(app.shutdown.clone());
    let state = QueryState::from_app(&app, &config, embedder)?;
    serve_http(&app, service, router(state)).await?;
    Ok(())
}
