//! Episodes on both backends: written with the call in the extraction transaction, once under
//! redelivery and group commit, stamped with the call's time, searchable only when asked for,
//! exported with the facts and erased with the user.

use memvox_core::{
    Conversation, ConversationStatus, EpisodeWindows, MemoryKind, MemoryState, NewMemory,
    Provenance, Role, Sector, Turn,
};
use memvox_store::{
    CallRecord, ExtractionCommit, MemoryFilter, MemoryOrder, NewEvent, PlannedMemory, Store,
};
use memvox_testkit::TestStore;

use crate::support::{with_harness, with_store};

const NOW: i64 = 1_767_225_645_000;
/// The call happened long before it was processed (an import, or a replay).
const CALL_AT: i64 = 1_683_552_960_000;

fn call(conversation_id: &str, user_id: &str) -> CallRecord {
    let lines = [
        (Role::Agent, "Hello, how can I help you today?"),
        (
            Role::User,
            "I'd like to book a cleaning for my dog Biscuit.",
        ),
        (Role::Agent, "Which day suits you?"),
        (Role::User, "Thursday the ninth, in the morning."),
        (Role::Agent, "Booked. Anything else?"),
        (Role::User, "No, thanks."),
    ];
    CallRecord {
        conversation: Conversation {
            conversation_id: conversation_id.into(),
            agent_id: "agent_1".into(),
            user_id: Some(user_id.into()),
            started_at: CALL_AT,
            duration_secs: Some(60),
            status: ConversationStatus::Completed,
            failure_reason: None,
        },
        turns: lines
            .iter()
            .enumerate()
            .map(|(i, (role, text))| Turn {
                index: i as u32,
                role: *role,
                message: Some((*text).to_owned()),
                time_in_call_secs: i as i64 * 10,
            })
            .collect(),
        analysis: None,
    }
}

async fn commit_for(store: &dyn Store, conversation: &str, user: &str) -> ExtractionCommit {
    let event = store
        .record_event(&NewEvent {
            event_type: "post_call_transcription".into(),
            conversation_id: conversation.into(),
            event_timestamp: CALL_AT / 1000,
            payload: "{}".into(),
            received_at: NOW,
            traceparent: None,
        })
        .await
        .unwrap();
    let recorded = call(conversation, user);
    let episodes = EpisodeWindows::default().cut(&recorded.turns, CALL_AT);
    ExtractionCommit {
        event_id: event.id,
        memories: vec![PlannedMemory::Add(NewMemory {
            user_id: user.into(),
            content: "Has a dog named Biscuit".into(),
            sector: Sector::Semantic,
            salience: 0.7,
            provenance: Some(Provenance {
                conversation_id: conversation.into(),
                turn_indexes: vec![1],
            }),
        })],
        call: Some(recorded),
        bind_caller: None,
        episodes,
        now: NOW,
    }
}

fn episodes_only() -> MemoryFilter {
    MemoryFilter {
        kinds: vec![MemoryKind::Episode],
        ..MemoryFilter::default()
    }
}

async fn list(store: &dyn Store, user: &str, filter: &MemoryFilter) -> Vec<memvox_core::Memory> {
    store
        .list_memories(user, filter, MemoryOrder::Newest, 100)
        .await
        .unwrap()
}

