//! Erasure that cannot be undone, on both backends: the user's pending, retrying and
//! dead-lettered events go with them; tombstones refuse the same deliveries again and commits
//! prepared before the erasure; they hold no personal data; a caller who phones again later is
//! a new caller; the version cached answers are keyed on ends with the user.

use memvox_core::{Conversation, ConversationStatus};
use memvox_store::{
    CallRecord, Erased, EventStatus, ExtractionCommit, NewEvent, Store, StoreError,
};
use memvox_testkit::TestStore;

use crate::support::{with_harness, with_store};

pub(crate) const NOW: i64 = 1_767_225_645_000;
pub(crate) const NUMBER: &str = "+14155550101";

/// A transcription event as ElevenLabs sends it, naming the caller's number and/or user id.
pub(crate) fn event(
    conversation_id: &str,
    number: Option<&str>,
    user_id: Option<&str>,
) -> NewEvent {
    let payload = serde_json::json!({
        "type": "post_call_transcription",
        "event_timestamp": NOW / 1000,
        "data": {
            "conversation_id": conversation_id,
            "agent_id": "agent_1",
            "user_id": user_id,
            "metadata": {"phone_call": number.map(|n| serde_json::json!({"external_number": n}))},
        },
    });
    NewEvent {
        event_type: "post_call_transcription".into(),
        conversation_id: conversation_id.into(),
        event_timestamp: NOW / 1000,
        payload: payload.to_string(),
        received_at: NOW,
        traceparent: None,
    }
}

pub(crate) fn commit(
    event_id: i64,
    conversation_id: &str,
    user_id: &str,
    now: i64,
) -> ExtractionCommit {
    ExtractionCommit {
        event_id,
        call: Some(CallRecord {
            conversation: Conversation {
                conversation_id: conversation_id.into(),
                agent_id: "agent_1".into(),
                user_id: Some(user_id.into()),
                started_at: now,
                duration_secs: Some(30),
                status: ConversationStatus::Completed,
                failure_reason: None,
            },
            turns: Vec::new(),
            analysis: None,
        }),
        bind_caller: Some((NUMBER.into(), user_id.into())),
        memories: Vec::new(),
        episodes: Vec::new(),
        now,
    }
}

