//! The store contract: one suite, run against SQLite and PostgreSQL + pgvector in the same run.

use memvox_core::{
    CallOutcome, Conversation, ConversationStatus, LinkKind, MemoryLink, MemoryState, NewMemory,
    Provenance, Role, Sector, Turn,
};
use memvox_store::{
    CallAnalysis, CallRecord, EmbeddingSpace, EventStatus, ExtractionCommit, MemoryEdit,
    MemoryFilter, MemoryOrder, MemoryTally, NewEvent, PlannedMemory, Store, StoreError,
    ToolInvocation,
};
use memvox_testkit::{TestStore, space};

use crate::support::{with_harness, with_store};

pub(crate) const NOW: i64 = 1_767_225_645_000;

pub(crate) fn call(conversation_id: &str, user_id: &str, turns: usize) -> CallRecord {
    CallRecord {
        conversation: Conversation {
            conversation_id: conversation_id.into(),
            agent_id: "agent_1".into(),
            user_id: Some(user_id.into()),
            started_at: NOW - 330_000,
            duration_secs: Some(330),
            status: ConversationStatus::Completed,
            failure_reason: None,
        },
        turns: (0..turns)
            .map(|i| Turn {
                index: i as u32,
                role: if i % 2 == 0 { Role::Agent } else { Role::User },
                message: (i != 2).then(|| format!("turn {i}")),
                time_in_call_secs: i as i64 * 5,
            })
            .collect(),
        analysis: Some(CallAnalysis {
            summary: Some("Caller switched pharmacy.".into()),
            outcome: CallOutcome::Success,
            evaluation: Some(serde_json::json!({"resolved": {"result": "success"}})),
            data_collection: Some(serde_json::json!({"pharmacy": {"value": "Walgreens"}})),
        }),
    }
}

/// A new memory of `user_id` without provenance.
pub(crate) fn memory(user_id: &str, content: &str, sector: Sector, salience: f64) -> NewMemory {
    NewMemory {
        user_id: user_id.into(),
        content: content.into(),
        sector,
        salience,
        provenance: None,
    }
}

fn event(conversation_id: &str, received_at: i64) -> NewEvent {
    NewEvent {
        event_type: "post_call_transcription".into(),
        conversation_id: conversation_id.into(),
        event_timestamp: NOW / 1000,
        payload: format!("{{\"conversation_id\":\"{conversation_id}\"}}"),
        received_at,
        traceparent: None,
    }
}

