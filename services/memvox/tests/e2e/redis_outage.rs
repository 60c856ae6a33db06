//! A Redis outage, with a Redis server of the test's own on a free port, stopped and started
//! again: readiness degrades (the gateway, query and all-in-one processes stay ready, the
//! workers do not), a delivery posted meanwhile is acknowledged and recorded, and once Redis is
//! back the outbox reconciler puts its message on the stream.

use std::{
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use memvox::Config;
use memvox::Memvox;
use memvox_bus::{BusBackend, EVENTS, Envelope, Message};
use memvox_config::Secret;
use memvox_runtime::Service;
use tower::ServiceExt as _;

use crate::support;

const SECRET: &str = "wsec_outage_test";

/// A `redis-server` of this test's own, killed when dropped.
struct PrivateRedis(Child);

impl PrivateRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed: run scripts/test-services.sh");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn ready(app: &Memvox, service: Service) -> u16 {
    let request = Request::get("/health/ready").body(Body::empty()).unwrap();
    let response = app.health(service).into_router().oneshot(request).await;
    response.unwrap().status().as_u16()
}

fn now_ms() -> u64 {
    memvox_bus::now_unix_ms()
}

#[tokio::test]
async fn a_redis_outage_keeps_the_gateway_ready_and_loses_no_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = PrivateRedis::start(port);
    let mut config = Config::default();
    config.shared.store.url = format!("sqlite://{}/memvox.db", dir.path().display());
    config.embedder.provider = memvox_ai::EmbedderProvider::Hashing;
    config.shared.bus.backend = BusBackend::Redis;
    config.shared.bus.redis_url = format!("redis://127.0.0.1:{port}");
    config.gateway.webhook_secrets = vec![Secret::from(SECRET)];
    config.gateway.rate_limit_per_second = 0;
    let app = Memvox::build(config).await.unwrap();
    let services = [
        Service::Gateway,
        Service::Query,
        Service::Memvox,
        Service::ExtractionWorker,
        Service::EmbeddingWorker,
    ];
    for service in services {
        assert_eq!(ready(&app, service).await, 200, "{service:?} with Redis up");
    }

    drop(redis);
    for (service, expected) in services.into_iter().zip([200, 200, 200, 503, 503]) {
        let status = ready(&app, service).await;
        assert_eq!(status, expected, "{service:?} with Redis down");
    }
    let gateway = memvox_gateway::router(app.gateway().unwrap());
    let body = support::FIXTURE;
    let request = Request::post("/webhook/post-call")
        .header("content-type", "application/json")
        .header(
            memvox_elevenlabs::SIGNATURE_HEADER,
            memvox_elevenlabs::sign(SECRET.as_bytes(), now_ms() / 1000, body.as_bytes()),
        )
        .body(Body::from(body))
        .unwrap();
    let response = gateway.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200, "acknowledged with Redis down");
    // On SQLite the delivery was acknowledged into the ingest file: it reaches the events
    // table, where its announcement fails, Redis being down.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !memvox_testkit::metrics_text(app.metrics.registry())
        .contains("memvox_webhook_publish_failures_total 1")
    {
        assert!(
            Instant::now() < deadline,
            "the delivery was never announced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.store
            .stale_pending_events(i64::MAX, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    let _redis = PrivateRedis::start(port);
    let (_, reconciler) = app.extraction_worker().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let published = loop {
        // The first commands after the restart may meet the pool's broken connections.
        let later = now_ms() + app.config.workers.outbox_grace_ms + 1;
        match reconciler.reconcile_once(later).await {
            Ok(published) => break published,
            Err(error) => assert!(Instant::now() < deadline, "{error}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        published, 1,
        "the recorded delivery is published once Redis is back"
    );
    let entries = app.bus.entries(EVENTS, None, 10).await.unwrap();
    let accepted: Vec<Message> = entries
        .iter()
        .map(|e| Envelope::decode(&e.payload, 0).unwrap().message)
        .collect();
    assert!(
        matches!(accepted.as_slice(), [Message::EventAccepted { .. }]),
        "{accepted:?}"
    );
}
