//! `memvox serve`: everything in one process on the configured backends — the HTTP API with
//! health and metrics, the extraction worker with its outbox reconciler, and the embedding
//! worker.
//!
//! Start-up opens the store (migrating SQLite), loads the embedder and checks that the store's
//! embedding space matches it; any failure is one clear error line and a non-zero exit. Then
//! everything runs until Ctrl-C or SIGTERM: readiness turns 503 first, in-flight requests get
//! `http.shutdown_grace_ms` to finish, and workers stop reading, leaving unacknowledged messages
//! to be claimed again.

use axum::Router;
use memvox_config::Config;
use memvox_runtime::{App, cancel_on_signal, serve_http};

/// Runs everything until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    cancel_on_signal(app.shutdown.clone());
    let (served, extraction, embedding) = tokio::join!(
        serve_http(&app, "memvox", Router::new()),
        memvox_extraction_worker::run(&app),
        memvox_embedding_worker::run(&app),
    );
    served?;
    extraction?;
    embedding?;
    tracing::info!("memvox stopped");
    Ok(())
}