async fn episodes_are_written_once_with_the_call_at_its_time(store: &dyn Store) {
    let commit = commit_for(store, "conv_ep", "u1").await;
    let first = store.apply_extraction(&commit).await.unwrap();
    assert_eq!(first.memory_ids.len(), 4, "one fact, then three episodes");
    let again = store.apply_extraction(&commit).await.unwrap();
    assert!(again.already_applied);
    assert_eq!(
        again.memory_ids, first.memory_ids,
        "redelivery writes nothing"
    );

    let facts = list(store, "u1", &MemoryFilter::default()).await;
    assert_eq!(facts.len(), 1, "listings keep to facts unless asked");
    assert_eq!(facts[0].kind, MemoryKind::Fact);
    assert_eq!(
        facts[0].created_at, CALL_AT,
        "a fact carries its call's time"
    );
    assert_eq!(facts[0].last_seen_at, CALL_AT);

    let mut episodes = list(store, "u1", &episodes_only()).await;
    episodes.sort_by_key(|m| m.id);
    assert_eq!(episodes.len(), 3);
    assert_eq!(
        episodes[0].content,
        "agent: Hello, how can I help you today?\ncaller: I'd like to book a cleaning for my dog \
         Biscuit.\nagent: Which day suits you?",
        "the turn before as context, the agent's reply after it"
    );
    assert_eq!(episodes[0].kind, MemoryKind::Episode);
    assert_eq!(episodes[0].sector, Sector::Episodic);
    assert_eq!(
        episodes[0].created_at,
        CALL_AT + 10_000,
        "said 10 s into the call"
    );
    assert_eq!(episodes[1].created_at, CALL_AT + 30_000);
    assert_eq!(
        episodes[1].provenance,
        Some(Provenance {
            conversation_id: "conv_ep".into(),
            turn_indexes: vec![2, 3, 4],
        })
    );
    assert_eq!(
        store.get_user("u1").await.unwrap().unwrap().total_memories,
        1,
        "a user's memory count is of facts"
    );
    assert!(
        store
            .find_exact_duplicates("u1", &episodes[2].content)
            .await
            .unwrap()
            .is_empty(),
        "episodes are not facts to deduplicate against"
    );

    let vectors: Vec<(i64, Vec<f32>)> = first
        .memory_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut v = vec![0.0; 4];
            v[i] = 1.0;
            (*id, v)
        })
        .collect();
    store.store_embeddings(&vectors, NOW).await.unwrap();
    let query = [0.0, 0.0, 1.0, 0.0];
    let facts_hit = store
        .search_memories("u1", &query, &MemoryFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(facts_hit[0].memory.kind, MemoryKind::Fact);
    let both = store
        .search_memories("u1", &query, &MemoryFilter::both_layers(), 1)
        .await
        .unwrap();
    assert_eq!(
        both[0].memory.id, first.memory_ids[2],
        "the nearest episode"
    );
    let lexical = store
        .search_lexical(
            "u1",
            "Thursday morning",
            &query,
            &MemoryFilter::both_layers(),
            5,
            0,
        )
        .await
        .unwrap();
    assert_eq!(lexical.hits.len(), 1);
    assert_eq!(lexical.hits[0].memory.id, episodes[1].id);
    let reply_only = store
        .search_lexical("u1", "else", &query, &MemoryFilter::both_layers(), 5, 0)
        .await
        .unwrap();
    assert_eq!(
        reply_only.hits.len(),
        1,
        "a reply is searched only in the episode whose context it is"
    );
    assert_eq!(reply_only.hits[0].memory.id, episodes[2].id);
}

async fn group_commits_write_each_calls_episodes_once(store: &dyn Store) {
    let a = commit_for(store, "conv_a", "ua").await;
    let b = commit_for(store, "conv_b", "ub").await;
    let outcomes = store.apply_extractions(&[&a, &b]).await.unwrap();
    assert!(outcomes.iter().all(|o| o.memory_ids.len() == 4));
    let again = store.apply_extractions(&[&a, &b]).await.unwrap();
    assert!(again.iter().all(|o| o.already_applied));
    for user in ["ua", "ub"] {
        assert_eq!(list(store, user, &episodes_only()).await.len(), 3);
    }
}

