//! `memvox-gateway`: the post-call webhook service on its own.
//!
//! Loads the configuration (`MEMVOX_CONFIG` file, `MEMVOX_*` environment), builds the runtime,
//! serves the webhook with health and metrics endpoints on `http.listen`, and on Ctrl-C or
//! SIGTERM turns readiness to 503 first, then drains in-flight requests for
//! `http.shutdown_grace_ms`.

use memvox_config::Config;
use memvox_gateway::{GatewayState, router};
use memvox_runtime::{App, Service, cancel_on_signal, serve_http};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(None)?;
    memvox_telemetry::init_logging(&config.log)?;
    let app = App::build(config).await?;
    cancel_on_signal(app.shutdown.clone());
    let state = GatewayState::from_app(&app)?;
    let published = state.published.clone();
    serve_http(&app, Service::Gateway, router(state)).await?;
    // Unwritten marks only cost re-publishes, but writing them spares the workers.
    published.settled().await;
    Ok(())
}
