//! Erasure leaves no copy, on both deployments (SQLite with the in-process bus, PostgreSQL with
//! Redis Streams), through the real gateway and two query replicas on loopback. A caller has a
//! processed call with its audio file, a later event whose publish was lost (pending), a
//! dead-lettered event, a delivery a crashed worker held, answers cached by the second replica,
//! and a tool-call log entry queued before the erasure. After the erasure every delivery comes
//! again — the webhooks re-posted byte-identical and re-signed, the held delivery claimed, the
//! dead letter replayed, the outbox reconciled, the log entry written — and then no database
//! value (every column of every table, as text), audio file, stream entry, dead letter or Redis
//! key or value mentions the caller's id, conversations, number or words, and
//! `GET /v1/users/{id}` is 404 on both replicas.

use std::time::Duration;

use memvox::Memvox;
use memvox_bus::{Bus, EVENTS, MEMORIES};
use memvox_config::Secret;
use memvox_store::{NewEvent, ToolInvocation};

use crate::support;
use crate::support::{Deployment, FIXTURE, Pipeline, accept, accept_typed, call_payload, serve};

const SECRET: &str = "wsec_every_copy";
const ADMIN: &str = "admin-token-every-copy";
const AUDIO: &str = include_str!("../../../../fixtures/elevenlabs/post_call_audio.json");
/// The fixture call's conversation (its transcription and its audio).
const CALL: &str = "conv_5201kf3r7e9yq2m8vx4pn0td6h";
const NUMBER: &str = "+14155550199";
/// A word the fixture call's turns say, and nothing else in the test.
const WORD: &str = "pharmacy";

fn now_secs() -> u64 {
    memvox_core::Clock::system().now_secs()
}

/// A signature header for `body` at `at` (unix seconds).
fn signed(body: &str, at: u64) -> String {
    memvox_elevenlabs::sign(SECRET.as_bytes(), at, body.as_bytes())
}

