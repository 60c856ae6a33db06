//! `memvox serve`: everything in one process on the configured backends.
//!
//! Start-up opens the store (migrating SQLite), loads the embedder and checks that the store's
//! embedding space matches it; any failure is one clear error line and a non-zero exit. Then the
//! HTTP server runs until Ctrl-C or SIGTERM: readiness turns 503 first, then in-flight requests
//! get `http.shutdown_grace_ms` to finish.

use std::time::Duration;

use anyhow::Context;
use memvox_config::Config;
use memvox_runtime::App;
use memvox_telemetry::instrument;

/// Runs the server until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    let shutdown = app.shutdown.clone();
    let router = instrument(
        app.health("memvox").into_router(),
        "memvox",
        app.metrics.clone(),
    );
    let http = app.config.http.clone();
    let listener = tokio::net::TcpListener::bind(http.listen)
        .await
        .with_context(|| format!("cannot listen on {}", http.listen))?;
    tracing::info!(address = %listener.local_addr()?, "memvox listening");

    let grace = Duration::from_millis(http.shutdown_grace_ms);
    let drained = shutdown.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        drained.cancelled().await;
    });
    let server = tokio::spawn(async move { server.await });
    shutdown_signal().await;
    tracing::info!("shutdown requested: readiness is now 503, draining");
    shutdown.cancel();
    match tokio::time::timeout(grace, server).await {
        Ok(joined) => joined.context("server task")?.context("server")?,
        Err(_) => tracing::warn!(grace_ms = http.shutdown_grace_ms, "drain deadline passed"),
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
