//! Gateway behaviour that does not depend on the backends: configuration, bus failure, per-type
//! size limits, audio without a directory, rate limiting. Runs on SQLite and the in-process bus
//! unless a case needs something else.

use std::sync::Arc;

use axum::http::StatusCode;
use memvox_bus::{BusBackend, BusSettings, RedisBus};
use memvox_gateway::{GatewayMetrics, GatewayState, router};
use serde_json::json;

use crate::support;
use crate::support::{Backend, BusKind, Gateway, fixture, signed, transcription};

#[tokio::test]
async fn without_a_secret_every_delivery_is_refused_with_503() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.webhook_secrets.clear();
    })
    .await;
    let (status, error) = gateway.post_signed(&transcription("conv_a")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error["error"]["code"], "not_configured");
    assert!(gateway.events().await.is_empty());
}

#[tokio::test]
async fn a_failed_publish_still_acknowledges_and_leaves_the_row_to_the_reconciler() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    // A Redis bus pointing at a closed port: every publish fails.
    let dead_bus = RedisBus::new(&BusSettings {
        backend: BusBackend::Redis,
        redis_url: "redis://127.0.0.1:1".into(),
        ..BusSettings::default()
    })
    .unwrap();
    let registry = prometheus::Registry::new();
    let state = GatewayState::new(
        gateway.state.store.clone(),
        Arc::new(dead_bus),
        (*gateway.state.settings).clone(),
        GatewayMetrics::register(&registry).unwrap(),
        gateway.state.keyring.clone(),
    )
    .unwrap()
    .with_clock(gateway.state.clock.clone());
    let response =
        tower::ServiceExt::oneshot(router(state), signed_request(&transcription("conv_p")))
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // On SQLite the delivery was acknowledged into the ingest file: the dead-bus gateway's own
    // task moves it to the events table and fails to announce it.
    let text = eventually_metric(&registry, "memvox_webhook_publish_failures_total 1").await;

    let events = gateway.events().await;
    assert_eq!(events.len(), 1, "the row is the source of truth");
    assert_eq!(
        events[0].published_at, None,
        "not marked: the reconciler will publish it"
    );
    let stale = gateway
        .state
        .store
        .stale_pending_events(i64::MAX, 10)
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
    assert!(gateway.published_so_far().await.is_empty(), "{text}");
}

/// The metrics text of `registry` once it contains `line` (fails after a generous deadline).
async fn eventually_metric(registry: &prometheus::Registry, line: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = memvox_testkit::metrics_text(registry);
        if text.contains(line) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no `{line}` in {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_published_row_gets_its_mark_after_the_answer() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    let bodies: Vec<_> = (0..20)
        .map(|n| transcription(&format!("conv_m{n}")))
        .collect();
    let answers = futures::future::join_all(bodies.iter().map(|b| gateway.post_signed(b))).await;
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK));
    gateway.settle().await;
    let events = gateway.events().await;
    assert_eq!(events.len(), 20);
    assert!(
        events.iter().all(|row| row.published_at.is_some()),
        "{events:?}"
    );
}

#[tokio::test]
async fn marks_gather_before_they_are_written() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    let (status, _) = gateway.post_signed(&transcription("conv_g1")).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (status, _) = gateway.post_signed(&transcription("conv_g2")).await;
    assert_eq!(status, StatusCode::OK);
    let events = gateway.events().await;
    assert!(
        events.iter().all(|row| row.published_at.is_none()),
        "the first mark waits for others to join it: {events:?}"
    );
    gateway.settle().await;
    let events = gateway.events().await;
    assert_eq!(events.len(), 2);
    let marks: std::collections::BTreeSet<_> = events.iter().map(|row| row.published_at).collect();
    assert_eq!(marks.len(), 1, "one write marked both: {events:?}");
    assert!(marks.iter().all(Option::is_some));
}

