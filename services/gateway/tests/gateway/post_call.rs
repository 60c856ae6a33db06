//! The post-call webhook end to end on every store × bus combination: what is stored, what is
//! published, and what is refused without writing or publishing anything (including every
//! delivery of an erased caller's conversation).

use axum::http::StatusCode;
use futures::future::join_all;
use memvox_bus::Message;
use memvox_elevenlabs::{WebhookEvent, sign};
use serde_json::json;

use crate::support::{Backend, BusKind, Gateway, NOW, SECRET, fixture, signed, transcription};

/// Runs each case on SQLite and PostgreSQL, each with the in-process bus and Redis.
macro_rules! matrix {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::*;

            async fn run(store: Backend, bus: BusKind) {
                let gateway = Gateway::start(store, bus).await;
                super::$case(&gateway).await;
            }

            #[tokio::test]
            async fn sqlite_in_process() {
                run(Backend::Sqlite, BusKind::InProcess).await;
            }

            #[tokio::test]
            async fn sqlite_redis() {
                run(Backend::Sqlite, BusKind::Redis).await;
            }

            #[tokio::test]
            async fn postgres_in_process() {
                run(Backend::Postgres, BusKind::InProcess).await;
            }

            #[tokio::test]
            async fn postgres_redis() {
                run(Backend::Postgres, BusKind::Redis).await;
            }
        }
    )*};
}

matrix!(
    valid_delivery_is_stored_and_published_once,
    deliveries_are_announced_and_marked_without_help,
    concurrent_duplicates_store_and_publish_once,
    rejected_deliveries_write_and_publish_nothing,
    fixtures_are_stored_as_the_spec_says,
    unknown_types_are_acknowledged_and_dropped,
    store_unavailable_answers_503_and_publishes_nothing,
    erased_conversations_are_acknowledged_and_dropped,
);