/// A processed call, a pending event (by number), a retrying one (by number) and a
/// dead-lettered one (by user id) of `erase`, and a pending event of someone else.
async fn erasure_takes_open_events_and_refuses_them_again(store: &dyn Store) {
    let done = store
        .record_event(&event("conv_done", Some(NUMBER), None))
        .await
        .unwrap();
    store
        .apply_extraction(&commit(done.id, "conv_done", "erase", NOW))
        .await
        .unwrap();
    let pending = store
        .record_event(&event("conv_pending", Some(NUMBER), None))
        .await
        .unwrap();
    let retrying = store
        .record_event(&event("conv_retry", Some(NUMBER), None))
        .await
        .unwrap();
    store
        .finish_event(retrying.id, EventStatus::Pending, Some("timeout"), NOW)
        .await
        .unwrap();
    let dead = store
        .record_event(&event("conv_dead", None, Some("erase")))
        .await
        .unwrap();
    store
        .finish_event(dead.id, EventStatus::DeadLetter, Some("extractor"), NOW)
        .await
        .unwrap();
    let other = store
        .record_event(&event(
            "conv_other",
            Some("+14155550199"),
            Some("erase_not"),
        ))
        .await
        .unwrap();

    let receipt = store.erase_user("erase", NOW + 1).await.unwrap();
    let events = receipt.deleted.iter().find(|(t, _)| t == "webhook_events");
    assert_eq!(events.map(|(_, n)| *n), Some(4), "{:?}", receipt.deleted);
    for id in [done.id, pending.id, retrying.id, dead.id] {
        assert!(store.get_event(id).await.unwrap().is_none(), "event {id}");
    }
    assert!(store.get_event(other.id).await.unwrap().is_some());
    assert!(matches!(
        store.reopen_event(dead.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let stale = store.stale_pending_events(NOW + 10, 10).await.unwrap();
    assert_eq!(
        stale.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![other.id]
    );

    // Every delivery again, byte-identical: refused, nothing stored.
    for (conversation, number, user) in [
        ("conv_done", Some(NUMBER), None),
        ("conv_pending", Some(NUMBER), None),
        ("conv_retry", Some(NUMBER), None),
        ("conv_dead", None, Some("erase")),
    ] {
        let again = store.record_event(&event(conversation, number, user)).await;
        assert!(
            matches!(again, Err(StoreError::Erased { .. })),
            "{conversation}: {again:?}"
        );
        let tombstoned = [Erased::Conversation(conversation)];
        assert!(store.is_erased(&tombstoned, NOW + 2).await.unwrap());
    }
    assert!(
        store
            .is_erased(&[Erased::User("erase")], NOW + 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .is_erased(&[Erased::Number(NUMBER)], NOW + 2)
            .await
            .unwrap()
    );
    let untouched = [
        Erased::Conversation("conv_other"),
        Erased::User("erase_not"),
    ];
    assert!(!store.is_erased(&untouched, NOW + 2).await.unwrap());
    // A group of deliveries: the tombstoned one is refused, the others stored or found.
    let group = store
        .record_events(&[
            event("conv_new", Some(NUMBER), None),
            event("conv_pending", Some(NUMBER), None),
            event("conv_other", None, None),
        ])
        .await
        .unwrap();
    assert!(group[0].is_some_and(|r| r.inserted), "{group:?}");
    assert!(group[1].is_none(), "tombstoned: {group:?}");
    assert_eq!(
        group[2].map(|r| (r.id, r.inserted)),
        Some((other.id, false))
    );
    assert!(store.get_user("erase").await.unwrap().is_none());
    assert!(store.user_for_caller(NUMBER).await.unwrap().is_none());
}

/// A commit prepared before the erasure (its event arrived before it) writes nothing after;
/// a call that arrives after the erasure makes a new caller.
async fn commits_of_erased_callers_write_nothing(store: &dyn Store) {
    let first = store
        .record_event(&event("conv_1", Some(NUMBER), None))
        .await
        .unwrap();
    store
        .apply_extraction(&commit(first.id, "conv_1", "erase", NOW))
        .await
        .unwrap();
    // Arrived before the erasure under a conversation the erasure could not tie to the user.
    let mut unnamed = event("conv_2", None, None);
    unnamed.received_at = NOW + 1;
    let late = store.record_event(&unnamed).await.unwrap();
    store.erase_user("erase", NOW + 2).await.unwrap();

    let outcome = store
        .apply_extraction(&commit(late.id, "conv_2", "erase", NOW + 3))
        .await
        .unwrap();
    assert!(outcome.erased && outcome.memory_ids.is_empty());
    assert!(store.get_user("erase").await.unwrap().is_none());
    assert!(store.get_call("conv_2").await.unwrap().is_none());
    assert!(store.get_event(late.id).await.unwrap().is_none());
    assert!(matches!(
        store.record_event(&unnamed).await,
        Err(StoreError::Erased { .. })
    ));
    // A redelivered message for an event erased meanwhile.
    let missing = store
        .apply_extraction(&commit(first.id, "conv_1", "erase", NOW + 3))
        .await;
    assert!(
        matches!(missing, Err(StoreError::Erased { .. })),
        "{missing:?}"
    );

    // The same caller phones again after the erasure: a new conversation, a new caller.
    let mut new_call = event("conv_3", Some(NUMBER), None);
    new_call.received_at = NOW + 4;
    let fresh = store.record_event(&new_call).await.unwrap();
    let outcome = store
        .apply_extraction(&commit(fresh.id, "conv_3", "erase", NOW + 5))
        .await
        .unwrap();
    assert!(!outcome.erased);
    assert!(store.get_user("erase").await.unwrap().is_some());
    assert_eq!(
        store.user_call_times("erase", 10).await.unwrap(),
        vec![NOW + 5]
    );
}

/// Tombstones are keyed hashes: no id, number or conversation id in the table.
async fn tombstones_hold_no_personal_data(harness: &TestStore) {
    let store = harness.store();
    let done = store
        .record_event(&event("conv_done", Some(NUMBER), None))
        .await
        .unwrap();
    store
        .apply_extraction(&commit(done.id, "conv_done", "erase", NOW))
        .await
        .unwrap();
    store.erase_user("erase", NOW + 1).await.unwrap();
    let digests = harness.raw_column("erasure_tombstones", "digest").await;
    assert!(
        digests.len() >= 3,
        "user, number, conversation: {digests:?}"
    );
    for digest in &digests {
        assert!(digest.len() == 32 && digest.chars().all(|c| c.is_ascii_hexdigit()));
        for value in ["erase", NUMBER, "4155550101", "conv_done"] {
            assert!(!digest.contains(value));
        }
    }
}

/// The version cached answers are keyed on moves with every change an answer shows, not with
/// recall reinforcement, and there is none once the user is erased.
async fn user_versions_move_with_every_change_and_end_with_erasure(store: &dyn Store) {
    assert_eq!(store.user_version("erase").await.unwrap(), None);
    let memory = |content: &str| memvox_core::NewMemory {
        user_id: "erase".into(),
        content: content.into(),
        sector: memvox_core::Sector::Semantic,
        salience: 0.5,
        provenance: None,
    };
    let first = store
        .insert_memory(&memory("Likes tea"), NOW)
        .await
        .unwrap();
    let mut seen = vec![store.user_version("erase").await.unwrap().unwrap()];
    store
        .insert_memory(&memory("Likes coffee"), NOW)
        .await
        .unwrap();
    seen.push(store.user_version("erase").await.unwrap().unwrap());
    let edit = memvox_store::MemoryEdit {
        content: Some("Likes green tea".into()),
        ..memvox_store::MemoryEdit::default()
    };
    store
        .edit_memory("erase", first.id, &edit, NOW)
        .await
        .unwrap();
    seen.push(store.user_version("erase").await.unwrap().unwrap());
    store
        .store_embeddings(&[(first.id, vec![0.5; 4])], NOW)
        .await
        .unwrap();
    seen.push(store.user_version("erase").await.unwrap().unwrap());
    store.delete_memory("erase", first.id).await.unwrap();
    seen.push(store.user_version("erase").await.unwrap().unwrap());
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "{seen:?}");
    }
    let last = *seen.last().unwrap();
    let ids: Vec<_> = store
        .list_memories("erase", &Default::default(), Default::default(), 10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    store
        .reinforce_memories("erase", &ids, 0.1, NOW)
        .await
        .unwrap();
    assert_eq!(store.user_version("erase").await.unwrap(), Some(last));
    store.erase_user("erase", NOW).await.unwrap();
    assert_eq!(store.user_version("erase").await.unwrap(), None);
}

memvox_testkit::both_backends!(
    with_store =>
        erasure_takes_open_events_and_refuses_them_again,
        commits_of_erased_callers_write_nothing,
        user_versions_move_with_every_change_and_end_with_erasure;
    with_harness => tombstones_hold_no_personal_data,
);
