//! `memvox-gateway`: the post-call webhook service on its own.
//!
//! Loads the configuration (`MEMVOX_CONFIG` file, `MEMVOX_*` environment), builds the runtime,
//! serves the webhook with health and metrics endpoints on `http.listen`, and on Ctrl-C or
//! SIGTERM turns readiness to 503 first, then drains in-flight requests for
//! `http.shutdown_grace_ms`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use memvox_config::Config;
use memvox_gateway::{GatewayState, router};
use memvox_runtime::App;
use memvox_telemetry::{init_logging, instrument};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(None)?;
    init_logging(&config.log)?;
    let app = App::build(config).await?;
    let state = GatewayState::from_app(&app)?;
    let published = state.published.clone();
    let routes = router(state).merge(app.health("gateway").into_router());
    let routes = instrument(routes, "gateway", app.metrics.clone());

    let http = app.config.http.clone();
    let listener = tokio::net::TcpListener::bind(http.listen)
        .await
        .with_context(|| format!("cannot listen on {}", http.listen))?;
    tracing::info!(address = %listener.local_addr()?, "gateway listening");
    let drained = app.shutdown.clone();
    let server = axum::serve(
        listener,
        routes.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { drained.cancelled().await });
    let server = tokio::spawn(async move { server.await });

    shutdown_signal().await;
    tracing::info!("shutdown requested: readiness is now 503, draining");
    app.shutdown.cancel();
    let drain = async {
        server.await.context("server task")?.context("server")?;
        // Unwritten marks only cost re-publishes, but writing them spares the workers.
        published.settled().await;
        anyhow::Ok(())
    };
    match tokio::time::timeout(Duration::from_millis(http.shutdown_grace_ms), drain).await {
        Ok(drained) => drained?,
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
