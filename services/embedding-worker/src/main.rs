//! `memvox-embedding-worker`: the embedding worker as its own process, with health and metrics
//! on `http.listen`.

use axum::Router;
use memvox_config::Config;
use memvox_runtime::{App, cancel_on_signal, serve_http};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(None)?;
    memvox_telemetry::init_logging(&config.log)?;
    let app = App::build(config).await?;
    cancel_on_signal(app.shutdown.clone());
    let (served, worked) = tokio::join!(
        serve_http(&app, "embedding-worker", Router::new()),
        memvox_embedding_worker::run(&app)
    );
    served?;
    worked
}