#[tokio::test]
async fn size_limits_depend_on_the_event_type() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.max_body_bytes = 1_000;
        settings.max_audio_body_bytes = 4_000;
    })
    .await;
    let audio = format!(
        r#"{{"type":"post_call_audio","event_timestamp":1,"data":{{"agent_id":"a","conversation_id":"conv_big","full_audio":"{}"}}}}"#,
        "A".repeat(2_000)
    );
    let (status, ack) = gateway.post_signed(audio.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "audio within its own limit: {ack}");

    let transcript = transcription(&format!("conv_{}", "t".repeat(1_000)));
    let (status, _) = gateway.post_signed(&transcript).await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "transcription over its limit"
    );

    let huge = audio.replace(&"A".repeat(2_000), &"A".repeat(5_000));
    let (status, _) = gateway.post_signed(huge.as_bytes()).await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "audio over its limit"
    );
    assert_eq!(gateway.events().await.len(), 1);
}

#[tokio::test]
async fn audio_is_dropped_when_no_directory_is_configured() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.audio_dir = None;
    })
    .await;
    let body = fixture("post_call_audio.json");
    let (status, _) = gateway.post_signed(&body).await;
    assert_eq!(status, StatusCode::OK);
    let events = gateway.events().await;
    assert_eq!(events.len(), 1);
    let row: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(row["data"]["full_audio"], "");
    assert!(!gateway.audio_dir.exists(), "nothing written");
}

#[tokio::test]
async fn json_with_a_charset_parameter_is_accepted() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    let body = transcription("conv_charset");
    let (status, ack) = gateway
        .post_as(
            &body,
            Some(&signed(&body)),
            Some("application/json; charset=utf-8"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
}

/// A delivery whose signature header is forged (refused before its body is read).
fn forged_request(body: &[u8]) -> axum::http::Request<axum::body::Body> {
    let mut request = signed_request(body);
    request.headers_mut().insert(
        "elevenlabs-signature",
        "t=1700000000,v0=0000000000000000000000000000000000000000000000000000000000000000"
            .parse()
            .unwrap(),
    );
    request
}

#[tokio::test]
async fn refused_requests_over_their_rate_get_429_and_signed_ones_never_do() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.rate_limit_per_second = 1;
        settings.rate_limit_burst = 2;
    })
    .await;
    let send = |request| tower::ServiceExt::oneshot(gateway.router.clone(), request);
    for n in 0..2 {
        let response = send(forged_request(&transcription(&format!("conv_x{n}"))))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = send(forged_request(&transcription("conv_x2")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], json!("rate_limited"));
    // The same client's signed deliveries: past the rate, and still every one accepted.
    for n in 0..4 {
        let (status, _) = gateway
            .post_signed(&transcription(&format!("conv_r{n}")))
            .await;
        assert_eq!(status, StatusCode::OK, "signed delivery {n}");
    }
    assert_eq!(gateway.events().await.len(), 4);
}

/// A forged delivery arriving from `peer` with `x-forwarded-for: forwarded`.
fn forwarded_request(
    body: &[u8],
    peer: &str,
    forwarded: &str,
) -> axum::http::Request<axum::body::Body> {
    let mut request = forged_request(body);
    request
        .headers_mut()
        .insert("x-forwarded-for", forwarded.parse().unwrap());
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    request
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.rate_limit_per_second = 1;
        settings.rate_limit_burst = 1;
        settings.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (refused, limited) = (StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS);
    let ingress = "10.0.0.5:443";
    let outsider = "203.0.113.9:5000";
    // (peer, X-Forwarded-For, answer, why), in order: each refused delivery spends its client's
    // one-request budget.
    let cases = [
        (
            ingress,
            "198.51.100.1",
            refused,
            "through the ingress: a first client",
        ),
        (
            ingress,
            "198.51.100.2",
            refused,
            "a second client, a bucket of its own",
        ),
        (
            ingress,
            "198.51.100.1",
            limited,
            "the first client's bucket is spent",
        ),
        (
            outsider,
            "198.51.100.3",
            refused,
            "an untrusted peer spends its own bucket",
        ),
        (
            outsider,
            "198.51.100.4",
            limited,
            "its spoofed address is ignored",
        ),
        (ingress, "198.51.100.3", refused, "and spent no one else's"),
    ];
    for (n, (peer, forwarded, expected, why)) in cases.into_iter().enumerate() {
        let request = forwarded_request(&transcription(&format!("conv_f{n}")), peer, forwarded);
        let response = tower::ServiceExt::oneshot(gateway.router.clone(), request)
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{why}");
    }
}

