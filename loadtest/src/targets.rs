//! The servers under test, started in this process on loopback ports.
//!
//! * `gateway`: the real `memvox-gateway` router with production instrumentation (request ids,
//!   route metrics), a SQLite store in a temporary directory (WAL, default pragmas) and the
//!   in-process bus, or Redis Streams under a unique key prefix (deleted afterwards).
//! * `bare`: an axum handler that reads the same body and answers the same 200 JSON: the floor
//!   that HTTP, the client and this machine impose. The ratio of the two is the gateway's cost.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use memvox_bus::{Bus, BusBackend, BusSettings, InProcessBus, RedisBus};
use memvox_config::Secret;
use memvox_crypto::{KeySet, Keyring};
use memvox_gateway::{GatewayMetrics, GatewaySettings, GatewayState, router};
use memvox_store::{EmbeddingSpace, SqliteStore, StoreSettings};
use memvox_telemetry::{Metrics, instrument};

/// Path both servers answer on.
pub const PATH: &str = "/webhook/post-call";

/// A running server.
pub struct Target {
    /// Label in reports.
    pub name: &'static str,
    /// Full URL of the webhook route.
    pub url: String,
}

/// What the gateway runs on; dropped at the end of the run.
pub struct GatewayBackends {
    _dir: tempfile::TempDir,
    redis: Option<(String, String)>,
}

/// Starts the gateway on `127.0.0.1:0` with a SQLite pool of `store_connections`; `redis_url`
/// selects Redis Streams over the in-process bus.
pub async fn start_gateway(
    secret: &str,
    redis_url: Option<&str>,
    store_connections: u32,
) -> anyhow::Result<(Target, GatewayBackends)> {
    let dir = tempfile::tempdir()?;
    let space = EmbeddingSpace {
        model: "loadtest".into(),
        dimension: 4,
    };
    let store_settings = StoreSettings {
        max_connections: store_connections,
        ..StoreSettings::default()
    };
    // Encrypted like a default deployment: raw webhook payloads are encrypted before they are stored.
    let keyring = Keyring::from_key_set(KeySet::generate());
    let store = SqliteStore::open(
        &dir.path().join("memvox.db"),
        &store_settings,
        space,
        keyring.clone(),
    )
    .await?;
    let mut redis = None;
    let bus: Arc<dyn Bus> = match redis_url {
        None => Arc::new(InProcessBus::new(1_000_000)),
        Some(url) => {
            let prefix = format!("loadtest:{:016x}", rand::random::<u64>());
            let settings = BusSettings {
                backend: BusBackend::Redis,
                redis_url: url.to_owned(),
                key_prefix: prefix.clone(),
                ..BusSettings::default()
            };
            let bus = RedisBus::connect(&settings)
                .await
                .context("connect Redis")?;
            redis = Some((url.to_owned(), prefix));
            Arc::new(bus)
        }
    };
    let settings = GatewaySettings {
        webhook_secrets: vec![Secret::from(secret)],
        rate_limit_per_second: 0,
        ..GatewaySettings::default()
    };
    let metrics = Metrics::new();
    let gateway_metrics = GatewayMetrics::register(metrics.registry())?;
    let state = GatewayState::new(Arc::new(store), bus, settings, gateway_metrics, keyring)?;
    let app = instrument(router(state), "gateway", metrics);
    let url = format!("{}{PATH}", serve(app).await?);
    Ok((
        Target {
            name: "gateway",
            url,
        },
        GatewayBackends { _dir: dir, redis },
    ))
}

/// Starts the bare handler on `127.0.0.1:0`.
pub async fn start_bare() -> anyhow::Result<Target> {
    let app = Router::new().route(
        PATH,
        post(|body: Bytes| async move {
            std::hint::black_box(body);
            (
                [("content-type", "application/json")],
                r#"{"status":"accepted","duplicate":false}"#,
            )
        }),
    );
    Ok(Target {
        name: "bare",
        url: format!("{}{PATH}", serve(app).await?),
    })
}

/// Serves `app` on `127.0.0.1:0` in the background; returns `http://address`.
pub async fn serve(app: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, service).await {
            eprintln!("server on {address} stopped: {error}");
        }
    });
    Ok(format!("http://{address}"))
}

impl GatewayBackends {
    /// Deletes the Redis keys of the run, if it used Redis.
    pub async fn cleanup(self) -> anyhow::Result<()> {
        let Some((url, prefix)) = self.redis else {
            return Ok(());
        };
        let mut conn = redis::Client::open(url)?
            .get_multiplexed_async_connection()
            .await?;
        let keys = memvox_cache::scan_keys(&mut conn, &format!("{prefix}:*")).await?;
        if !keys.is_empty() {
            let _: u64 = redis::cmd("DEL").arg(keys).query_async(&mut conn).await?;
        }
        Ok(())
    }
}
