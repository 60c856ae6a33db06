//! `memvox-gateway`: the post-call webhook service on its own.
//!
//! Loads its configuration (`MEMVOX_CONFIG` file, `MEMVOX_*` environment: the shared sections,
//! `[gateway]` and `[elevenlabs]`), builds the runtime without an embedding model, serves the webhook with
//! health and metrics endpoints on `http.listen`, and on Ctrl-C or SIGTERM turns readiness to
//! 503 first, then drains in-flight requests for `http.shutdown_grace_ms`. With
//! `elevenlabs.poll.enabled`, it also polls the ElevenLabs API for calls whose webhook never
//! arrived (one replica per interval, by a lease in the store).

use memvox_gateway::import::poll_task;
use memvox_gateway::{GatewayConfig, router, start};
use memvox_runtime::{Service, cancel_on_signal, serve_http};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = GatewayConfig::load(None)?;
    let _traces = memvox_telemetry::init_logging(&config.shared.log)?;
    let elevenlabs = config.elevenlabs.clone();
    let (app, state) = start(config).await?;
    cancel_on_signal(app.shutdown.clone());
    let unfinished = state.unfinished();
    let poll = poll_task(
        &state,
        &elevenlabs,
        app.metrics.registry(),
        app.shutdown.clone(),
    )?
    .map(tokio::spawn);
    serve_http(&app, Service::Gateway, router(state)).await?;
    if let Some(poll) = poll {
        // It ends with the shutdown; what it stored is finished below with the rest.
        poll.await?;
    }
    unfinished.finish().await;
    Ok(())
}