async fn users_and_caller_identities(store: &dyn Store) {
    assert!(store.get_user("u1").await.unwrap().is_none());
    let user = store.ensure_user("u1", NOW).await.unwrap();
    assert_eq!(user.created_at, NOW);
    assert_eq!(user.total_memories, 0);
    let again = store.ensure_user("u1", NOW + 5).await.unwrap();
    assert_eq!(again.created_at, NOW, "ensure_user must not recreate");

    let bound = store.bind_caller("+14155550199", "u1", NOW).await.unwrap();
    assert_eq!(bound.user_id, "u1");
    let rebound = store
        .bind_caller("+14155550199", "u2", NOW + 1)
        .await
        .unwrap();
    assert_eq!(rebound.user_id, "u1", "an existing binding wins");
    assert_eq!(
        store
            .user_for_caller("+14155550199")
            .await
            .unwrap()
            .as_deref(),
        Some("u1")
    );
    assert!(
        store
            .user_for_caller("+10000000000")
            .await
            .unwrap()
            .is_none()
    );

    store.touch_user("u1", NOW + 100).await.unwrap();
    store.touch_user("u1", NOW + 50).await.unwrap();
    store
        .update_user_profile("u1", Some("Dana"), None)
        .await
        .unwrap();
    let user = store.get_user("u1").await.unwrap().unwrap();
    assert_eq!(
        user.last_interaction,
        Some(NOW + 100),
        "interaction time is monotonic"
    );
    assert_eq!(user.display_name.as_deref(), Some("Dana"));
    assert!(matches!(
        store.update_user_profile("nobody", Some("x"), None).await,
        Err(StoreError::NotFound { .. })
    ));
    store.ensure_user("u2", NOW).await.unwrap();
    let summaries = [
        ("u1".to_owned(), "Calls about refills.".to_owned()),
        ("nobody".to_owned(), "x".to_owned()),
        ("u2".to_owned(), "Prefers mornings.".to_owned()),
        ("u1".to_owned(), "Switched pharmacy.".to_owned()),
    ];
    assert_eq!(
        store.write_user_summaries(&summaries).await.unwrap(),
        2,
        "one update per existing user; an unknown user is skipped"
    );
    for (user_id, summary) in [("u1", "Switched pharmacy."), ("u2", "Prefers mornings.")] {
        let user = store.get_user(user_id).await.unwrap().unwrap();
        assert_eq!(
            user.summary.as_deref(),
            Some(summary),
            "{user_id}: its last summary"
        );
    }
    assert_eq!(store.write_user_summaries(&[]).await.unwrap(), 0);
    assert!(
        store.get_user("nobody").await.unwrap().is_none(),
        "a summary creates no user"
    );
    assert!(matches!(
        store.ensure_user(" ", NOW).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn raw_events_are_idempotent_and_reconcilable(store: &dyn Store) {
    let first = store.record_event(&event("conv_a", NOW)).await.unwrap();
    assert!(first.inserted);
    let duplicate = store
        .record_event(&event("conv_a", NOW + 10))
        .await
        .unwrap();
    assert_eq!(duplicate.id, first.id);
    assert!(!duplicate.inserted);
    let mut other_type = event("conv_a", NOW);
    other_type.event_type = "post_call_audio".into();
    assert!(store.record_event(&other_type).await.unwrap().inserted);

    // A group of deliveries in one transaction: new ones, an earlier one, one twice.
    let group = store
        .record_events(&[
            event("conv_g1", NOW),
            event("conv_a", NOW + 20),
            event("conv_g2", NOW),
            event("conv_g1", NOW + 30),
        ])
        .await
        .unwrap();
    let group: Vec<_> = group.into_iter().map(Option::unwrap).collect();
    assert!(group[0].inserted && group[2].inserted && group[0].id != group[2].id);
    assert_eq!((group[1].id, group[1].inserted), (first.id, false));
    assert_eq!(
        (group[3].id, group[3].inserted),
        (group[0].id, false),
        "a delivery repeated within the group is a duplicate of its first"
    );
    assert!(store.record_events(&[]).await.unwrap().is_empty());

    let stored = store.get_event(first.id).await.unwrap().unwrap();
    assert_eq!(stored.status, EventStatus::Pending);
    assert_eq!(stored.received_at, NOW, "the duplicate changed nothing");
    assert_eq!(stored.payload, "{\"conversation_id\":\"conv_a\"}");

    let second = store
        .record_event(&event("conv_b", NOW + 1_000))
        .await
        .unwrap();
    let stale = store.stale_pending_events(NOW + 500, 10).await.unwrap();
    let ids: Vec<_> = stale.iter().map(|e| e.id).collect();
    assert!(ids.contains(&first.id) && !ids.contains(&second.id));

    store
        .mark_events_published(&[first.id], NOW + 2_000)
        .await
        .unwrap();
    let stale = store.stale_pending_events(NOW + 1_500, 10).await.unwrap();
    assert!(
        stale.iter().all(|e| e.id != first.id),
        "recently published is not stale"
    );

    store
        .finish_event(second.id, EventStatus::Completed, None, NOW + 3_000)
        .await
        .unwrap();
    let done = store.get_event(second.id).await.unwrap().unwrap();
    assert_eq!(done.status, EventStatus::Completed);
    assert_eq!(done.attempts, 1);
    assert!(
        store
            .stale_pending_events(NOW + 10_000, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.id != second.id)
    );
    store
        .finish_event(first.id, EventStatus::DeadLetter, Some("bad payload"), NOW)
        .await
        .unwrap();
    let dead = store.get_event(first.id).await.unwrap().unwrap();
    assert_eq!(dead.error_message.as_deref(), Some("bad payload"));
    store.reopen_event(first.id).await.unwrap();
    let reopened = store.get_event(first.id).await.unwrap().unwrap();
    assert_eq!(reopened.status, EventStatus::Pending);
    assert_eq!(
        reopened.published_at, None,
        "a reopened event is due for publishing"
    );
    assert!(matches!(
        store.reopen_event(999_999).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .finish_event(999_999, EventStatus::Completed, None, NOW)
            .await,
        Err(StoreError::NotFound { .. })
    ));

    // A worker that gave up on an event's message marks a pending row only.
    assert!(
        store
            .abandon_event(first.id, "delivered 6 times", NOW + 20_000)
            .await
            .unwrap()
    );
    let abandoned = store.get_event(first.id).await.unwrap().unwrap();
    assert_eq!(abandoned.status, EventStatus::DeadLetter);
    assert_eq!(
        abandoned.error_message.as_deref(),
        Some("delivered 6 times")
    );
    assert!(
        store
            .stale_pending_events(NOW + 100_000, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.id != first.id),
        "the reconciler leaves an abandoned event"
    );
    assert!(
        !store
            .abandon_event(second.id, "delivered 6 times", NOW)
            .await
            .unwrap(),
        "a completed event stays completed"
    );
    assert_eq!(
        store.get_event(second.id).await.unwrap().unwrap().status,
        EventStatus::Completed
    );
    assert!(!store.abandon_event(999_999, "gone", NOW).await.unwrap());
}

async fn calls_round_trip_and_redelivery_replaces(store: &dyn Store) {
    let record = call("conv_1", "u1", 9);
    store.record_call(&record, NOW).await.unwrap();
    let read = store.get_call("conv_1").await.unwrap().unwrap();
    assert_eq!(read, record);
    assert_eq!(
        read.turns[2].message, None,
        "tool turns keep their index with no text"
    );
    assert_eq!(read.conversation.ended_at(), Some(NOW));

    let mut again = call("conv_1", "u1", 4);
    again.analysis = None;
    store.record_call(&again, NOW).await.unwrap();
    let read = store.get_call("conv_1").await.unwrap().unwrap();
    assert_eq!(read.turns.len(), 4, "turns are replaced, not appended");
    assert_eq!(
        read.analysis, record.analysis,
        "analysis kept when the new delivery has none"
    );
    assert!(store.get_call("conv_missing").await.unwrap().is_none());
    let mut earlier = call("conv_0", "u1", 2);
    earlier.conversation.started_at -= 86_400_000;
    store.record_call(&earlier, NOW).await.unwrap();
    let mut failed = call("conv_f", "u1", 0);
    failed.conversation.status = ConversationStatus::Failed;
    store.record_call(&failed, NOW).await.unwrap();
    assert_eq!(
        store.user_call_times("u1", 10).await.unwrap(),
        vec![NOW - 330_000, NOW - 330_000 - 86_400_000],
        "completed calls, newest first"
    );
    assert_eq!(store.user_call_times("u1", 1).await.unwrap().len(), 1);
    assert!(
        store.get_user("u1").await.unwrap().is_some(),
        "recording a call creates its user"
    );
}

async fn memories_crud_provenance_and_isolation(store: &dyn Store) {
    let orphan = NewMemory {
        provenance: Some(Provenance {
            conversation_id: "conv_none".into(),
            turn_indexes: vec![1],
        }),
        ..memory("u1", "Allergic to peanuts", Sector::Semantic, 0.9)
    };
    assert!(matches!(
        store.insert_memory(&orphan, NOW).await,
        Err(StoreError::Invalid(_))
    ));

    store
        .record_call(&call("conv_1", "u1", 5), NOW)
        .await
        .unwrap();
    let with_source = NewMemory {
        provenance: Some(Provenance {
            conversation_id: "conv_1".into(),
            turn_indexes: vec![1, 3],
        }),
        ..memory("u1", "Allergic to peanuts", Sector::Semantic, 1.7)
    };
    let stored = store.insert_memory(&with_source, NOW).await.unwrap();
    assert_eq!(stored.salience, 1.0, "salience is clamped");
    assert_eq!(stored.state, MemoryState::Active);
    assert_eq!(
        stored.decay_per_day,
        Sector::Semantic.default_decay_per_day()
    );
    assert_eq!(stored.provenance.as_ref().unwrap().turn_indexes, vec![1, 3]);
    assert_eq!(
        store.get_memory("u1", stored.id).await.unwrap().unwrap(),
        stored
    );
    assert!(
        store.get_memory("u2", stored.id).await.unwrap().is_none(),
        "other users see nothing"
    );
    let theirs = store
        .insert_memory(&memory("u2", "Owns a boat", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_memories("u1", &[stored.id, theirs.id, stored.id + 1_000_000])
            .await
            .unwrap(),
        std::slice::from_ref(&stored),
        "a batch read leaves out missing ids and other users' memories"
    );
    assert!(store.get_memories("u1", &[]).await.unwrap().is_empty());

    let feeling = store
        .insert_memory(
            &memory("u1", "Frustrated by billing", Sector::Emotional, 0.4),
            NOW + 1,
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_memory(&memory("u1", "  ", Sector::Semantic, 0.5), NOW)
            .await,
        Err(StoreError::Invalid(_))
    ));

    let by_salience = store
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Salience, 10)
        .await
        .unwrap();
    assert_eq!(
        by_salience.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![stored.id, feeling.id]
    );
    let newest = store
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Newest, 1)
        .await
        .unwrap();
    assert_eq!(newest[0].id, feeling.id);
    let emotional = MemoryFilter {
        sectors: vec![Sector::Emotional],
        ..MemoryFilter::default()
    };
    assert_eq!(
        store
            .list_memories("u1", &emotional, MemoryOrder::Newest, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    let edited = store
        .edit_memory(
            "u1",
            feeling.id,
            &MemoryEdit {
                content: Some("Happy with billing".into()),
                state: Some(MemoryState::Paused),
                ..MemoryEdit::default()
            },
            NOW + 2,
        )
        .await
        .unwrap();
    assert_eq!(edited.content, "Happy with billing");
    assert_eq!(edited.updated_at, NOW + 2);
    let active = store
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Newest, 10)
        .await
        .unwrap();
    assert_eq!(active.len(), 1, "paused memories are hidden by default");
    let paused = MemoryFilter {
        states: vec![MemoryState::Paused],
        ..MemoryFilter::default()
    };
    assert_eq!(
        store
            .list_memories("u1", &paused, MemoryOrder::Newest, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        store
            .edit_memory("u2", feeling.id, &MemoryEdit::default(), NOW)
            .await,
        Err(StoreError::NotFound { .. })
    ));

    let counted = store.get_user("u1").await.unwrap().unwrap();
    assert_eq!(counted.total_memories, 1);
    let profile = store.get_profile("u1").await.unwrap().unwrap();
    assert_eq!(
        profile,
        memvox_core::User {
            total_memories: 0,
            ..counted
        },
        "the same row, uncounted"
    );
    assert!(store.get_profile("nobody").await.unwrap().is_none());
    assert!(!store.delete_memory("u2", feeling.id).await.unwrap());
    assert!(store.delete_memory("u1", feeling.id).await.unwrap());
    assert!(store.get_memory("u1", feeling.id).await.unwrap().is_none());
}

async fn exact_duplicates_and_supersession(store: &dyn Store) {
    let denver = store
        .insert_memory(&memory("u1", "Lives in Denver", Sector::Semantic, 0.6), NOW)
        .await
        .unwrap();
    let austin = store
        .insert_memory(
            &memory("u1", "Lives in Austin", Sector::Semantic, 0.6),
            NOW + 1,
        )
        .await
        .unwrap();
    let dupes = store
        .find_exact_duplicates("u1", "lives in   DENVER.")
        .await
        .unwrap();
    assert_eq!(
        dupes.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![denver.id]
    );
    assert!(
        store
            .find_exact_duplicates("u2", "Lives in Denver")
            .await
            .unwrap()
            .is_empty()
    );
    let ids = |found: &[memvox_core::Memory]| found.iter().map(|m| m.id).collect::<Vec<_>>();
    let batch = store
        .find_exact_duplicates_of(
            "u1",
            &["LIVES IN AUSTIN", "Lives in Boston", "lives in denver"],
        )
        .await
        .unwrap();
    assert_eq!(
        batch.iter().map(|found| ids(found)).collect::<Vec<_>>(),
        [vec![austin.id], vec![], vec![denver.id]],
        "one answer per content, in order"
    );
    assert!(
        store
            .find_exact_duplicates_of("u1", &[])
            .await
            .unwrap()
            .is_empty()
    );

    assert!(matches!(
        store
            .supersede_memory("u1", denver.id, denver.id, NOW)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .supersede_memory("u2", denver.id, austin.id, NOW)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .supersede_memory("u1", denver.id, austin.id, NOW + 5)
        .await
        .unwrap();
    let old = store.get_memory("u1", denver.id).await.unwrap().unwrap();
    assert_eq!(old.superseded_by, Some(austin.id));
    assert_eq!(old.superseded_at, Some(NOW + 5));
    let visible = store
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Newest, 10)
        .await
        .unwrap();
    assert_eq!(
        visible.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![austin.id]
    );
    let audit = MemoryFilter {
        include_superseded: true,
        ..MemoryFilter::default()
    };
    assert_eq!(
        store
            .list_memories("u1", &audit, MemoryOrder::Newest, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    let mut tallies = store.memory_counts("u1").await.unwrap();
    tallies.sort_by_key(|tally| tally.superseded);
    let tally = |superseded| MemoryTally {
        sector: Sector::Semantic,
        state: MemoryState::Active,
        superseded,
        count: 1,
    };
    assert_eq!(tallies, [tally(false), tally(true)], "counted, not read");
    assert!(store.memory_counts("u2").await.unwrap().is_empty());
}

async fn vector_search_ranks_filters_and_isolates(store: &dyn Store) {
    let unit = |v: [f32; 4]| {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.map(|x| x / n).to_vec()
    };
    let tea = store
        .insert_memory(&memory("u1", "Drinks tea", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    let coffee = store
        .insert_memory(
            &memory("u1", "Drinks decaf coffee", Sector::Semantic, 0.5),
            NOW,
        )
        .await
        .unwrap();
    let upset = store
        .insert_memory(
            &memory("u1", "Upset about delays", Sector::Emotional, 0.5),
            NOW,
        )
        .await
        .unwrap();
    let other = store
        .insert_memory(&memory("u2", "Drinks tea too", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    store
        .store_embeddings(
            &[
                (tea.id, unit([1.0, 0.0, 0.0, 0.0])),
                (coffee.id, unit([0.8, 0.6, 0.0, 0.0])),
                (upset.id, unit([0.0, 0.0, 1.0, 0.0])),
                (other.id, unit([1.0, 0.0, 0.0, 0.0])),
            ],
            NOW,
        )
        .await
        .unwrap();
    let query = unit([1.0, 0.1, 0.0, 0.0]);
    let hits = store
        .search_memories("u1", &query, &MemoryFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        vec![tea.id, coffee.id, upset.id]
    );
    assert!(
        (hits[0].similarity
            - f64::from(memvox_core::vector::dot(
                &query,
                &unit([1.0, 0.0, 0.0, 0.0])
            )))
        .abs()
            < 1e-5
    );
    assert!(hits[2].similarity.abs() < 1e-5);

    let top1 = store
        .search_memories("u1", &query, &MemoryFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(top1.len(), 1);
    let emotional = MemoryFilter {
        sectors: vec![Sector::Emotional],
        ..MemoryFilter::default()
    };
    let hits = store
        .search_memories("u1", &query, &emotional, 10)
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        vec![upset.id]
    );
    assert!(
        store
            .search_memories("nobody", &query, &MemoryFilter::default(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    store
        .store_embeddings(&[(tea.id, unit([0.0, 0.0, 0.0, 1.0]))], NOW + 1)
        .await
        .unwrap();
    let hits = store
        .search_memories("u1", &query, &MemoryFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(
        hits[0].memory.id, coffee.id,
        "re-embedding replaces the vector"
    );

    store
        .edit_memory(
            "u1",
            coffee.id,
            &MemoryEdit {
                state: Some(MemoryState::Archived),
                ..MemoryEdit::default()
            },
            NOW,
        )
        .await
        .unwrap();
    let hits = store
        .search_memories("u1", &query, &MemoryFilter::default(), 10)
        .await
        .unwrap();
    assert!(
        hits.iter().all(|h| h.memory.id != coffee.id),
        "archived memories are not searched"
    );

    assert!(matches!(
        store
            .search_memories("u1", &[1.0, 0.0], &MemoryFilter::default(), 3)
            .await,
        Err(StoreError::EmbeddingMismatch {
            dimension: 2,
            stored_dimension: 4,
            ..
        })
    ));
    assert!(matches!(
        store.store_embeddings(&[(tea.id, vec![0.5; 5])], NOW).await,
        Err(StoreError::EmbeddingMismatch { dimension: 5, .. })
    ));
}

async fn similar_memories_are_found_for_a_batch(store: &dyn Store) {
    let unit = |v: [f32; 4]| {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.map(|x| x / n).to_vec()
    };
    let mut ids = Vec::new();
    for (user, content) in [
        ("u1", "Drinks tea"),
        ("u1", "Drinks herbal tea"),
        ("u1", "Drinks decaf coffee"),
        ("u1", "Upset about delays"),
        ("u1", "Not embedded yet"),
        ("u2", "Drinks tea too"),
    ] {
        let stored = store
            .insert_memory(&memory(user, content, Sector::Semantic, 0.5), NOW)
            .await
            .unwrap();
        ids.push(stored.id);
    }
    let [tea, herbal, coffee, upset, bare, other] = ids[..] else {
        unreachable!()
    };
    store
        .store_embeddings(
            &[
                (tea, unit([1.0, 0.0, 0.0, 0.0])),
                (herbal, unit([0.95, 0.05, 0.0, 0.0])),
                (coffee, unit([0.8, 0.6, 0.0, 0.0])),
                (upset, unit([0.0, 0.0, 1.0, 0.0])),
                (other, unit([1.0, 0.0, 0.0, 0.0])),
            ],
            NOW,
        )
        .await
        .unwrap();
    let pairs = |found: Vec<memvox_store::Neighbour>| {
        found
            .iter()
            .map(|n| (n.memory, n.neighbour))
            .collect::<Vec<_>>()
    };
    let filter = MemoryFilter::default();
    let tea_pairs = |user: &'static str, threshold: f64, limit: usize| {
        let filter = filter.clone();
        async move {
            pairs(
                store
                    .similar_memories(user, &[tea], &filter, threshold, limit)
                    .await
                    .unwrap(),
            )
        }
    };
    let found = store
        .similar_memories(
            "u1",
            &[coffee, tea, upset, bare, other, tea],
            &filter,
            0.7,
            5,
        )
        .await
        .unwrap();
    assert_eq!(
        pairs(found.clone()),
        vec![
            (coffee, herbal),
            (coffee, tea),
            (tea, herbal),
            (tea, coffee)
        ],
        "grouped in the order asked, best first, above the threshold, never itself, \
         nothing for a memory without a vector or of another user"
    );
    let tea_coffee = found
        .iter()
        .find(|n| n.memory == tea && n.neighbour == coffee);
    assert!((tea_coffee.unwrap().similarity - 0.8).abs() < 1e-5);
    assert_eq!(
        tea_pairs("u1", 0.7, 1).await,
        vec![(tea, herbal)],
        "at most `limit` per memory"
    );
    assert_eq!(
        tea_pairs("u1", 0.9, 5).await,
        vec![(tea, herbal)],
        "the threshold is strict"
    );
    store
        .edit_memory(
            "u1",
            herbal,
            &MemoryEdit {
                state: Some(MemoryState::Archived),
                ..MemoryEdit::default()
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        tea_pairs("u1", 0.7, 5).await,
        vec![(tea, coffee)],
        "the filter applies to neighbours"
    );
    assert!(
        tea_pairs("u2", 0.0, 5).await.is_empty(),
        "another user's memory has no neighbours"
    );
    assert!(tea_pairs("u1", 0.7, 0).await.is_empty());
}

async fn links_are_upserted_and_reinforced(store: &dyn Store) {
    let a = store
        .insert_memory(&memory("u1", "Uses Salesforce", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    let b = store
        .insert_memory(
            &memory("u1", "Needs Salesforce API help", Sector::Semantic, 0.5),
            NOW,
        )
        .await
        .unwrap();
    let link = |source, target, weight| MemoryLink {
        source,
        target,
        weight,
        kind: LinkKind::Automatic,
    };
    store
        .upsert_links(&[link(a.id, b.id, 0.85), link(b.id, a.id, 0.85)], NOW)
        .await
        .unwrap();
    store
        .upsert_links(&[link(a.id, b.id, 0.82)], NOW + 1)
        .await
        .unwrap();
    let links = store.links_from(&[a.id]).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].target, b.id);
    assert!(
        (links[0].weight - 0.85).abs() < 1e-9,
        "weight keeps the maximum"
    );
    assert_eq!(links[0].kind, LinkKind::Reinforced);
    assert_eq!(store.links_from(&[a.id, b.id]).await.unwrap().len(), 2);
    assert!(matches!(
        store.upsert_links(&[link(a.id, a.id, 1.0)], NOW).await,
        Err(StoreError::Invalid(_))
    ));
    store.delete_memory("u1", b.id).await.unwrap();
    assert!(
        store.links_from(&[a.id]).await.unwrap().is_empty(),
        "links go with their memory"
    );
}

/// Gives `user` one of everything: caller binding, call, event, memories, vectors, links, tool log.
async fn populate(store: &dyn Store, user: &str, conversation: &str, phone: &str) {
    store.bind_caller(phone, user, NOW).await.unwrap();
    store
        .record_call(&call(conversation, user, 6), NOW)
        .await
        .unwrap();
    store.record_event(&event(conversation, NOW)).await.unwrap();
    let first = store
        .insert_memory(
            &NewMemory {
                provenance: Some(Provenance {
                    conversation_id: conversation.into(),
                    turn_indexes: vec![1],
                }),
                ..memory(user, "Switched to Walgreens", Sector::Semantic, 0.8)
            },
            NOW,
        )
        .await
        .unwrap();
    let second = store
        .insert_memory(
            &memory(user, "Prefers mornings", Sector::Procedural, 0.6),
            NOW,
        )
        .await
        .unwrap();
    store
        .store_embeddings(&[(first.id, vec![0.5; 4]), (second.id, vec![0.5; 4])], NOW)
        .await
        .unwrap();
    store
        .upsert_links(
            &[
                MemoryLink {
                    source: first.id,
                    target: second.id,
                    weight: 0.9,
                    kind: LinkKind::Automatic,
                },
                MemoryLink {
                    source: second.id,
                    target: first.id,
                    weight: 0.9,
                    kind: LinkKind::Automatic,
                },
            ],
            NOW,
        )
        .await
        .unwrap();
    let event_id = store
        .record_event(&NewEvent {
            event_type: "post_call_audio".into(),
            ..event(conversation, NOW)
        })
        .await
        .unwrap()
        .id;
    store
        .apply_extraction(&ExtractionCommit {
            event_id,
            call: None,
            bind_caller: None,
            memories: vec![PlannedMemory::Update {
                target: second.id,
                memory: memory(user, "Prefers mornings before 10", Sector::Procedural, 0.6),
            }],
            episodes: Vec::new(),
            now: NOW,
        })
        .await
        .unwrap();
    store
        .log_tool_invocations(&[ToolInvocation {
            tool_name: "memory_query".into(),
            conversation_id: Some(conversation.into()),
            user_id: Some(user.into()),
            request_params: serde_json::json!({"query": "pharmacy"}),
            response_data: Some(serde_json::json!({"memories": []})),
            latency_ms: 3,
            success: true,
            error_message: None,
            created_at: NOW,
        }])
        .await
        .unwrap();
}

async fn erasure_reaches_every_table(harness: &TestStore) {
    let store = harness.store();
    populate(&*store, "keep", "conv_keep", "+14155550100").await;
    let only_keep = harness.table_counts().await;
    populate(&*store, "erase", "conv_erase", "+14155550101").await;
    let both = harness.table_counts().await;
    for (table, count) in &both {
        if *table != "store_meta" {
            assert!(count > &only_keep[table], "populate must touch {table}");
        }
    }
    let receipt = store.erase_user("erase", NOW).await.unwrap();
    assert_eq!(
        harness.table_counts().await,
        only_keep,
        "every row about the user is gone"
    );
    let removed: u64 = both.iter().map(|(t, n)| (n - only_keep[t]) as u64).sum();
    assert_eq!(
        receipt.total(),
        removed,
        "the receipt counts exactly what was removed"
    );
    assert!(store.get_user("erase").await.unwrap().is_none());
    assert!(
        store
            .user_for_caller("+14155550101")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.erase_user("erase", NOW).await.unwrap().total(), 0);
}

async fn embedding_space_is_enforced_on_reopen(harness: &TestStore) {
    let store = harness.store();
    let other = EmbeddingSpace {
        model: "other".into(),
        dimension: 8,
    };
    let empty = harness
        .reopen(other.clone())
        .await
        .expect("an empty store adopts a new space");
    assert_eq!(empty.embedding_space(), &other);
    drop(empty);
    let same = harness
        .reopen(space())
        .await
        .expect("back to the test space while empty");
    let m = same
        .insert_memory(&memory("u1", "x", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    same.store_embeddings(&[(m.id, vec![0.5; 4])], NOW)
        .await
        .unwrap();
    let err = harness
        .reopen(other)
        .await
        .err()
        .expect("mismatch once vectors exist");
    assert!(
        err.to_string()
            .contains("store holds `test-4d` vectors of dimension 4"),
        "{err}"
    );
    assert!(harness.reopen(space()).await.is_ok());
    let none = harness
        .reopen(EmbeddingSpace::none())
        .await
        .expect("a process without vectors opens a store of any space");
    let refused = none
        .store_embeddings(&[(m.id, vec![0.5; 4])], NOW)
        .await
        .expect_err("no vector is stored without a space");
    assert!(
        refused.to_string().contains("without an embedding space"),
        "{refused}"
    );
    assert_eq!(
        harness.reopen(space()).await.unwrap().embedding_space(),
        &space(),
        "no space was recorded"
    );
    store.ping().await.unwrap();
}

fn sourced(user: &str, content: &str, conversation: &str, turn: u32) -> NewMemory {
    NewMemory {
        provenance: Some(Provenance {
            conversation_id: conversation.into(),
            turn_indexes: vec![turn],
        }),
        ..memory(user, content, Sector::Semantic, 0.5)
    }
}

async fn extraction_commits_once_per_event(store: &dyn Store) {
    let event_id = store.record_event(&event("conv_x", NOW)).await.unwrap().id;
    let commit = ExtractionCommit {
        event_id,
        call: Some(call("conv_x", "u1", 4)),
        bind_caller: Some(("+14155550199".into(), "u1".into())),
        memories: vec![
            PlannedMemory::Add(sourced("u1", "Switched to Walgreens", "conv_x", 1)),
            PlannedMemory::Add(sourced("u1", "Allergic to peanuts", "conv_x", 3)),
        ],
        episodes: Vec::new(),
        now: NOW,
    };
    let first = store.apply_extraction(&commit).await.unwrap();
    assert!(!first.already_applied);
    assert_eq!(first.memory_ids.len(), 2);
    assert_eq!(
        store.get_event(event_id).await.unwrap().unwrap().status,
        EventStatus::Completed
    );
    assert!(store.get_call("conv_x").await.unwrap().is_some());
    assert_eq!(
        store
            .user_for_caller("+14155550199")
            .await
            .unwrap()
            .as_deref(),
        Some("u1")
    );
    assert_eq!(
        store
            .get_user("u1")
            .await
            .unwrap()
            .unwrap()
            .last_interaction,
        Some(NOW)
    );

    let again = store.apply_extraction(&commit).await.unwrap();
    assert!(again.already_applied);
    assert_eq!(
        again.memory_ids, first.memory_ids,
        "the first run's results are returned"
    );
    let all = store
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Newest, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "a second application writes nothing");

    let dead = store
        .record_event(&event("conv_dead", NOW))
        .await
        .unwrap()
        .id;
    store
        .finish_event(dead, EventStatus::DeadLetter, Some("garbage"), NOW)
        .await
        .unwrap();
    let err = store
        .apply_extraction(&ExtractionCommit {
            event_id: dead,
            ..commit.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}

async fn concurrent_applications_of_one_event_write_once(store: &dyn Store) {
    store
        .record_call(&call("conv_y", "u1", 4), NOW)
        .await
        .unwrap();
    let event_id = store.record_event(&event("conv_y", NOW)).await.unwrap().id;
    let commit = ExtractionCommit {
        event_id,
        call: Some(call("conv_y", "u1", 4)),
        bind_caller: None,
        memories: vec![PlannedMemory::Add(sourced(
            "u1",
            "Has a dog named Biscuit",
            "conv_y",
            1,
        ))],
        episodes: Vec::new(),
        now: NOW,
    };
    let (a, b) = tokio::join!(
        store.apply_extraction(&commit),
        store.apply_extraction(&commit)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(
        a.already_applied, b.already_applied,
        "exactly one run applies"
    );
    assert_eq!(a.memory_ids, b.memory_ids);
    let all = store
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Newest, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

async fn extraction_updates_supersedes_and_reinforces(store: &dyn Store) {
    store
        .record_call(&call("conv_1", "u1", 4), NOW)
        .await
        .unwrap();
    let denver = store
        .insert_memory(&memory("u1", "Lives in Denver", Sector::Semantic, 0.6), NOW)
        .await
        .unwrap();
    let email = store
        .insert_memory(&memory("u1", "Prefers email", Sector::Procedural, 0.5), NOW)
        .await
        .unwrap();
    let tea = store
        .insert_memory(&memory("u1", "Drinks tea", Sector::Semantic, 0.9), NOW)
        .await
        .unwrap();
    let event_id = store.record_event(&event("conv_2", NOW)).await.unwrap().id;
    let later = NOW + 86_400_000;
    // The call happened a day later: its changes carry its time.
    let mut second = call("conv_2", "u1", 4);
    second.conversation.started_at = later;
    let outcome = store
        .apply_extraction(&ExtractionCommit {
            event_id,
            call: Some(second),
            bind_caller: None,
            memories: vec![
                PlannedMemory::Add(sourced("u1", "Has a dog named Rex", "conv_2", 0)),
                PlannedMemory::Add(sourced("u1", "Works as a nurse", "conv_2", 2)),
                PlannedMemory::Supersede {
                    target: denver.id,
                    replacement: sourced("u1", "Lives in Austin", "conv_2", 1),
                },
                PlannedMemory::Add(sourced("u1", "Likes jazz", "conv_2", 3)),
                PlannedMemory::Update {
                    target: email.id,
                    memory: sourced("u1", "Prefers email, not phone", "conv_2", 3),
                },
                PlannedMemory::Reinforce {
                    user_id: "u1".into(),
                    target: tea.id,
                    provenance: None,
                },
                PlannedMemory::Reinforce {
                    user_id: "u1".into(),
                    target: 999_999,
                    provenance: None,
                },
            ],
            episodes: Vec::new(),
            now: later,
        })
        .await
        .unwrap();
    assert_eq!(
        outcome.memory_ids.len(),
        6,
        "a vanished reinforce target is skipped"
    );
    // Additions written together keep their places among the other changes.
    let mut contents = Vec::new();
    for id in &outcome.memory_ids {
        let memory = store.get_memory("u1", *id).await.unwrap().unwrap();
        contents.push(memory.content);
    }
    assert_eq!(
        contents,
        [
            "Has a dog named Rex",
            "Works as a nurse",
            "Lives in Austin",
            "Likes jazz",
            "Prefers email, not phone",
            "Drinks tea"
        ]
    );
    let nurse = store
        .get_memory("u1", outcome.memory_ids[1])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        nurse.created_at, later,
        "an addition carries the call's time"
    );
    assert_eq!(nurse.provenance.unwrap().turn_indexes, [2]);

    let old = store.get_memory("u1", denver.id).await.unwrap().unwrap();
    assert_eq!(old.superseded_by, Some(outcome.memory_ids[2]));
    let austin = store
        .get_memory("u1", outcome.memory_ids[2])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(austin.content, "Lives in Austin");
    assert_eq!(austin.provenance.unwrap().conversation_id, "conv_2");

    let merged = store.get_memory("u1", email.id).await.unwrap().unwrap();
    assert_eq!(merged.content, "Prefers email, not phone");
    assert!(
        (merged.salience - 0.55).abs() < 1e-9,
        "max(0.5, 0.5) + 0.05"
    );
    assert_eq!(merged.last_seen_at, later);
    let history = store.memory_page("u1", None, 1_000).await.unwrap().1;
    assert_eq!(history, vec![(email.id, "Prefers email".to_owned(), later)]);
    assert!(
        store
            .memory_page("u2", None, 1_000)
            .await
            .unwrap()
            .1
            .is_empty()
    );

    let reinforced = store.get_memory("u1", tea.id).await.unwrap().unwrap();
    assert!((reinforced.salience - 0.95).abs() < 1e-9);
    assert_eq!(reinforced.last_seen_at, later);

    let recalled = store
        .reinforce_memories("u1", &[tea.id, email.id], 0.1, later + 5)
        .await
        .unwrap();
    assert_eq!(recalled, 2);
    assert_eq!(
        store
            .get_memory("u1", tea.id)
            .await
            .unwrap()
            .unwrap()
            .salience,
        1.0,
        "capped"
    );
    assert_eq!(
        store
            .get_memory("u1", email.id)
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        later + 5
    );
    assert_eq!(
        store
            .reinforce_memories("u2", &[tea.id], 0.1, later)
            .await
            .unwrap(),
        0
    );
}

/// `count` semantic facts of `u1` ("fact 0", …, salience 0.5) with seeded random unit vectors,
/// as (id, vector) in insertion order.
async fn embedded_facts(
    store: &dyn Store,
    count: usize,
    seed: u64,
) -> Vec<(memvox_core::MemoryId, Vec<f32>)> {
    use rand::SeedableRng as _;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut vectors = Vec::new();
    for i in 0..count {
        let stored = store
            .insert_memory(
                &memory("u1", &format!("fact {i}"), Sector::Semantic, 0.5),
                NOW,
            )
            .await
            .unwrap();
        vectors.push((stored.id, random_unit(&mut rng)));
    }
    store.store_embeddings(&vectors, NOW).await.unwrap();
    vectors
}

/// A unit vector from a seeded generator.
fn random_unit(rng: &mut rand::rngs::StdRng) -> Vec<f32> {
    use rand::Rng as _;
    let v: Vec<f32> = (0..4).map(|_| rng.random_range(-1.0..1.0)).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    v.into_iter().map(|x| x / n).collect()
}

/// The ids an exact ranking by dot product gives (ties by id), computed here.
fn exact_top(
    vectors: &[(memvox_core::MemoryId, Vec<f32>)],
    query: &[f32],
    limit: usize,
) -> Vec<i64> {
    let mut scored: Vec<(f32, i64)> = vectors
        .iter()
        .map(|(id, v)| (v.iter().zip(query).map(|(a, b)| a * b).sum(), *id))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(limit).map(|(_, id)| id).collect()
}

/// Search through the cached per-user index equals an exact ranking, and what another store
/// instance on the same database writes (another process, with its own cache) is seen by the
/// very next search: a new vector, a replaced vector, a deletion, an erasure.
async fn index_search_is_exact_and_sees_other_writers(harness: &TestStore) {
    use rand::SeedableRng as _;
    let reader = harness.store();
    let writer = harness.reopen(space()).await.unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut vectors = Vec::new();
    for i in 0..300 {
        let stored = writer
            .insert_memory(
                &memory("u1", &format!("fact {i}"), Sector::ALL[i % 5], 0.5),
                NOW,
            )
            .await
            .unwrap();
        vectors.push((stored.id, random_unit(&mut rng)));
    }
    writer.store_embeddings(&vectors, NOW).await.unwrap();
    let all = MemoryFilter::default();
    for _ in 0..25 {
        let query = random_unit(&mut rng);
        let hits = reader
            .search_memories("u1", &query, &all, 10)
            .await
            .unwrap();
        let ids: Vec<i64> = hits.iter().map(|h| h.memory.id).collect();
        assert_eq!(ids, exact_top(&vectors, &query, 10));
        let best: f32 = vectors
            .iter()
            .find(|(id, _)| *id == ids[0])
            .map(|(_, v)| v.iter().zip(&query).map(|(a, b)| a * b).sum())
            .unwrap();
        assert!((hits[0].similarity - f64::from(best)).abs() < 1e-4);
    }
    let semantic = MemoryFilter {
        sectors: vec![Sector::Semantic],
        ..MemoryFilter::default()
    };
    let query = random_unit(&mut rng);
    let hits = reader
        .search_memories("u1", &query, &semantic, 5)
        .await
        .unwrap();
    let semantic_vectors: Vec<_> = vectors
        .iter()
        .enumerate()
        .filter(|(i, _)| Sector::ALL[i % 5] == Sector::Semantic)
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(
        hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        exact_top(&semantic_vectors, &query, 5)
    );

    // A new memory written elsewhere, pointing exactly at the query: the next search finds it.
    let fresh = writer
        .insert_memory(&memory("u1", "fresh fact", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    writer
        .store_embeddings(&[(fresh.id, query.clone())], NOW)
        .await
        .unwrap();
    let top = reader.search_memories("u1", &query, &all, 1).await.unwrap();
    assert_eq!(top[0].memory.id, fresh.id);

    // An old memory's vector replaced elsewhere: ranked by its new vector at once.
    let moved = vectors[0].0;
    let target = random_unit(&mut rng);
    writer
        .store_embeddings(&[(moved, target.clone())], NOW)
        .await
        .unwrap();
    let top = reader
        .search_memories("u1", &target, &all, 1)
        .await
        .unwrap();
    assert_eq!(top[0].memory.id, moved);

    // Deleted elsewhere: gone, and the rest still ranks exactly.
    assert!(writer.delete_memory("u1", moved).await.unwrap());
    let top = reader
        .search_memories("u1", &target, &all, 3)
        .await
        .unwrap();
    assert!(top.iter().all(|h| h.memory.id != moved));
    vectors.retain(|(id, _)| *id != moved);
    vectors.push((fresh.id, query));
    assert_eq!(
        top.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        exact_top(&vectors, &target, 3)
    );

    // Erased elsewhere and created again with one new memory: only that one is found.
    writer.erase_user("u1", NOW).await.unwrap();
    assert!(
        reader
            .search_memories("u1", &target, &all, 5)
            .await
            .unwrap()
            .is_empty()
    );
    let again = writer
        .insert_memory(&memory("u1", "a new life", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    writer
        .store_embeddings(&[(again.id, target.clone())], NOW)
        .await
        .unwrap();
    let top = reader
        .search_memories("u1", &target, &all, 5)
        .await
        .unwrap();
    assert_eq!(
        top.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        vec![again.id]
    );
}

/// The pipeline's searches (memories like a call, neighbours to link) read an uncached caller
/// afresh and leave the cache to the answers; a caller cached by a query is searched from it.
async fn pipeline_searches_leave_the_cache_to_answers(harness: &TestStore) {
    let store = harness.store();
    let vectors = embedded_facts(store.as_ref(), 120, 13).await;
    let filter = MemoryFilter::default();
    let found = store
        .search_memories("u1", &vectors[7].1, &filter, 3)
        .await
        .unwrap();
    assert_eq!(found[0].memory.id, vectors[7].0);
    let neighbours = store
        .similar_memories("u1", &[vectors[7].0], &filter, -1.0, 2)
        .await
        .unwrap();
    assert_eq!(neighbours.len(), 2);
    assert!(
        store.warm_view("u1").await.unwrap().is_none(),
        "not cached by the pipeline"
    );
    let view = store.user_view("u1").await.unwrap();
    assert!(
        store.warm_view("u1").await.unwrap().is_some(),
        "cached by a query"
    );
    let from_cache = store
        .search_memories("u1", &vectors[7].1, &filter, 3)
        .await
        .unwrap();
    assert_eq!(from_cache, view.search(&vectors[7].1, &filter, 3).unwrap());
    assert_eq!(from_cache, found);
}

/// A warm view (an index cached by a reader) answers with what another store instance on the
/// same database wrote since: an edited text, a pause, a new link, and a recall's salience —
/// the last without reloading the index or moving the answers' version.
async fn warm_views_see_other_writers(harness: &TestStore) {
    let reader = harness.store();
    let writer = harness.reopen(space()).await.unwrap();
    let vectors = embedded_facts(writer.as_ref(), 120, 12).await;
    let (first, second) = (vectors[0].0, vectors[1].0);
    assert!(reader.warm_view("u1").await.unwrap().is_none(), "cold");
    let warm = reader.user_view("u1").await.unwrap();
    let cached = reader.warm_view("u1").await.unwrap().expect("loaded: warm");
    let listed = reader
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Salience, 20)
        .await
        .unwrap();
    assert_eq!(cached.most_salient(&MemoryFilter::default(), 20), listed);
    assert_eq!(warm.len(), 120);
    let version = warm.version().unwrap();
    let recalled = |view: &memvox_store::UserView| view.memories(&[first])[0].clone();
    assert_eq!(recalled(&warm).salience, 0.5);

    writer
        .reinforce_memories("u1", &[first], 0.25, NOW + 10)
        .await
        .unwrap();
    let view = reader.user_view("u1").await.unwrap();
    assert_eq!(view.version(), Some(version), "a recall moves no answer");
    let memory = recalled(&view);
    assert!((memory.salience - 0.75).abs() < 1e-9);
    assert_eq!(memory.last_seen_at, NOW + 10);
    let hit = view
        .search(&vectors[0].1, &MemoryFilter::default(), 1)
        .unwrap();
    assert!(
        (hit[0].memory.salience - 0.75).abs() < 1e-9,
        "hits carry it too"
    );

    writer
        .upsert_links(
            &[MemoryLink {
                source: first,
                target: second,
                weight: 0.9,
                kind: LinkKind::Automatic,
            }],
            NOW + 11,
        )
        .await
        .unwrap();
    let view = reader.user_view("u1").await.unwrap();
    assert_eq!(view.links_from(first), [(second, 0.9)]);
    assert!(view.links_from(second).is_empty());

    let edit = MemoryEdit {
        content: Some("fact zero, edited".into()),
        ..MemoryEdit::default()
    };
    writer
        .edit_memory("u1", first, &edit, NOW + 12)
        .await
        .unwrap();
    let view = reader.user_view("u1").await.unwrap();
    assert_eq!(recalled(&view).content, "fact zero, edited");
    assert!((recalled(&view).salience - 0.75).abs() < 1e-9);

    let pause = MemoryEdit {
        state: Some(MemoryState::Paused),
        ..MemoryEdit::default()
    };
    writer
        .edit_memory("u1", second, &pause, NOW + 13)
        .await
        .unwrap();
    let view = reader.user_view("u1").await.unwrap();
    let hits = view
        .search(&vectors[1].1, &MemoryFilter::default(), 3)
        .unwrap();
    assert!(
        hits.iter().all(|h| h.memory.id != second),
        "paused: not found"
    );

    writer.erase_user("u1", NOW + 14).await.unwrap();
    let gone = reader.user_view("u1").await.unwrap();
    assert!(gone.is_empty() && gone.version().is_none());
}

/// A group of commits is applied in order in one transaction: a later commit sees an earlier
/// one's writes, a commit already applied is reported as such, and one failing commit leaves
/// every other of the group unwritten.
async fn group_commits_apply_in_order_or_not_at_all(store: &dyn Store) {
    let commit = |event_id: i64, conversation: &str, content: &str| ExtractionCommit {
        event_id,
        call: Some(call(conversation, "u1", 2)),
        bind_caller: None,
        memories: vec![PlannedMemory::Add(sourced("u1", content, conversation, 1))],
        episodes: Vec::new(),
        now: NOW,
    };
    let a = store.record_event(&event("conv_ga", NOW)).await.unwrap().id;
    let b = store.record_event(&event("conv_gb", NOW)).await.unwrap().id;
    let c = store.record_event(&event("conv_gc", NOW)).await.unwrap().id;
    let first = store
        .apply_extraction(&commit(a, "conv_ga", "Lives in Denver"))
        .await
        .unwrap();

    let broken = ExtractionCommit {
        memories: vec![PlannedMemory::Add(sourced(
            "u1",
            "Cites nothing",
            "conv_unrecorded",
            1,
        ))],
        ..commit(c, "conv_gc", "Has a cat")
    };
    let err = store
        .apply_extractions(&[&commit(b, "conv_gb", "Drives a Volvo"), &broken])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    for id in [b, c] {
        assert_eq!(
            store.get_event(id).await.unwrap().unwrap().status,
            EventStatus::Pending,
            "a failed group writes none of its events"
        );
    }
    assert!(store.get_call("conv_gb").await.unwrap().is_none());

    let moved = ExtractionCommit {
        memories: vec![PlannedMemory::Supersede {
            target: first.memory_ids[0],
            replacement: sourced("u1", "Lives in Austin", "conv_gc", 1),
        }],
        ..commit(c, "conv_gc", "")
    };
    let outcomes = store
        .apply_extractions(&[
            &commit(a, "conv_ga", "Lives in Denver"),
            &commit(b, "conv_gb", "Drives a Volvo"),
            &moved,
        ])
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes[0].already_applied);
    assert_eq!(outcomes[0].memory_ids, first.memory_ids);
    assert!(!outcomes[1].already_applied && !outcomes[2].already_applied);
    let active: Vec<String> = store
        .list_memories("u1", &MemoryFilter::default(), MemoryOrder::Newest, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(active, ["Lives in Austin", "Drives a Volvo"]);
    for id in [a, b, c] {
        assert_eq!(
            store.get_event(id).await.unwrap().unwrap().status,
            EventStatus::Completed
        );
    }

    // One event twice in a group, and a conversation recorded by two of its events.
    let d = store.record_event(&event("conv_gd", NOW)).await.unwrap().id;
    let e = store.record_event(&event("conv_ge", NOW)).await.unwrap().id;
    let chess = commit(d, "conv_gd", "Plays chess");
    let recorded_again = ExtractionCommit {
        call: Some(call("conv_gd", "u1", 4)),
        ..commit(e, "conv_gd", "Has a cat")
    };
    let outcomes = store
        .apply_extractions(&[&chess, &chess, &recorded_again])
        .await
        .unwrap();
    assert!(!outcomes[0].already_applied && outcomes[1].already_applied);
    assert_eq!(
        outcomes[1].memory_ids, outcomes[0].memory_ids,
        "applied again in its own group: the first application's ids"
    );
    let again = store.apply_extraction(&chess).await.unwrap();
    assert_eq!(
        again.memory_ids, outcomes[0].memory_ids,
        "and once committed"
    );
    let recorded = store.get_call("conv_gd").await.unwrap().unwrap();
    assert_eq!(
        recorded.turns.len(),
        4,
        "a conversation recorded twice in a group keeps its last recording"
    );
    assert!(recorded.analysis.is_some());
}

/// The export's pages: every memory of the user once, in the order written, each page with
/// its memories' history only; another user's memories never.
async fn memory_pages_cover_a_user_once_with_history(store: &dyn Store) {
    let mut ids = Vec::new();
    for content in ["Likes tea", "Lives in Lyon", "Has a cat"] {
        let memory = memory("u1", content, Sector::Semantic, 0.5);
        ids.push(store.insert_memory(&memory, NOW).await.unwrap().id);
    }
    store
        .insert_memory(&memory("u2", "Someone else", Sector::Semantic, 0.5), NOW)
        .await
        .unwrap();
    let edit = MemoryEdit {
        content: Some("Lives in Paris".into()),
        ..MemoryEdit::default()
    };
    store
        .edit_memory("u1", ids[1], &edit, NOW + 1)
        .await
        .unwrap();
    store
        .edit_memory(
            "u1",
            ids[2],
            &MemoryEdit {
                content: Some("Has two cats".into()),
                ..MemoryEdit::default()
            },
            NOW + 2,
        )
        .await
        .unwrap();

    let (first, history) = store.memory_page("u1", None, 2).await.unwrap();
    assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..2]);
    assert_eq!(history, [(ids[1], "Lives in Lyon".to_owned(), NOW + 1)]);
    let (second, history) = store.memory_page("u1", Some(ids[1]), 2).await.unwrap();
    assert_eq!(second.iter().map(|m| m.id).collect::<Vec<_>>(), ids[2..]);
    assert_eq!(second[0].content, "Has two cats");
    assert_eq!(history, [(ids[2], "Has a cat".to_owned(), NOW + 2)]);
    let (rest, history) = store.memory_page("u1", Some(ids[2]), 2).await.unwrap();
    assert!(rest.is_empty() && history.is_empty());
    assert!(
        store
            .memory_page("nobody", None, 2)
            .await
            .unwrap()
            .0
            .is_empty()
    );
}

memvox_testkit::both_backends!(
    with_store =>
        users_and_caller_identities,
        raw_events_are_idempotent_and_reconcilable,
        memory_pages_cover_a_user_once_with_history,
        calls_round_trip_and_redelivery_replaces,
        memories_crud_provenance_and_isolation,
        exact_duplicates_and_supersession,
        vector_search_ranks_filters_and_isolates,
        similar_memories_are_found_for_a_batch,
        links_are_upserted_and_reinforced,
        extraction_commits_once_per_event,
        concurrent_applications_of_one_event_write_once,
        group_commits_apply_in_order_or_not_at_all,
        extraction_updates_supersedes_and_reinforces;
    with_harness =>
        erasure_reaches_every_table,
        embedding_space_is_enforced_on_reopen,
        index_search_is_exact_and_sees_other_writers,
        warm_views_see_other_writers,
        pipeline_searches_leave_the_cache_to_answers,
);
