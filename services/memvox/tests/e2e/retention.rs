//! Retention with an injected clock, on both deployments: raw payloads and turns go once past
//! their age, in that order of ages; memories, episodes, the call header and unprocessed events
//! stay. With the episode policy and an audio age set, a call's episodes and old audio files go
//! too, while its facts stay.

use std::time::{Duration, UNIX_EPOCH};

use memvox::Memvox;
use memvox_core::MemoryKind;
use memvox_extraction_worker::retention::{Retention, RetentionTotals};
use memvox_store::{MemoryFilter, MemoryOrder, NewEvent};

use crate::support;
use crate::support::{Deployment, Pipeline, accept, call_payload};

const DAY: i64 = 86_400_000;
/// When `support::accept` records events.
const RECEIVED: i64 = 1_767_225_645_000;

async fn old_payloads_and_turns_go_memories_stay(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(deployment, dir.path(), |config| {
        config.workers.raw_payload_retention_days = Some(7);
        config.workers.turn_retention_days = Some(30);
    })
    .await;
    let pipeline = Pipeline::new(&app);
    let processed = accept(&app, "conv_old", call_payload("conv_old", None)).await;
    pipeline.run().await;
    let pending = app
        .store
        .record_event(&NewEvent {
            event_type: "post_call_transcription".into(),
            conversation_id: "conv_pending".into(),
            event_timestamp: 1,
            payload: call_payload("conv_pending", None),
            received_at: RECEIVED,
            traceparent: None,
        })
        .await
        .unwrap()
        .id;
    let call = app.store.get_call("conv_old").await.unwrap().unwrap();
    let started = call.conversation.started_at;
    let user = call.conversation.user_id.clone().unwrap();
    let memories = |app: &memvox::Memvox| {
        let store = app.store.clone();
        let user = user.clone();
        async move {
            store
                .list_memories(
                    &user,
                    &MemoryFilter::both_layers(),
                    MemoryOrder::Newest,
                    500,
                )
                .await
                .unwrap()
                .len()
        }
    };
    let before = memories(&app).await;
    assert!(before > 0);

    let retention = Retention::new(app.config.workers.clone(), app.metrics.registry()).unwrap();
    let store = app.store.as_ref();
    let nothing = RetentionTotals::default();
    assert_eq!(
        retention.step(store, RECEIVED + 6 * DAY).await.unwrap(),
        nothing
    );
    assert!(app.store.get_event(processed).await.unwrap().is_some());

    let week = retention
        .step(store, RECEIVED.max(started) + 8 * DAY)
        .await
        .unwrap();
    assert_eq!(week.rows.payloads, 1);
    assert!(app.store.get_event(processed).await.unwrap().is_none());
    assert!(
        app.store.get_event(pending).await.unwrap().is_some(),
        "unprocessed: kept"
    );

    let month = retention
        .step(store, RECEIVED.max(started) + 31 * DAY)
        .await
        .unwrap();
    assert_eq!(month.rows.turns, call.turns.len() as u64);
    assert_eq!(
        month.rows.episodes, 0,
        "episodes stay unless the policy says otherwise"
    );
    let header = app.store.get_call("conv_old").await.unwrap().unwrap();
    assert!(header.turns.is_empty());
    assert_eq!(memories(&app).await, before, "memories and episodes stay");
    assert_eq!(
        retention.step(store, RECEIVED + 31 * DAY).await.unwrap(),
        nothing
    );
    app.bus.delete_stream(memvox_bus::EVENTS).await.unwrap();
}

#[tokio::test]
async fn embedded_old_payloads_and_turns_go_memories_stay() {
    Box::pin(old_payloads_and_turns_go_memories_stay(
        Deployment::Embedded,
    ))
    .await;
}

#[tokio::test]
async fn distributed_old_payloads_and_turns_go_memories_stay() {
    Box::pin(old_payloads_and_turns_go_memories_stay(
        Deployment::Distributed,
    ))
    .await;
}

/// How many memories of `kind` the user has.
async fn count(app: &Memvox, user: &str, kind: MemoryKind) -> usize {
    let filter = MemoryFilter {
        kinds: vec![kind],
        ..MemoryFilter::default()
    };
    app.store
        .list_memories(user, &filter, MemoryOrder::Newest, 500)
        .await
        .unwrap()
        .len()
}

async fn episodes_and_audio_go_by_policy(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let audio_dir = dir.path().join("audio");
    let app = support::app_with(deployment, dir.path(), |config| {
        config.workers.turn_retention_days = Some(30);
        config.workers.episode_retention_days = Some(60);
        config.workers.audio_retention_days = Some(30);
        config.gateway.audio_dir = Some(audio_dir.clone());
    })
    .await;
    let pipeline = Pipeline::new(&app);
    accept(&app, "conv_old", call_payload("conv_old", None)).await;
    pipeline.run().await;
    let call = app.store.get_call("conv_old").await.unwrap().unwrap();
    let (started, user) = (
        call.conversation.started_at,
        call.conversation.user_id.unwrap(),
    );
    let (facts, episodes) = (
        count(&app, &user, MemoryKind::Fact).await,
        count(&app, &user, MemoryKind::Episode).await,
    );
    assert!(
        facts > 0 && episodes > 0,
        "{facts} facts, {episodes} episodes"
    );
    std::fs::create_dir_all(&audio_dir).unwrap();
    let audio = |conversation: &str, written_at: i64| {
        let path = memvox_config::audio_path(&audio_dir, conversation);
        let file = std::fs::File::create(&path).unwrap();
        let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(written_at).unwrap());
        file.set_modified(at).unwrap();
        path
    };
    let old_audio = audio("conv_old", started);
    let young_audio = audio("conv_young", started + 20 * DAY);
    let unrelated = audio_dir.join("README.txt");
    std::fs::write(&unrelated, "not audio").unwrap();

    let retention = Retention::new(app.config.workers.clone(), app.metrics.registry())
        .unwrap()
        .with_audio_dir(app.config.gateway.audio_dir.clone());
    let store = app.store.as_ref();
    let month = retention.step(store, started + 31 * DAY).await.unwrap();
    assert_eq!(month.rows.turns, call.turns.len() as u64);
    assert_eq!(month.rows.episodes, 0, "episodes are kept 60 days");
    assert_eq!(month.audio_files, 1);
    assert!(!old_audio.exists() && young_audio.exists() && unrelated.exists());
    assert_eq!(count(&app, &user, MemoryKind::Episode).await, episodes);

    let later = retention.step(store, started + 61 * DAY).await.unwrap();
    assert_eq!(later.rows.episodes, episodes as u64);
    assert_eq!(
        later.audio_files, 1,
        "the younger file is now past its age too"
    );
    assert_eq!(count(&app, &user, MemoryKind::Episode).await, 0);
    assert_eq!(
        count(&app, &user, MemoryKind::Fact).await,
        facts,
        "facts stay"
    );
    assert!(
        app.store.get_call("conv_old").await.unwrap().is_some(),
        "the header stays"
    );
    assert!(unrelated.exists(), "only audio files are touched");
    assert_eq!(
        retention.step(store, started + 61 * DAY).await.unwrap(),
        RetentionTotals::default()
    );
    app.bus.delete_stream(memvox_bus::EVENTS).await.unwrap();
}

#[tokio::test]
async fn embedded_episodes_and_audio_go_by_policy() {
    Box::pin(episodes_and_audio_go_by_policy(Deployment::Embedded)).await;
}

#[tokio::test]
async fn distributed_episodes_and_audio_go_by_policy() {
    Box::pin(episodes_and_audio_go_by_policy(Deployment::Distributed)).await;
}