/// Posts a webhook with `signature`; the status.
async fn post(gateway: &str, body: &str, signature: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{gateway}/webhook/post-call"))
        .header("content-type", "application/json")
        .header(memvox_elevenlabs::SIGNATURE_HEADER, signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An admin call to a query replica; the status and body.
async fn admin(
    method: reqwest::Method,
    url: String,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// A payload the worker cannot parse, naming the caller's number: dead-lettered.
fn malformed_from_number() -> String {
    serde_json::json!({
        "type": "post_call_transcription",
        "event_timestamp": 1,
        "data": {"metadata": {"phone_call": {"external_number": NUMBER}}},
    })
    .to_string()
}

/// Every payload and reason the bus holds on the two streams, read through the bus.
async fn bus_contents(bus: &dyn Bus) -> Vec<String> {
    let mut contents = Vec::new();
    for stream in [EVENTS, MEMORIES] {
        for entry in bus.entries(stream, None, 10_000).await.unwrap() {
            contents.push(entry.payload);
        }
        for letter in bus.list_dead_letters(stream, None, 10_000).await.unwrap() {
            contents.extend([letter.payload, letter.reason]);
        }
    }
    contents
}

/// Waits until the second replica's recall of the caller's memories is on the bus (it is
/// announced in the background, with the caller's other recalls of the interval).
async fn recall_announced(bus: &dyn Bus, user: &str) {
    // Recalls are announced once per `query.recall_flush_ms` (1 s by default).
    for _ in 0..1_000 {
        let entries = bus.entries(MEMORIES, None, 10_000).await.unwrap();
        if entries
            .iter()
            .any(|e| e.payload.contains("MemoryRecalled") && e.payload.contains(user))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the recall was never announced");
}

async fn no_copy_of_an_erased_caller_is_left(deployment: Deployment) {
    let distributed = matches!(deployment, Deployment::Distributed);
    let dir = tempfile::tempdir().unwrap();
    let audio_dir = dir.path().join("audio");
    let app = support::app_with(deployment, dir.path(), |config| {
        config.gateway.webhook_secrets = vec![Secret::from(SECRET)];
        config.gateway.audio_dir = Some(audio_dir.clone());
        config.gateway.rate_limit_per_second = 0;
        config.query.admin_token_sha256 = vec![memvox_query::hash_token(ADMIN)];
        config.query.rate_limit_per_second = 0;
        config.shared.bus.max_attempts = 1;
    })
    .await;
    let mut second_app = Memvox::build((*app.config).clone()).await.unwrap();
    if !distributed {
        // One process: the in-process bus is shared; the second replica has its own cache.
        second_app.app.bus = app.bus.clone();
    }
    let pipeline = Pipeline::new(&app);
    let gateway = serve(memvox_gateway::router(app.gateway().unwrap())).await;
    let first = serve(memvox_query::router(app.query().unwrap())).await;
    let second = serve(memvox_query::router(second_app.query().unwrap())).await;

    // A processed call, with its audio, through the gateway.
    let first_signature = signed(FIXTURE, now_secs());
    let audio_signature = signed(AUDIO, now_secs());
    assert_eq!(post(&gateway, FIXTURE, &first_signature).await, 200);
    assert_eq!(post(&gateway, AUDIO, &audio_signature).await, 200);
    pipeline.run().await;
    let user = app
        .store
        .get_call(CALL)
        .await
        .unwrap()
        .unwrap()
        .conversation
        .user_id
        .unwrap();
    assert_eq!(std::fs::read_dir(&audio_dir).unwrap().count(), 1);

    // A later call whose publish was lost, a dead-lettered one, one a crashed worker held.
    let pending = app
        .store
        .record_event(&NewEvent {
            event_type: "post_call_transcription".into(),
            conversation_id: "conv_pending".into(),
            event_timestamp: 1_767_225_645,
            payload: call_payload("conv_pending", None),
            received_at: 1_767_225_645_000,
            traceparent: None,
        })
        .await
        .unwrap();
    assert!(pending.inserted);
    accept_typed(
        &app,
        "post_call_transcription",
        "conv_dead",
        malformed_from_number(),
    )
    .await;
    pipeline.run().await;
    let letters = app.bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    assert_eq!(letters.len(), 1, "dead-lettered");
    accept(&app, "conv_held", call_payload("conv_held", None)).await;
    let held = app
        .bus
        .read(
            EVENTS,
            memvox_extraction_worker::GROUP,
            "crashed",
            10,
            Duration::ZERO,
        )
        .await
        .unwrap();
    assert_eq!(held.len(), 1, "a delivery held by a worker that died");

    // Answers cached by the second replica.
    let search = format!("{second}/v1/users/{user}/memories/search");
    let body = serde_json::json!({"query": WORD, "limit": 5});
    let (status, answer) = admin(reqwest::Method::POST, search, Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        !answer["memories"].as_array().unwrap().is_empty(),
        "{answer}"
    );
    recall_announced(app.bus.as_ref(), &user).await;
    let redis = &app.config.shared.bus.redis_url;
    let cache_prefix = &app.config.shared.cache.key_prefix;
    let cached = if distributed {
        support::redis_keys(redis, cache_prefix).await
    } else {
        Vec::new()
    };
    assert_eq!(
        cached.is_empty(),
        !distributed,
        "answers in Redis: {cached:?}"
    );

    // The erasure.
    let before_erasure = memvox_core::now_millis();
    let (status, receipt) = admin(
        reqwest::Method::DELETE,
        format!("{first}/v1/users/{user}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["audio_files"], 1, "{receipt}");
    assert_eq!(receipt["dead_letters"], 1, "{receipt}");
    assert!(
        receipt["stream_entries"].as_u64().unwrap() >= 3,
        "{receipt}"
    );

    // Every delivery again.
    assert_eq!(
        post(&gateway, FIXTURE, &first_signature).await,
        200,
        "retry"
    );
    assert_eq!(post(&gateway, AUDIO, &audio_signature).await, 200, "retry");
    let later = now_secs() + 1;
    assert_eq!(post(&gateway, FIXTURE, &signed(FIXTURE, later)).await, 200);
    assert_eq!(post(&gateway, AUDIO, &signed(AUDIO, later)).await, 200);
    let claimed = app
        .bus
        .claim(
            EVENTS,
            memvox_extraction_worker::GROUP,
            "heir",
            Duration::ZERO,
            10,
        )
        .await
        .unwrap();
    assert!(claimed.deliveries.is_empty(), "the held delivery is gone");
    assert!(
        app.bus
            .replay_dead_letter(EVENTS, &letters[0].id)
            .await
            .is_err(),
        "the dead letter is gone"
    );
    let republished = pipeline
        .reconciler
        .reconcile_once(u64::MAX / 2)
        .await
        .unwrap();
    assert_eq!(republished, 0, "no event of theirs is left to publish");
    app.store
        .log_tool_invocations(&[ToolInvocation {
            tool_name: "memory_query".into(),
            conversation_id: Some(CALL.into()),
            user_id: Some(user.clone()),
            request_params: serde_json::json!({"query": WORD}),
            response_data: Some(serde_json::json!({"memories": [WORD]})),
            latency_ms: 3,
            success: true,
            error_message: None,
            created_at: before_erasure,
        }])
        .await
        .unwrap();
    pipeline.run().await;

    // Nothing mentions them.
    for replica in [&first, &second] {
        let (status, _) = admin(
            reqwest::Method::GET,
            format!("{replica}/v1/users/{user}"),
            None,
        )
        .await;
        assert_eq!(status, 404, "{replica}");
    }
    let needles = [
        user.as_str(),
        CALL,
        "conv_pending",
        "conv_dead",
        "conv_held",
        &NUMBER[2..],
        WORD,
    ];
    let mention = |what: &str, value: &str| {
        for needle in needles {
            assert!(
                !value.contains(needle),
                "{what} mentions `{needle}`: {value}"
            );
        }
    };
    for (table, value) in support::database_text(&app.config).await {
        mention(&format!("table {table}"), &value);
    }
    assert_eq!(
        std::fs::read_dir(&audio_dir).unwrap().count(),
        0,
        "no audio file"
    );
    for value in bus_contents(app.bus.as_ref()).await {
        mention("the bus", &value);
    }
    if distributed {
        let prefix = &app.config.shared.bus.key_prefix;
        for value in support::redis_contents(redis, prefix).await {
            mention("Redis", &value);
        }
        let left = support::redis_keys(redis, cache_prefix).await;
        assert!(
            cached.iter().all(|key| !left.contains(key)),
            "the caller's cache keys are deleted: {left:?}"
        );
        for stream in [EVENTS, MEMORIES] {
            app.bus.purge_dead_letters(stream).await.unwrap();
            app.bus.delete_stream(stream).await.unwrap();
        }
    }
}

#[tokio::test]
async fn embedded_no_copy_of_an_erased_caller_is_left() {
    Box::pin(no_copy_of_an_erased_caller_is_left(Deployment::Embedded)).await;
}

#[tokio::test]
async fn distributed_no_copy_of_an_erased_caller_is_left() {
    Box::pin(no_copy_of_an_erased_caller_is_left(Deployment::Distributed)).await;
}