fn signed_request(body: &[u8]) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post("/webhook/post-call")
        .header("content-type", "application/json")
        .header("elevenlabs-signature", signed(body))
        .body(axum::body::Body::from(body.to_vec()))
        .unwrap()
}

#[tokio::test]
async fn configured_future_skew_and_tolerance_are_enforced() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.signature_future_skew_secs = Some(300);
        settings.signature_tolerance_secs = 60;
    })
    .await;
    let body = transcription("conv_skew");
    for (offset, expected) in [
        (-61, StatusCode::UNAUTHORIZED),
        (301, StatusCode::UNAUTHORIZED),
    ] {
        let at = support::NOW.checked_add_signed(offset).unwrap();
        let header = memvox_elevenlabs::sign(support::SECRET.as_bytes(), at, &body);
        let (status, error) = gateway.post(&body, Some(&header)).await;
        assert_eq!(status, expected, "offset {offset}: {error}");
    }
    let header = memvox_elevenlabs::sign(support::SECRET.as_bytes(), support::NOW + 300, &body);
    let (status, _) = gateway.post(&body, Some(&header)).await;
    assert_eq!(status, StatusCode::OK, "300 s ahead is within the skew");
    let text = gateway.metrics_text();
    assert!(
        text.contains(r#"memvox_webhook_signature_rejections_total{reason="future"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"memvox_webhook_signature_rejections_total{reason="stale"} 1"#),
        "{text}"
    );
}

/// The gateway process reads no model section and opens the store without an embedding space:
/// with a configured model directory that does not exist, it starts, is ready, and acknowledges
/// a signed delivery.
#[tokio::test]
async fn the_gateway_starts_and_acknowledges_without_an_embedding_model() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("memvox.toml");
    std::fs::write(
        &file,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n[embedder]\nmodel_path = \"{}\"\n\
             [gateway]\nwebhook_secrets = [\"{}\"]\n",
            dir.path().join("memvox.db").display(),
            dir.path().join("no-such-model").display(),
            support::SECRET,
        ),
    )
    .unwrap();
    let config = memvox_gateway::GatewayConfig::load(Some(&file)).unwrap();
    let (app, state) = memvox_gateway::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn({
        let app = app.clone();
        async move {
            memvox_runtime::serve_http_on(
                &app,
                memvox_runtime::Service::Gateway,
                router(state),
                listener,
            )
            .await
        }
    });
    let client = reqwest::Client::new();
    let ready = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body = fixture("post_call_transcription.json");
    let now = memvox_core::Clock::system().now_secs();
    let ack = client
        .post(format!("{base}/webhook/post-call"))
        .header(
            memvox_elevenlabs::SIGNATURE_HEADER,
            memvox_elevenlabs::sign(support::SECRET.as_bytes(), now, &body),
        )
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), StatusCode::OK);
    let answer: serde_json::Value = ack.json().await.unwrap();
    assert_eq!(answer["status"], "accepted", "{answer}");
    // Acknowledged into the ingest file, then moved by the gateway's own task.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let stored = loop {
        if let Some(stored) = app.store.get_event(1).await.unwrap() {
            break stored;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the delivery never reached the events table"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(stored.event_type, "post_call_transcription");
    app.shutdown.cancel();
    server.await.unwrap().unwrap();
}

/// `memvox serve` sets the runtime of the ingest file's mover after the state is built: every
/// copy of the handle — the group commit's too, which wakes the mover — starts it there.
#[tokio::test]
async fn the_mover_runs_on_the_runtime_set_after_the_state_was_built() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    let background = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _ = gateway
        .state
        .staged
        .clone()
        .on_runtime(background.handle().clone());
    let (status, _) = gateway.post_signed(&transcription("conv_moved")).await;
    assert_eq!(status, StatusCode::OK);
    let started = async {
        while background.metrics().num_alive_tasks() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), started)
        .await
        .expect("the mover's task runs on the runtime set");
    assert_eq!(gateway.published().await.len(), 1);
    background.shutdown_background();
}
