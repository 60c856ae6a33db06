//! `memvox serve`: everything in one process on the configured backends — the HTTP API (the
//! post-call webhook, the memory-query tool, the conversation-init webhook, the REST API, health
//! and metrics), the extraction worker with its outbox reconciler, the embedding worker, and —
//! with `elevenlabs.poll.enabled` — the poll of the ElevenLabs API for calls whose webhook never
//! arrived.
//!
//! Start-up opens the store (migrating SQLite), loads the embedder and checks that the store's
//! embedding space matches it; any failure is one clear error line and a non-zero exit. Then
//! everything runs until Ctrl-C or SIGTERM: readiness turns 503 first, in-flight requests get
//! `http.shutdown_grace_ms` to finish, and workers stop reading, leaving unacknowledged messages
//! to be claimed again. The workers run on their own runtime of background threads
//! (`background`: `SCHED_IDLE` on Linux), so the HTTP answers go first when the CPU is short;
//! so does the gateway's task that moves acknowledged deliveries from the ingest file into the
//! database, and so does the SQLite database's writer connection
//! (`StoreSettings::background_writer`). The poll,
//! mostly waiting on the ElevenLabs API, stores through the acknowledgement path on the main
//! runtime. `memvox eval` runs the
//! same [`run`] on a port-0 listener.

use anyhow::Context;
use axum::Router;
use memvox::{Config, Memvox};
use memvox_runtime::{Service, cancel_on_signal, serve_http_on};
use tokio::net::TcpListener;

use crate::background;

/// Runs everything until a shutdown signal.
pub async fn serve(mut config: Config) -> anyhow::Result<()> {
    // The database's writer serves the workers and the ingest file's moves here: background
    // work, at the workers' priority (acknowledgements write to the ingest file).
    config.shared.store.background_writer = true;
    let app = Memvox::build(config).await?;
    cancel_on_signal(app.shutdown.clone());
    let listen = app.config.shared.http.listen;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    run(app, listener).await
}

/// Serves the HTTP API on `listener` and runs both workers until `app.shutdown` is cancelled.
pub async fn run(app: Memvox, listener: TcpListener) -> anyhow::Result<()> {
    let background = background::runtime().context("cannot start the workers' runtime")?;
    let mut gateway = app.gateway()?;
    gateway.staged = gateway.staged.on_runtime(background.handle().clone());
    let unfinished = gateway.unfinished();
    let poll = memvox_gateway::import::poll_task(
        &gateway,
        &app.config.elevenlabs,
        app.metrics.registry(),
        app.shutdown.clone(),
    )?;
    let query = app.query()?;
    let router = Router::new()
        .merge(memvox_gateway::router(gateway))
        .merge(memvox_query::router(query));
    let extraction = background.spawn({
        let app = app.clone();
        async move { app.run_extraction().await }
    });
    let embedding = background.spawn({
        let app = app.clone();
        async move { app.run_embedding().await }
    });
    // On this runtime, not the workers': its stores go through the acknowledgement path, whose
    // tasks must outlive the workers' runtime until their published marks are written.
    let poll = poll.map(tokio::spawn);
    let (served, extraction, embedding) = tokio::join!(
        serve_http_on(&app, Service::Memvox, router, listener),
        extraction,
        embedding,
    );
    if let Some(poll) = poll {
        poll.await.context("the ElevenLabs poll panicked")?;
    }
    drop(background);
    served?;
    unfinished.finish().await;
    extraction.context("the extraction worker panicked")??;
    embedding.context("the embedding worker panicked")??;
    tracing::info!("memvox stopped");
    Ok(())
}
