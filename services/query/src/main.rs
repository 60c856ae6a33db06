//! `memvox-query`: the query service on its own.
//!
//! Loads the configuration (`MEMVOX_CONFIG` file, `MEMVOX_*` environment), builds the runtime,
//! serves the tool, the initiation webhook and the REST API with health and metrics endpoints
//! on `http.listen`, and on Ctrl-C or SIGTERM turns readiness to 503 first, then drains
//! in-flight requests for `http.shutdown_grace_ms`.

use std::time::Duration;

use anyhow::Context as _;
use memvox_config::Config;
use memvox_query::{QueryState, router};
use memvox_runtime::App;
use memvox_telemetry::{init_logging, instrument};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(None)?;
    init_logging(&config.log)?;
    let app = App::build(config).await?;
    let state = QueryState::from_app(&app)?;
    let routes = router(state).merge(app.health("query").into_router());
    let routes = instrument(routes, "query", app.metrics.clone());

    let http = app.config.http.clone();
    let listener = tokio::net::TcpListener::bind(http.listen)
        .await
        .with_context(|| format!("cannot listen on {}", http.listen))?;
    tracing::info!(address = %listener.local_addr()?, "query service listening");
    let drained = app.shutdown.clone();
    let server = axum::serve(listener, routes)
        .with_graceful_shutdown(async move { drained.cancelled().await });
    let server = tokio::spawn(async move { server.await });

    shutdown_signal().await;
    tracing::info!("shutdown requested: readiness is now 503, draining");
    app.shutdown.cancel();
    match tokio::time::timeout(Duration::from_millis(http.shutdown_grace_ms), server).await {
        Ok(joined) => joined.context("server task")?.context("server")?,
        Err(_) => tracing::warn!(grace_ms = http.shutdown_grace_ms, "drain deadline passed"),
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