async fn recording_a_call_again_replaces_its_episodes(store: &dyn Store) {
    let first = commit_for(store, "conv_r", "u1").await;
    store.apply_extraction(&first).await.unwrap();
    let mut second = commit_for(store, "conv_r", "u1").await;
    second.memories.clear();
    second.episodes.truncate(1);
    // The same conversation, delivered as another event (a replay of an edited transcript).
    second.event_id = store
        .record_event(&NewEvent {
            event_type: "post_call_transcription_replay".into(),
            conversation_id: "conv_r".into(),
            event_timestamp: CALL_AT / 1000,
            payload: "{}".into(),
            received_at: NOW,
            traceparent: None,
        })
        .await
        .unwrap()
        .id;
    store.apply_extraction(&second).await.unwrap();
    assert_eq!(list(store, "u1", &episodes_only()).await.len(), 1);
}

async fn episodes_are_exported_and_erased_with_the_user(harness: &TestStore) {
    let store = harness.store();
    let commit = commit_for(&*store, "conv_x", "gone").await;
    store.apply_extraction(&commit).await.unwrap();
    let keep = commit_for(&*store, "conv_k", "kept").await;
    store.apply_extraction(&keep).await.unwrap();
    let everything = MemoryFilter {
        states: MemoryState::ALL.to_vec(),
        include_superseded: true,
        ..MemoryFilter::both_layers()
    };
    assert_eq!(list(&*store, "gone", &everything).await.len(), 4);
    let before = harness.raw_column("memories", "content").await.len();
    store.erase_user("gone", NOW).await.unwrap();
    assert!(list(&*store, "gone", &everything).await.is_empty());
    assert_eq!(
        harness.raw_column("memories", "content").await.len(),
        before - 4,
        "the erased caller's episodes are gone, the other's stay"
    );
    assert_eq!(list(&*store, "kept", &everything).await.len(), 4);
}

/// A call's episodes are found by their words as soon as the call is committed, before the
/// embedding worker gives them vectors, also for a caller whose index is cached; the kind
/// filter picks the layer.
async fn a_new_calls_episodes_are_found_by_their_words_before_their_vectors(store: &dyn Store) {
    let mut earlier = Vec::new();
    for i in 0..120 {
        let stored = store
            .insert_memory(
                &NewMemory {
                    user_id: "u1".into(),
                    content: format!("Earlier note {i}"),
                    sector: Sector::Semantic,
                    salience: 0.5,
                    provenance: None,
                },
                NOW,
            )
            .await
            .unwrap();
        earlier.push((stored.id, vec![0.5_f32; 4]));
    }
    store.store_embeddings(&earlier, NOW).await.unwrap();
    let query = [0.5_f32; 4];
    let search = |filter: MemoryFilter| async move {
        store
            .search_lexical("u1", "Biscuit on Thursday", &query, &filter, 10, 100)
            .await
            .unwrap()
    };
    assert!(search(MemoryFilter::both_layers()).await.hits.is_empty());

    let commit = commit_for(store, "conv_new", "u1").await;
    store.apply_extraction(&commit).await.unwrap();
    let both = search(MemoryFilter::both_layers()).await;
    let mut kinds: Vec<String> = both
        .hits
        .iter()
        .map(|h| h.memory.kind.to_string())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["episode", "episode", "fact"],
        "the fact and the episodes whose caller turn says Biscuit or Thursday"
    );
    assert!(
        both.hits.iter().all(|h| h.similarity == 0.0),
        "no vectors yet"
    );
    assert_eq!(both.memories, 124);
    let facts = search(MemoryFilter::default()).await;
    assert_eq!(facts.hits.len(), 1);
    assert_eq!(facts.hits[0].memory.content, "Has a dog named Biscuit");
    let episodes = search(episodes_only()).await;
    assert_eq!(episodes.hits.len(), 2);
    assert!(
        episodes
            .hits
            .iter()
            .all(|h| h.memory.kind == MemoryKind::Episode)
    );
}

memvox_testkit::both_backends!(
    with_store =>
        episodes_are_written_once_with_the_call_at_its_time,
        group_commits_write_each_calls_episodes_once,
        recording_a_call_again_replaces_its_episodes,
        a_new_calls_episodes_are_found_by_their_words_before_their_vectors;
    with_harness => episodes_are_exported_and_erased_with_the_user,
);
