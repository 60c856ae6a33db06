//! Where ElevenLabs imports stand, on both backends: an import's state round-trips and is
//! replaced whole; the poll lease goes to one claimant until it expires, and saving a state
//! leaves it alone; pending conversations keep when they were first seen; the events an import
//! would skip are found by type and conversation.

use memvox_store::{ImportState, NewEvent, PendingConversation, Store};

use crate::support::with_store;

const NOW: i64 = 1_767_225_645_000;

fn state(cursor: Option<&str>) -> ImportState {
    ImportState {
        name: "import:agent_1".into(),
        window_after: None,
        window_before: Some(NOW / 1000),
        cursor: cursor.map(str::to_owned),
        imported_until: Some(NOW / 1000 - 3_600),
    }
}

async fn import_state_round_trips_and_is_replaced_whole(store: &dyn Store) {
    assert_eq!(store.import_state("import:agent_1").await.unwrap(), None);
    store
        .save_import_state(&state(Some("c2")), NOW)
        .await
        .unwrap();
    assert_eq!(
        store.import_state("import:agent_1").await.unwrap(),
        Some(state(Some("c2")))
    );
    let finished = ImportState {
        window_before: None,
        imported_until: Some(NOW / 1000),
        ..state(None)
    };
    store.save_import_state(&finished, NOW + 1).await.unwrap();
    assert_eq!(
        store.import_state("import:agent_1").await.unwrap(),
        Some(finished)
    );
    assert_eq!(store.import_state("import:*").await.unwrap(), None);
}

async fn the_lease_goes_to_one_claimant_until_it_expires(store: &dyn Store) {
    assert!(
        store
            .claim_import_lease("poll", NOW, NOW + 600)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_import_lease("poll", NOW + 1, NOW + 601)
            .await
            .unwrap(),
        "held"
    );
    let poll = ImportState {
        name: "poll".into(),
        ..ImportState::default()
    };
    store.save_import_state(&poll, NOW + 2).await.unwrap();
    assert!(
        !store
            .claim_import_lease("poll", NOW + 599, NOW + 1_199)
            .await
            .unwrap(),
        "saving a state keeps the lease"
    );
    assert!(
        store
            .claim_import_lease("poll", NOW + 600, NOW + 1_200)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_import_lease("other", NOW + 1, NOW + 2)
            .await
            .unwrap(),
        "leases are per import"
    );
}

async fn pending_conversations_keep_when_they_were_first_seen(store: &dyn Store) {
    let pending = |id: &str, at: i64| PendingConversation {
        conversation_id: id.into(),
        agent_id: "agent_1".into(),
        first_seen_at: at,
    };
    store
        .add_pending_conversations(&[pending("conv_b", NOW + 5), pending("conv_a", NOW)])
        .await
        .unwrap();
    store
        .add_pending_conversations(&[pending("conv_a", NOW + 9), pending("conv_c", NOW + 7)])
        .await
        .unwrap();
    let listed = store.pending_conversations(10).await.unwrap();
    assert_eq!(
        listed,
        [
            pending("conv_a", NOW),
            pending("conv_b", NOW + 5),
            pending("conv_c", NOW + 7)
        ]
    );
    assert_eq!(store.pending_conversations(1).await.unwrap().len(), 1);
    store
        .remove_pending_conversations(&["conv_a".into(), "conv_c".into(), "conv_x".into()])
        .await
        .unwrap();
    assert_eq!(
        store.pending_conversations(10).await.unwrap(),
        [pending("conv_b", NOW + 5)]
    );
}

async fn stored_conversations_are_found_by_type_and_id(store: &dyn Store) {
    for (event_type, conversation) in [
        ("post_call_transcription", "conv_1"),
        ("post_call_audio", "conv_2"),
    ] {
        let event = NewEvent {
            event_type: event_type.into(),
            conversation_id: conversation.into(),
            event_timestamp: NOW / 1000,
            payload: "{}".into(),
            received_at: NOW,
            traceparent: None,
        };
        store.record_event(&event).await.unwrap();
    }
    let ids: Vec<String> = ["conv_1", "conv_2", "conv_3"].map(str::to_owned).into();
    let stored = store
        .stored_conversations("post_call_transcription", &ids)
        .await
        .unwrap();
    assert_eq!(stored.into_iter().collect::<Vec<_>>(), ["conv_1"]);
    assert!(
        store
            .stored_conversations("post_call_transcription", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

memvox_testkit::both_backends!(
    with_store =>
        import_state_round_trips_and_is_replaced_whole,
        the_lease_goes_to_one_claimant_until_it_expires,
        pending_conversations_keep_when_they_were_first_seen,
        stored_conversations_are_found_by_type_and_id,
);
