//! Serving a service's HTTP router until shutdown, the same way in every binary.
//!
//! SIGTERM or Ctrl-C cancels the app's shutdown token: readiness turns 503 at once (the health
//! router watches the token), the listener stops accepting, and in-flight requests get
//! `http.shutdown_grace_ms` to finish.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt as _;
use tokio_util::sync::CancellationToken;

use crate::{App, Service};

/// Binds `http.listen` and serves `router` (instrumented for `service`, with the health
/// endpoints merged in, client addresses available to rate limiters) until the app shuts down.
///
/// # Errors
/// An address that cannot be bound is an error naming it (`cannot listen on <address>: …`), so
/// the process exits instead of running without a listener.
pub async fn serve_http(app: &App, service: Service, router: Router) -> std::io::Result<()> {
    let listener = bind_http(app.config.http.listen).await?;
    serve_http_on(app, service, router, listener).await
}

/// Binds `listen`. Bind before starting anything that runs beside the listener (a worker), so a
/// taken port stops the process instead of leaving it running without health endpoints.
///
/// # Errors
/// An error naming the address: `cannot listen on <address>: <cause>`.
pub async fn bind_http(listen: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| {
            std::io::Error::new(error.kind(), format!("cannot listen on {listen}: {error}"))
        })
}

/// Runs `work` (a worker) beside `service`'s health and metrics endpoints on `http.listen`
/// until the app shuts down, which SIGTERM or Ctrl-C starts. The address is bound before `work`
/// starts, so a taken port stops the process instead of leaving the worker running without
/// health endpoints.
///
/// # Errors
/// The listener's error (see [`bind_http`]), else the worker's.
pub async fn serve_beside<E: From<std::io::Error>>(
    app: &App,
    service: Service,
    work: impl Future<Output = Result<(), E>>,
) -> Result<(), E> {
    cancel_on_signal(app.shutdown.clone());
    let listener = bind_http(app.config.http.listen).await?;
    let (served, worked) = tokio::join!(serve_http_on(app, service, Router::new(), listener), work);
    served?;
    worked
}

/// [`serve_http`] on a listener the caller bound (e.g. port 0, to learn the port first).
pub async fn serve_http_on(
    app: &App,
    service: Service,
    router: Router,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let router = memvox_telemetry::instrument(
        router.merge(app.health(service).into_router()),
        service.name(),
        app.metrics.clone(),
    );
    spawn_stream_metrics(app);
    let http = &app.config.http;
    tracing::info!(service = service.name(), address = %listener.local_addr()?, "listening");
    let drained = app.shutdown.clone();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    // Nagle's algorithm would hold a small write back until the previous one is acknowledged,
    // which a client delays by up to 40 ms: every chunk of a streamed answer (the custom-LLM
    // proxy's tokens) and every small response is sent at once instead.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on a connection");
        }
    });
    let server = axum::serve(listener, service)
        .with_graceful_shutdown(async move { drained.cancelled().await });
    let server = tokio::spawn(async move { server.await });
    app.shutdown.cancelled().await;
    match tokio::time::timeout(Duration::from_millis(http.shutdown_grace_ms), server).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(std::io::Error::other(join)),
        Err(_) => {
            tracing::warn!(grace_ms = http.shutdown_grace_ms, "drain deadline passed");
            Ok(())
        }
    }
}

/// How often the stream gauges (length, pending, lag, consumers, dead letters) are refreshed.
const STREAM_METRICS_INTERVAL: Duration = Duration::from_secs(5);

/// Refreshes the stream gauges of both streams until shutdown, so every process's `/metrics`
/// shows queue depth and lag.
fn spawn_stream_metrics(app: &App) {
    let (bus, metrics, shutdown) = (
        app.bus.clone(),
        app.bus_metrics.clone(),
        app.shutdown.clone(),
    );
    tokio::spawn(async move {
        let streams = [memvox_bus::EVENTS, memvox_bus::MEMORIES];
        loop {
            if let Err(error) = metrics.refresh(bus.as_ref(), &streams).await {
                tracing::debug!(%error, "stream metrics not refreshed");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(STREAM_METRICS_INTERVAL) => {}
            }
        }
    });
}

/// Cancels `token` on Ctrl-C or SIGTERM.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: readiness is now 503, draining");
        token.cancel();
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_is_an_error_naming_the_address() {
        let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = taken.local_addr().unwrap();
        let error = bind_http(address).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot listen on {address}: ")),
            "{error}"
        );
    }
}
