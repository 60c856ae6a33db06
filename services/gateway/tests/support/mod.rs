//! Test harness: a gateway router over a fresh store (SQLite temp file or a private PostgreSQL
//! schema) and a fresh bus (in-process, or Redis under a random key prefix), driven with
//! `tower::ServiceExt::oneshot`, with helpers to sign bodies and to look at what was stored and
//! published. Redis keys are deleted on drop; PostgreSQL schemas by [`Gateway::cleanup`].

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use memvox_bus::{Bus, BusBackend, BusSettings, EVENTS, InProcessBus, Message, RedisBus};
use memvox_config::Secret;
use memvox_elevenlabs::{SIGNATURE_HEADER, sign};
use memvox_gateway::{Clock, GatewayMetrics, GatewaySettings, GatewayState, router};
use memvox_store::{EmbeddingSpace, PostgresStore, SqliteStore, Store, StoreSettings, StoredEvent};
use redis::TypedCommands as _;
use tower::ServiceExt as _;

/// The secret of the fixture signature vectors.
pub const SECRET: &str = "wsec_test_secret";
/// The instant the test clock is pinned to (the vectors' verifier clock).
pub const NOW: u64 = 1_767_225_705;

/// Which store backend a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum StoreKind {
    /// SQLite in a temporary directory.
    Sqlite,
    /// PostgreSQL in a private schema.
    Postgres,
}

/// Which bus a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum BusKind {
    /// In-process streams.
    InProcess,
    /// Redis Streams under a random prefix.
    Redis,
}

enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore, String),
}

/// A gateway under test.
pub struct Gateway {
    /// The state the router was built from.
    pub state: GatewayState,
    /// The router.
    pub router: Router,
    /// The registry the gateway metrics live on.
    pub registry: prometheus::Registry,
    /// Where audio is written.
    pub audio_dir: PathBuf,
    backend: Backend,
    redis_prefix: Option<String>,
    _dir: tempfile::TempDir,
}

/// Settings with the fixture secret and generous limits.
pub fn settings(audio_dir: PathBuf) -> GatewaySettings {
    GatewaySettings {
        webhook_secrets: vec![Secret::from(SECRET)],
        audio_dir: Some(audio_dir),
        rate_limit_per_second: 0,
        ..GatewaySettings::default()
    }
}

fn postgres_url() -> String {
    std::env::var("MEMVOX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://memvox:memvox@127.0.0.1:5432/memvox_test".to_owned())
}

