//! Retention with an injected clock, on both deployments: raw payloads and turns go once past
//! their age, in that order of ages; memories, episodes, the call header and unprocessed events
//! stay.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use memvox_extraction_worker::retention::Retention;
use memvox_store::{MemoryFilter, MemoryOrder, NewEvent, RetentionReport};
use support::{Deployment, Pipeline, accept, call_payload};

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
        })
        .await
        .unwrap()
        .id;
    let call = app.store.get_call("conv_old").await.unwrap().unwrap();
    let started = call.conversation.started_at;
    let user = call.conversation.user_id.clone().unwrap();
    let memories = |app: &memvox_runtime::App| {
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
    let nothing = RetentionReport::default();
    assert_eq!(
        retention.step(store, RECEIVED + 6 * DAY).await.unwrap(),
        nothing
    );
    assert!(app.store.get_event(processed).await.unwrap().is_some());

    let week = retention
        .step(store, RECEIVED.max(started) + 8 * DAY)
        .await
        .unwrap();
    assert_eq!(week.payloads, 1);
    assert!(app.store.get_event(processed).await.unwrap().is_none());
    assert!(
        app.store.get_event(pending).await.unwrap().is_some(),
        "unprocessed: kept"
    );

    let month = retention
        .step(store, RECEIVED.max(started) + 31 * DAY)
        .await
        .unwrap();
    assert_eq!(month.turns, call.turns.len() as u64);
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
    old_payloads_and_turns_go_memories_stay(Deployment::Embedded).await;
}

#[tokio::test]
async fn distributed_old_payloads_and_turns_go_memories_stay() {
    old_payloads_and_turns_go_memories_stay(Deployment::Distributed).await;
}
