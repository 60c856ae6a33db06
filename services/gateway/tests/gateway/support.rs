//! Test harness: a gateway router over a fresh store (SQLite temp file or a private PostgreSQL
//! schema) and a fresh bus (in-process, or Redis under a random key prefix), driven with
//! `tower::ServiceExt::oneshot`, with helpers to sign bodies and to look at what was stored and
//! published. The store (its schema), Redis keys and the directory go when the gateway drops.

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
use memvox_store::StoredEvent;
pub use memvox_testkit::Backend;
use memvox_testkit::{KeyPrefix, TestStore, redis_url};

/// The secret of the fixture signature vectors.
pub const SECRET: &str = "wsec_test_secret";
/// The instant the test clock is pinned to (the vectors' verifier clock).
pub const NOW: u64 = 1_767_225_705;

/// Which bus a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum BusKind {
    /// In-process streams.
    InProcess,
    /// Redis Streams under a random prefix.
    Redis,
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
    store: TestStore,
    _redis_prefix: Option<KeyPrefix>,
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

impl Gateway {
    /// A gateway on the given backends with the default test settings.
    pub async fn start(store: Backend, bus: BusKind) -> Self {
        Self::start_with(store, bus, |_| {}).await
    }

    /// A gateway on the given backends; `adjust` may change the settings first.
    pub async fn start_with(
        store: Backend,
        bus: BusKind,
        adjust: impl FnOnce(&mut GatewaySettings),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let test_store = TestStore::open(store).await;
        let keyring = test_store.keyring().clone();
        let (bus, redis_prefix): (Arc<dyn Bus>, _) = match bus {
            BusKind::InProcess => (Arc::new(InProcessBus::new(10_000)), None),
            BusKind::Redis => {
                let prefix = KeyPrefix::new("test:gw");
                let settings = BusSettings {
                    backend: BusBackend::Redis,
                    redis_url: redis_url(),
                    key_prefix: prefix.to_string(),
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
        let state = GatewayState::new(test_store.store(), bus, gateway_settings, metrics, keyring)
            .expect("state")
            .with_clock(Clock::fixed_secs(NOW));
        Self {
            router: router(state.clone()),
            state,
            registry,
            audio_dir,
            store: test_store,
            _redis_prefix: redis_prefix,
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
        let (status, bytes) = memvox_testkit::http::send(&self.router, request).await;
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// Posts `body` correctly signed at the test clock.
    pub async fn post_signed(&self, body: &[u8]) -> (StatusCode, serde_json::Value) {
        self.post(body, Some(&signed(body))).await
    }

    /// Every stored raw event, by id, once what was acknowledged into the ingest file (SQLite)
    /// has moved to the events table (the gateway's task does it on its own; see
    /// `deliveries_are_announced_and_marked_without_help`). Their marks may still be queued.
    pub async fn events(&self) -> Vec<StoredEvent> {
        self.state
            .staged
            .drain()
            .await
            .expect("move staged deliveries");
        let ids = self
            .store
            .integers("SELECT id FROM webhook_events ORDER BY id")
            .await;
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

    /// Every message on the events stream, read through a fresh consumer group, once what was
    /// acknowledged into the ingest file (SQLite) has moved and been announced.
    pub async fn published(&self) -> Vec<Message> {
        self.settle().await;
        self.published_so_far().await
    }

    /// Moves and announces what was acknowledged into the ingest file (SQLite), and waits for
    /// the published marks.
    pub async fn settle(&self) {
        self.state
            .staged
            .drain()
            .await
            .expect("move staged deliveries");
        self.state.published.settled().await;
    }

    /// The ids of the events marked published so far.
    pub async fn marked(&self) -> Vec<i64> {
        self.store
            .integers("SELECT id FROM webhook_events WHERE published_at IS NOT NULL")
            .await
    }

    /// Every message on the events stream now, read through a fresh consumer group.
    pub async fn published_so_far(&self) -> Vec<Message> {
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
        memvox_testkit::metrics_text(&self.registry)
    }

    /// Closes the store's pool: every later store call fails as unavailable.
    pub async fn close_store(&self) {
        self.store.close().await;
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