/// Nothing but the gateway's own tasks moves (SQLite), announces and marks a delivery.
async fn deliveries_are_announced_and_marked_without_help(gateway: &Gateway) {
    let (status, _) = gateway.post_signed(&transcription("conv_alone")).await;
    assert_eq!(status, StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let published = gateway.published_so_far().await;
        let marked = gateway.marked().await;
        if let ([Message::EventAccepted { event_id, .. }], [id]) = (&published[..], &marked[..]) {
            assert_eq!(event_id, id);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not announced and marked: {published:?}, marked {marked:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn valid_delivery_is_stored_and_published_once(gateway: &Gateway) {
    let body = transcription("conv_valid");
    let (status, ack) = gateway.post_signed(&body).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack, json!({"status": "accepted", "duplicate": false}));

    gateway.settle().await;
    let events = gateway.events().await;
    assert_eq!(events.len(), 1);
    let row = &events[0];
    assert_eq!(row.event_type, "post_call_transcription");
    assert_eq!(row.conversation_id, "conv_valid");
    assert_eq!(row.event_timestamp, i64::try_from(NOW).unwrap());
    assert_eq!(row.payload.as_bytes(), &body[..], "stored verbatim");
    assert!(row.published_at.is_some(), "marked published");

    let published = gateway.published().await;
    assert_eq!(
        published,
        vec![Message::EventAccepted {
            event_id: row.id,
            event_type: "post_call_transcription".into(),
            conversation_id: "conv_valid".into(),
        }]
    );
    let metrics = gateway.metrics_text();
    assert!(
        metrics.contains(
            r#"memvox_webhook_events_total{outcome="accepted",type="post_call_transcription"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("memvox_webhook_ack_seconds_count 1"),
        "{metrics}"
    );
}

/// Concurrent deliveries are stored in shared transactions (group commit): repeats of one call
/// among 30 other calls, all answered after their rows are stored.
async fn concurrent_duplicates_store_and_publish_once(gateway: &Gateway) {
    let body = transcription("conv_dup");
    let header = signed(&body);
    let others: Vec<_> = (0..30)
        .map(|n| transcription(&format!("conv_other_{n}")))
        .collect();
    let (answers, other_answers) = futures::join!(
        join_all((0..10).map(|_| gateway.post(&body, Some(&header)))),
        join_all(others.iter().map(|other| gateway.post_signed(other)))
    );
    let mut fresh = 0;
    for (status, ack) in &answers {
        assert_eq!(*status, StatusCode::OK, "{ack}");
        assert_eq!(ack["status"], "accepted");
        if ack["duplicate"] == false {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1, "exactly one delivery is the first: {answers:?}");
    for (status, ack) in &other_answers {
        assert_eq!(*status, StatusCode::OK, "{ack}");
        assert_eq!(ack, &json!({"status": "accepted", "duplicate": false}));
    }
    assert_eq!(gateway.events().await.len(), 31);
    assert_eq!(gateway.published().await.len(), 31);

    let (status, ack) = gateway.post(&body, Some(&header)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ack, json!({"status": "accepted", "duplicate": true}));
    assert_eq!(gateway.published().await.len(), 31);
    // Every delivery went through a group-commit transaction, counted once.
    let metrics = gateway.metrics_text();
    assert!(
        metrics.contains("memvox_webhook_commit_deliveries_sum 41"),
        "{metrics}"
    );
}

async fn rejected_deliveries_write_and_publish_nothing(gateway: &Gateway) {
    let body = transcription("conv_rejected");
    let good = signed(&body);
    let forged = memvox_elevenlabs::sign(b"wsec_attacker", NOW, &body);
    let stale = memvox_elevenlabs::sign(SECRET.as_bytes(), NOW - 1801, &body);
    let malformed_header = good.replace("v0=", "v1=");
    let not_json = b"{\"type\":\"post_call_transcription\",".to_vec();
    let no_id =
        br#"{"type":"post_call_audio","event_timestamp":1,"data":{"agent_id":"a"}}"#.to_vec();
    let oversized = transcription(&format!("conv_{}", "x".repeat(6 * 1024 * 1024)));

    let json = Some("application/json");
    let (unauthorized, code401) = (StatusCode::UNAUTHORIZED, "invalid_signature");
    let cases = [
        Rejection::new("forged", &body, Some(forged), json, unauthorized, code401),
        Rejection::new("stale", &body, Some(stale), json, unauthorized, code401),
        Rejection::new("unsigned", &body, None, json, unauthorized, code401),
        Rejection::new(
            "bad header",
            &body,
            Some(malformed_header),
            json,
            unauthorized,
            code401,
        ),
        Rejection::new(
            "tampered",
            &transcription("conv_other"),
            Some(good.clone()),
            json,
            unauthorized,
            code401,
        ),
        Rejection::new(
            "not json",
            &not_json,
            Some(signed(&not_json)),
            json,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        Rejection::new(
            "no id",
            &no_id,
            Some(signed(&no_id)),
            json,
            StatusCode::BAD_REQUEST,
            "invalid_payload",
        ),
        Rejection::new(
            "oversized",
            &oversized,
            Some(signed(&oversized)),
            json,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        Rejection::new(
            "text/plain",
            &body,
            Some(good.clone()),
            Some("text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        Rejection::new(
            "no content type",
            &body,
            Some(good),
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for case in cases {
        let name = case.name;
        let (status, error) = gateway
            .post_as(&case.body, case.header.as_deref(), case.content_type)
            .await;
        assert_eq!(status, case.status, "{name}: {error}");
        assert_eq!(error["error"]["code"], case.code, "{name}: {error}");
        assert!(error["error"]["message"].is_string(), "{name}: {error}");
    }
    let (_, error) = gateway.post_signed(&no_id).await;
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("data.conversation_id"),
        "field path named: {message}"
    );

    assert!(gateway.events().await.is_empty(), "nothing stored");
    assert!(gateway.published().await.is_empty(), "nothing published");
    let metrics = gateway.metrics_text();
    for line in [
        r#"memvox_webhook_signature_rejections_total{reason="mismatch"} 2"#,
        r#"memvox_webhook_signature_rejections_total{reason="stale"} 1"#,
        r#"memvox_webhook_signature_rejections_total{reason="missing"} 1"#,
        r#"memvox_webhook_signature_rejections_total{reason="malformed"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

async fn fixtures_are_stored_as_the_spec_says(gateway: &Gateway) {
    let names = [
        "post_call_transcription.json",
        "post_call_audio.json",
        "call_initiation_failure.json",
        "call_initiation_failure_sip.json",
    ];
    for name in names {
        let (status, ack) = gateway.post_signed(&fixture(name)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {ack}");
        assert_eq!(ack["duplicate"], false, "{name}");
    }
    let events = gateway.events().await;
    assert_eq!(events.len(), 4);
    assert_eq!(gateway.published().await.len(), 4);
    for (name, row) in names.iter().zip(&events) {
        let original: serde_json::Value = serde_json::from_slice(&fixture(name)).unwrap();
        assert_eq!(row.event_type, original["type"], "{name}");
        assert_eq!(
            row.conversation_id, original["data"]["conversation_id"],
            "{name}"
        );
        let parsed = WebhookEvent::parse(row.payload.as_bytes()).unwrap();
        assert_eq!(parsed.event_type(), row.event_type);
        if *name == "post_call_audio.json" {
            let audio = original["data"]["full_audio"].as_str().unwrap();
            assert!(!row.payload.contains(audio), "audio not in the row");
            let file = memvox_gateway::audio_path(&gateway.audio_dir, &row.conversation_id);
            let on_disk = std::fs::read_to_string(file).unwrap();
            assert!(!on_disk.contains(audio), "audio encrypted at rest");
            let read = memvox_gateway::read_audio(
                &gateway.audio_dir,
                &row.conversation_id,
                &gateway.state.keyring,
            )
            .await
            .unwrap();
            assert_eq!(read, audio, "audio reads back");
        } else {
            assert_eq!(
                row.payload.as_bytes(),
                &fixture(name)[..],
                "{name} verbatim"
            );
        }
    }
}

async fn unknown_types_are_acknowledged_and_dropped(gateway: &Gateway) {
    let body = br#"{"type":"answering_machine_detection","event_timestamp":1767225700,"data":{"conversation_id":"conv_amd"}}"#;
    let (status, ack) = gateway.post_signed(body).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack, json!({"status": "ignored", "duplicate": false}));
    assert!(gateway.events().await.is_empty());
    assert!(gateway.published().await.is_empty());
    let metrics = gateway.metrics_text();
    assert!(
        metrics.contains(r#"memvox_webhook_events_total{outcome="ignored",type="unknown"} 1"#),
        "{metrics}"
    );
}

async fn store_unavailable_answers_503_and_publishes_nothing(gateway: &Gateway) {
    gateway.close_store().await;
    let (status, error) = gateway.post_signed(&transcription("conv_down")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    assert_eq!(error["error"]["code"], "unavailable");
    assert!(gateway.published_so_far().await.is_empty());
}

/// One delivery that must be refused.
struct Rejection {
    name: &'static str,
    body: Vec<u8>,
    header: Option<String>,
    content_type: Option<&'static str>,
    status: StatusCode,
    code: &'static str,
}

impl Rejection {
    fn new(
        name: &'static str,
        body: &[u8],
        header: Option<String>,
        content_type: Option<&'static str>,
        status: StatusCode,
        code: &'static str,
    ) -> Self {
        Self {
            name,
            body: body.to_vec(),
            header,
            content_type,
            status,
            code,
        }
    }
}

/// After the caller is erased, their conversation's deliveries — byte-identical retries and
/// re-signed ones, transcription and audio — are acknowledged and dropped: no row, no
/// message, no audio file, counted as `erased`.
async fn erased_conversations_are_acknowledged_and_dropped(gateway: &Gateway) {
    let transcript = fixture("post_call_transcription.json");
    let audio = fixture("post_call_audio.json");
    for body in [&transcript, &audio] {
        let (status, ack) = gateway.post_signed(body).await;
        assert_eq!(status, StatusCode::OK, "{ack}");
    }
    gateway.settle().await;
    let published = gateway.published().await.len();
    let files = std::fs::read_dir(&gateway.audio_dir).unwrap().count();
    let now = i64::try_from(NOW * 1000).unwrap();
    // The events are pending: the transcription names the user, the audio only its call.
    let receipt = gateway
        .state
        .store
        .erase_user("mem_usr_8c1f2a", now)
        .await
        .unwrap();
    assert_eq!(receipt.deleted, vec![("webhook_events".to_owned(), 2)]);
    assert!(gateway.events().await.is_empty());

    for body in [&transcript, &audio] {
        let resigned = sign(SECRET.as_bytes(), NOW + 60, body);
        for signature in [signed(body), resigned] {
            let (status, ack) = gateway.post(body, Some(&signature)).await;
            assert_eq!(status, StatusCode::OK, "{ack}");
            assert_eq!(ack, json!({"status": "ignored", "duplicate": false}));
        }
    }
    assert!(gateway.events().await.is_empty(), "no row comes back");
    assert_eq!(
        gateway.published().await.len(),
        published,
        "nothing published"
    );
    let files_after = std::fs::read_dir(&gateway.audio_dir).unwrap().count();
    assert_eq!(files_after, files, "no audio written");
    let metrics = gateway.metrics_text();
    assert!(metrics.contains(r#"outcome="erased""#), "{metrics}");
}
