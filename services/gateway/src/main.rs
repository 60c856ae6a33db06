//! `memvox-gateway`: the post-call webhook service on its own.
//!
//! Loads its configuration (`MEMVOX_CONFIG` file, `MEMVOX_*` environment: the shared sections
//! and `[gateway]`), builds the runtime without an embedding model, serves the webhook with
//! health and metrics endpoints on `http.listen`, and on Ctrl-C or SIGTERM turns readiness to
//! 503 first, then drains in-flight requests for `http.shutdown_grace_ms`.

use memvox_gateway::{GatewayConfig, router, start};
use memvox_runtime::{Service, cancel_on_signal, serve_http};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = GatewayConfig::load(None)?;
    memvox_telemetry::init_logging(&config.shared.log)?;
    let (app, state) = start(config).await?;
    cancel_on_signal(app.shutdown.clone());
    let unfinished = state.unfinished();
    serve_http(&app, Service::Gateway, router(state)).await?;
    unfinished.finish().await;
    Ok(())
}