fn redis_url() -> String {
    std::env::var("MEMVOX_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn space() -> EmbeddingSpace {
    EmbeddingSpace {
        model: "test-4d".into(),
        dimension: 4,
    }
}

impl Gateway {
    /// A gateway on the given backends with the default test settings.
    pub async fn start(store: StoreKind, bus: BusKind) -> Self {
        Self::start_with(store, bus, |_| {}).await
    }

    /// A gateway on the given backends; `adjust` may change the settings first.
    pub async fn start_with(
        store: StoreKind,
        bus: BusKind,
        adjust: impl FnOnce(&mut GatewaySettings),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let keyring = test_keyring();
        let backend = match store {
            StoreKind::Sqlite => {
                let path = dir.path().join("memvox.db");
                let store =
                    SqliteStore::open(&path, &StoreSettings::default(), space(), keyring.clone())
                        .await
                        .expect("open sqlite");
                Backend::Sqlite(store)
            }
            StoreKind::Postgres => {
                let schema = format!("gw_{:016x}", rand::random::<u64>());
                let settings = StoreSettings {
                    url: postgres_url(),
                    schema: Some(schema.clone()),
                    max_connections: 8,
                    migrate_on_start: Some(true),
                    ..StoreSettings::default()
                };
                let store = PostgresStore::open(
                    &settings.url,
                    Some(&schema),
                    &settings,
                    space(),
                    keyring.clone(),
                )
                .await
                .expect("PostgreSQL must be running: run scripts/test-services.sh");
                Backend::Postgres(store, schema)
            }
        };
        let (bus, redis_prefix): (Arc<dyn Bus>, _) = match bus {
            BusKind::InProcess => (Arc::new(InProcessBus::new(10_000)), None),
            BusKind::Redis => {
                let prefix = format!("test:gw:{:016x}", rand::random::<u64>());
                let settings = BusSettings {
                    backend: BusBackend::Redis,
                    redis_url: redis_url(),
                    key_prefix: prefix.clone(),
                    ..BusSettings::default()
                };
                let bus = RedisBus::connect(&settings)
                    .await
                    .expect("Redis must be running: run scripts/test-services.sh");
                (Arc::new(bus), Some(prefix))
            }
        };
        let audio_dir = dir.path().join("audio");
        let mut gateway_settings = settings(audio_dir.clone());
        adjust(&mut gateway_settings);
        let registry = prometheus::Registry::new();
        let metrics = GatewayMetrics::register(&registry).expect("metrics");
        let store: Arc<dyn Store> = match &backend {
            Backend::Sqlite(store) => Arc::new(store.clone()),
            Backend::Postgres(store, _) => Arc::new(store.clone()),
        };
        let state = GatewayState::new(store, bus, gateway_settings, metrics, keyring)
            .expect("state")
            .with_clock(Clock::fixed_secs(NOW));
        Self {
            router: router(state.clone()),
            state,
            registry,
            audio_dir,
            backend,
            redis_prefix,
            _dir: dir,
        }
    }

    /// This gateway with `privacy.unredacted_webhooks` set to `policy`.
    pub fn with_unredacted_webhooks(mut self, policy: memvox_config::UnredactedWebhooks) -> Self {
        self.state = self.state.clone().with_unredacted_webhooks(policy);
        self.router = router(self.state.clone());
        self
    }

    /// Posts `body` with a JSON content type and, if given, a signature header.
    pub async fn post(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        self.post_as(body, signature, Some("application/json"))
            .await
    }

    /// Posts `body` with the given content type and signature header.
    pub async fn post_as(
        &self,
        body: &[u8],
        signature: Option<&str>,
        content_type: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = Request::post("/webhook/post-call");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let request = request.body(Body::from(body.to_vec())).expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("response body");
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// Posts `body` correctly signed at the test clock.
    pub async fn post_signed(&self, body: &[u8]) -> (StatusCode, serde_json::Value) {
        self.post(body, Some(&signed(body))).await
    }

    /// Every stored raw event, by id.
    pub async fn events(&self) -> Vec<StoredEvent> {
        let sql = "SELECT id FROM webhook_events ORDER BY id";
        let ids: Vec<i64> = match &self.backend {
            Backend::Sqlite(store) => sqlx::query_scalar(sql).fetch_all(store.pool()).await,
            Backend::Postgres(store, _) => sqlx::query_scalar(sql).fetch_all(store.pool()).await,
        }
        .expect("list events");
        let mut events = Vec::new();
        for id in ids {
            events.push(
                self.state
                    .store
                    .get_event(id)
                    .await
                    .expect("get")
                    .expect("row"),
            );
        }
        events
    }

    /// Every message on the events stream, read through a fresh consumer group.
    pub async fn published(&self) -> Vec<Message> {
        let group = format!("probe{:08x}", rand::random::<u32>());
        let bus = &self.state.bus;
        bus.ensure_group(EVENTS, &group).await.expect("group");
        let deliveries = bus
            .read(EVENTS, &group, "probe", 10_000, Duration::ZERO)
            .await
            .expect("read");
        deliveries
            .into_iter()
            .map(|delivery| delivery.envelope.expect("decodable").message)
            .collect()
    }

    /// The Prometheus text of the gateway metrics.
    pub fn metrics_text(&self) -> String {
        let families = self.registry.gather();
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .expect("encode")
    }

    /// Closes the store's pool: every later store call fails as unavailable.
    pub async fn close_store(&self) {
        match &self.backend {
            Backend::Sqlite(store) => store.close().await,
            Backend::Postgres(store, _) => store.pool().close().await,
        }
    }

    /// Drops the PostgreSQL schema (Redis keys go on drop, SQLite with the directory).
    pub async fn cleanup(self) {
        if let Backend::Postgres(_, schema) = &self.backend {
            // A fresh pool: the test may have closed the store's own.
            let pool = sqlx::PgPool::connect(&postgres_url())
                .await
                .expect("connect");
            let sql = sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            sqlx::query(sql).execute(&pool).await.expect("drop schema");
            pool.close().await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let Some(prefix) = &self.redis_prefix else {
            return;
        };
        let Ok(client) = redis::Client::open(redis_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = match conn.scan_match::<_, String>(format!("{prefix}:*")) {
            Ok(iter) => iter.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        if !keys.is_empty() {
            let _: Result<u64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// The `ElevenLabs-Signature` header for `body` signed at [`NOW`] with [`SECRET`].
pub fn signed(body: &[u8]) -> String {
    sign(SECRET.as_bytes(), NOW, body)
}

/// A fixture file's exact bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/elevenlabs/");
    std::fs::read(format!("{path}{name}")).expect("fixture")
}

/// A small valid transcription webhook for `conversation_id`.
pub fn transcription(conversation_id: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"post_call_transcription","event_timestamp":{NOW},"data":{{"agent_id":"agent_1","conversation_id":"{conversation_id}","status":"done","transcript":[{{"role":"user","message":"Hi, I'm Ada.","time_in_call_secs":1}}],"metadata":{{"start_time_unix_secs":{NOW},"call_duration_secs":30}},"has_audio":false,"has_user_audio":false,"has_response_audio":false}}}}"#
    )
    .into_bytes()
}

/// A keyring with one fresh key: test stores are encrypted like production ones.
fn test_keyring() -> memvox_crypto::Keyring {
    memvox_crypto::Keyring::from_key_set(memvox_crypto::KeySet::generate())
}
