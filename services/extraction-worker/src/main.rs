//! `memvox-extraction-worker`: the extraction worker as its own process, with health and
//! metrics on `http.listen`.

use axum::Router;
use memvox_config::Config;
use memvox_runtime::{App, Service, bind_http, cancel_on_signal, serve_http_on};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(None)?;
    memvox_telemetry::init_logging(&config.log)?;
    let app = App::build(config).await?;
    cancel_on_signal(app.shutdown.clone());
    // Bound before the worker starts: a taken port must stop the process, not leave the worker
    // running without health endpoints.
    let listener = bind_http(app.config.http.listen).await?;
    let (served, worked) = tokio::join!(
        serve_http_on(&app, Service::ExtractionWorker, Router::new(), listener),
        memvox_extraction_worker::run(&app)
    );
    served?;
    worked
}
