//! `unredacted_transcript` and `unredacted_audio` deliveries through the gateway: acknowledged
//! and dropped by default (nothing stored, published or written to disk, counted as
//! `unredacted_dropped`); with `privacy.unredacted_webhooks = "store"`, stored in place of
//! their redacted counterpart under its idempotency key, their own `type` kept in the payload.

use axum::http::StatusCode;
use memvox_config::UnredactedWebhooks;
use memvox_elevenlabs::{EventKind, WebhookEvent};
use serde_json::json;

use crate::support::{Backend, BusKind, Gateway, fixture};

/// The conversation of the fixtures.
const CONVERSATION: &str = "conv_5201kf3r7e9yq2m8vx4pn0td6h";

#[tokio::test]
async fn unredacted_variants_are_acknowledged_and_dropped_by_default() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    for name in ["unredacted_transcript.json", "unredacted_audio.json"] {
        let (status, ack) = gateway.post_signed(&fixture(name)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {ack}");
        assert_eq!(
            ack,
            json!({"status": "ignored", "duplicate": false}),
            "{name}"
        );
    }
    assert!(gateway.events().await.is_empty());
    assert!(gateway.published().await.is_empty());
    assert!(
        !gateway.audio_dir.exists() || gateway.audio_dir.read_dir().unwrap().next().is_none(),
        "no audio file written"
    );
    let metrics = gateway.metrics_text();
    for event_type in ["unredacted_transcript", "unredacted_audio"] {
        let series = format!(
            r#"memvox_webhook_events_total{{outcome="unredacted_dropped",type="{event_type}"}} 1"#
        );
        assert!(metrics.contains(&series), "{metrics}");
    }
}

#[tokio::test]
async fn when_stored_an_unredacted_transcript_takes_the_redacted_ones_place() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess)
        .await
        .with_unredacted_webhooks(UnredactedWebhooks::Store);
    let (status, ack) = gateway
        .post_signed(&fixture("unredacted_transcript.json"))
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack, json!({"status": "accepted", "duplicate": false}));
    let (_, ack) = gateway
        .post_signed(&fixture("post_call_transcription.json"))
        .await;
    assert_eq!(
        ack,
        json!({"status": "accepted", "duplicate": true}),
        "one variant of a call is kept: the first to arrive"
    );

    let events = gateway.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "post_call_transcription");
    assert_eq!(events[0].conversation_id, CONVERSATION);
    let stored = WebhookEvent::parse(events[0].payload.as_bytes()).unwrap();
    assert_eq!(stored.kind(), EventKind::UnredactedTranscription);
    assert_eq!(gateway.published().await.len(), 1);
}

#[tokio::test]
async fn when_stored_unredacted_audio_goes_to_the_audio_file() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess)
        .await
        .with_unredacted_webhooks(UnredactedWebhooks::Store);
    let (status, ack) = gateway.post_signed(&fixture("unredacted_audio.json")).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let events = gateway.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "post_call_audio");
    let stored = WebhookEvent::parse(events[0].payload.as_bytes()).unwrap();
    assert_eq!(stored.kind(), EventKind::UnredactedAudio);
    assert!(
        memvox_gateway::audio_path(&gateway.audio_dir, CONVERSATION).exists(),
        "the audio is saved like post_call_audio's"
    );
}
