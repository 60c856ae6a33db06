//! `memvox serve`: everything in one process on the configured backends.
//!
//! Start-up opens the store (migrating SQLite), loads the embedder and checks that the store's
//! embedding space matches it; any failure is one clear error line and a non-zero exit. Then the
//! HTTP server runs until Ctrl-C or SIGTERM: readiness turns 503 first, then in-flight requests
//! get `http.shutdown_grace_ms` to finish.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use memvox_config::Config;
use memvox_store::{EmbeddingSpace, Store, open_store};
use memvox_telemetry::{Health, Metrics, ReadinessCheck, instrument};
use tokio_util::sync::CancellationToken;

/// Readiness of the system of record.
struct StoreReady(Arc<dyn Store>);

#[async_trait]
impl ReadinessCheck for StoreReady {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Runs the server until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let embedder = memvox_ai::build_embedder(&config.embedder).context("embedder")?;
    let space = EmbeddingSpace {
        model: embedder.model_id().to_owned(),
        dimension: embedder.dimension(),
    };
    let store = open_store(&config.store, space).await.context("store")?;
    tracing::info!(
        backend = store.backend(),
        model = embedder.model_id(),
        "store ready"
    );

    let shutdown = CancellationToken::new();
    let metrics = Metrics::new();
    let app = instrument(
        Health::new("memvox", metrics.clone(), shutdown.clone())
            .check("store", Arc::new(StoreReady(store)))
            .into_router(),
        "memvox",
        metrics,
    );
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.http.listen))?;
    tracing::info!(address = %listener.local_addr()?, "memvox listening");

    let grace = Duration::from_millis(config.http.shutdown_grace_ms);
    let drained = shutdown.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        drained.cancelled().await;
    });
    let server = tokio::spawn(async move { server.await });
    shutdown_signal().await;
    tracing::info!("shutdown requested: readiness is now 503, draining");
    shutdown.cancel();
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined.context("server task")?.context("server")?,
        Err(_) => tracing::warn!(
            grace_ms = config.http.shutdown_grace_ms,
            "drain deadline passed"
        ),
    }
    tracing::info!("memvox stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
