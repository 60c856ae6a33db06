//! Readiness that degrades: with the Redis bus down, the gateway, query and all-in-one
//! processes stay ready (the store records every delivery and the outbox publishes it later),
//! while the workers, which cannot work without the bus, report not ready. A Redis server of
//! the test's own, on a free port, is started and stopped.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::{
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use axum::{body::Body, http::Request};
use memvox_config::Config;
use memvox_runtime::{App, Service};
use tower::ServiceExt as _;

/// A `redis-server` of this test's own, killed when dropped.
struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
        Self { child, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn ready(app: &App, service: Service) -> u16 {
    let response = app
        .health(service)
        .into_router()
        .oneshot(Request::get("/health/ready").body(Body::empty()).unwrap())
        .await
        .unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn a_bus_outage_takes_only_the_workers_out_of_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let mut redis = PrivateRedis::start();
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}/memvox.db", dir.path().display());
    config.embedder.provider = memvox_ai::EmbedderProvider::Hashing;
    config.bus.backend = memvox_bus::BusBackend::Redis;
    config.bus.redis_url = format!("redis://127.0.0.1:{}", redis.port);
    config.bus.key_prefix = "test:readiness".into();
    let app = App::build(config).await.unwrap();
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

    redis.stop();
    let expected = [200, 200, 200, 503, 503];
    for (service, expected) in services.into_iter().zip(expected) {
        assert_eq!(
            ready(&app, service).await,
            expected,
            "{service:?} with Redis down"
        );
    }
}
