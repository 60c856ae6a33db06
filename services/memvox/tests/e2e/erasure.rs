//! Erasure cannot be undone, on both deployments: a caller with a processed call, an event whose
//! publish was lost (pending), one on the stream not yet processed, and a dead-lettered one is
//! erased; then every message is redelivered, the dead letter replayed, the reconciler asked
//! for stale events and every event re-accepted: nothing of the caller comes back.

use memvox::Memvox;
use memvox_bus::{EVENTS, Envelope, Message};
use memvox_store::{EventStatus, MemoryFilter, MemoryOrder, NewEvent, StoreError};

use crate::support;
use crate::support::{Deployment, Pipeline, accept, accept_typed, call_payload};

const NUMBER: &str = "+14155550199";

/// A payload the worker cannot parse, naming the caller's number: dead-lettered.
fn malformed_from_number() -> String {
    serde_json::json!({
        "type": "post_call_transcription",
        "event_timestamp": 1,
        "data": {"metadata": {"phone_call": {"external_number": NUMBER}}},
    })
    .to_string()
}

fn event(conversation_id: &str, payload: String) -> NewEvent {
    NewEvent {
        event_type: "post_call_transcription".into(),
        conversation_id: conversation_id.into(),
        event_timestamp: 1_767_225_645,
        payload,
        received_at: 1_767_225_645_000,
        traceparent: None,
    }
}

async fn redeliver(app: &Memvox, event_id: i64, conversation_id: &str) {
    let message = Message::EventAccepted {
        event_id,
        event_type: "post_call_transcription".into(),
        conversation_id: conversation_id.into(),
    };
    app.bus
        .publish(EVENTS, &Envelope::new(message))
        .await
        .unwrap();
}

async fn nothing_of_an_erased_caller_comes_back(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(deployment, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    let done = accept(&app, "conv_done", call_payload("conv_done", None)).await;
    let dead = accept_typed(
        &app,
        "post_call_transcription",
        "conv_dead",
        malformed_from_number(),
    )
    .await;
    pipeline.run().await;
    let call = app.store.get_call("conv_done").await.unwrap().unwrap();
    let user = call.conversation.user_id.unwrap();
    let dead_row = app.store.get_event(dead).await.unwrap().unwrap();
    assert_eq!(dead_row.status, EventStatus::DeadLetter);
    assert_eq!(
        app.bus
            .list_dead_letters(EVENTS, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // A publish that was lost, and a message on the stream not processed yet.
    let lost = app
        .store
        .record_event(&event("conv_lost", call_payload("conv_lost", None)))
        .await
        .unwrap()
        .id;
    let queued = accept(&app, "conv_queued", call_payload("conv_queued", None)).await;

    let receipt = app
        .store
        .erase_user(&user, 1_767_225_700_000)
        .await
        .unwrap();
    assert!(receipt.total() > 0);
    for id in [done, dead, lost, queued] {
        assert!(
            app.store.get_event(id).await.unwrap().is_none(),
            "event {id}"
        );
    }

    // Redeliver everything, replay the dead letter, ask the reconciler, re-accept every event.
    pipeline.run().await;
    for (id, conversation) in [
        (done, "conv_done"),
        (lost, "conv_lost"),
        (queued, "conv_queued"),
    ] {
        redeliver(&app, id, conversation).await;
    }
    for letter in app.bus.list_dead_letters(EVENTS, None, 10).await.unwrap() {
        app.bus
            .replay_dead_letter(EVENTS, &letter.id)
            .await
            .unwrap();
    }
    pipeline.run().await;
    assert!(
        app.store
            .stale_pending_events(i64::MAX, 100)
            .await
            .unwrap()
            .is_empty()
    );
    for (conversation, payload) in [
        ("conv_done", call_payload("conv_done", None)),
        ("conv_lost", call_payload("conv_lost", None)),
        ("conv_queued", call_payload("conv_queued", None)),
        ("conv_dead", malformed_from_number()),
    ] {
        let again = app.store.record_event(&event(conversation, payload)).await;
        assert!(
            matches!(again, Err(StoreError::Erased { .. })),
            "{conversation}: {again:?}"
        );
    }

    assert!(app.store.get_user(&user).await.unwrap().is_none());
    assert!(app.store.user_for_caller(NUMBER).await.unwrap().is_none());
    for conversation in ["conv_done", "conv_lost", "conv_queued", "conv_dead"] {
        assert!(app.store.get_call(conversation).await.unwrap().is_none());
    }
    let memories = app
        .store
        .list_memories(&user, &MemoryFilter::default(), MemoryOrder::Newest, 10)
        .await
        .unwrap();
    assert!(memories.is_empty());
    assert!(
        app.bus
            .list_dead_letters(EVENTS, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "erased events are dropped, not dead-lettered"
    );
    app.bus.delete_stream(EVENTS).await.unwrap();
}

#[tokio::test]
async fn embedded_nothing_of_an_erased_caller_comes_back() {
    Box::pin(nothing_of_an_erased_caller_comes_back(Deployment::Embedded)).await;
}

#[tokio::test]
async fn distributed_nothing_of_an_erased_caller_comes_back() {
    Box::pin(nothing_of_an_erased_caller_comes_back(
        Deployment::Distributed,
    ))
    .await;
}
