//! Encryption at rest, on both backends: what a copy of the database shows, what reads return,
//! key checks at open, and rotation.

use std::collections::BTreeMap;

use memvox_core::{
    CallOutcome, Conversation, ConversationStatus, EpisodeWindows, NewMemory, Role, Sector, Turn,
};
use memvox_crypto::{CryptoError, Key, KeySet, Keyring};
use memvox_store::{
    CallAnalysis, CallRecord, ExtractionCommit, MemoryEdit, MemoryFilter, NewEvent, PlannedMemory,
    Store, StoreError, ToolInvocation, encrypted_columns,
};
use memvox_testkit::{Backend, TestStore, space, test_keyring};

use crate::support::{with_backend, with_harness, with_store};

const NOW: i64 = 1_767_225_645_000;

/// The fact a caller tells; it must never appear in the raw tables.
const FACT: &str = "allergic to peanuts";

/// The encrypted columns as (table, column).
const COLUMNS: [(&str, &str); 11] = [
    ("users", "summary"),
    ("webhook_events", "payload"),
    ("conversation_turns", "message"),
    ("conversation_analysis", "summary"),
    ("conversation_analysis", "evaluation_json"),
    ("conversation_analysis", "data_collection"),
    ("tool_invocations", "request_params"),
    ("tool_invocations", "response_data"),
    ("memories", "content"),
    ("memory_history", "content"),
    ("caller_identities", "phone_number"),
];

/// The phone number bound to `user` (its digits must never appear in the raw tables).
fn number_of(user: &str) -> String {
    format!("+1415555{:04}", user.len())
}

fn call(conversation_id: &str, user_id: &str) -> CallRecord {
    CallRecord {
        conversation: Conversation {
            conversation_id: conversation_id.into(),
            agent_id: "agent_1".into(),
            user_id: Some(user_id.into()),
            started_at: NOW - 60_000,
            duration_secs: Some(60),
            status: ConversationStatus::Completed,
            failure_reason: None,
        },
        turns: vec![
            Turn {
                index: 0,
                role: Role::Agent,
                message: Some("How can I help?".into()),
                time_in_call_secs: 0,
            },
            Turn {
                index: 1,
                role: Role::User,
                message: Some(format!("I am {FACT}.")),
                time_in_call_secs: 4,
            },
        ],
        analysis: Some(CallAnalysis {
            summary: Some(format!("The caller is {FACT}.")),
            outcome: CallOutcome::Success,
            evaluation: Some(serde_json::json!({"allergy": {"rationale": FACT}})),
            data_collection: Some(serde_json::json!({"allergy": {"value": FACT}})),
        }),
    }
}

fn memory(user_id: &str, content: &str) -> NewMemory {
    NewMemory {
        user_id: user_id.into(),
        content: content.into(),
        sector: Sector::Semantic,
        salience: 0.7,
        provenance: None,
    }
}

/// Writes the fact through every encrypted column for `user` (an episode of the call among
/// them); returns the memory id.
async fn populate(store: &dyn Store, user: &str, conversation: &str) -> i64 {
    store
        .record_call(&call(conversation, user), NOW)
        .await
        .unwrap();
    let event = store
        .record_event(&NewEvent {
            event_type: "post_call_transcription".into(),
            conversation_id: conversation.into(),
            event_timestamp: NOW / 1000,
            payload: format!("{{\"transcript\":\"I am {FACT}\"}}"),
            received_at: NOW,
            traceparent: None,
        })
        .await
        .unwrap();
    let stored = store
        .insert_memory(&memory(user, &format!("Is {FACT}")), NOW)
        .await
        .unwrap();
    let recorded = call(conversation, user);
    let episodes = EpisodeWindows::default().cut(&recorded.turns, recorded.conversation.started_at);
    assert_eq!(
        episodes.len(),
        1,
        "the call's one caller turn is an episode"
    );
    store
        .apply_extraction(&ExtractionCommit {
            event_id: event.id,
            call: Some(recorded),
            bind_caller: None,
            memories: vec![PlannedMemory::Update {
                target: stored.id,
                memory: memory(user, &format!("Is severely {FACT}")),
            }],
            episodes,
            now: NOW + 1,
        })
        .await
        .unwrap();
    store
        .write_user_summaries(&[(user.to_owned(), format!("A caller who is {FACT}."))])
        .await
        .unwrap();
    store
        .bind_caller(&number_of(user), user, NOW)
        .await
        .unwrap();
    store
        .store_embeddings(&[(stored.id, vec![1.0, 0.0, 0.0, 0.0])], NOW)
        .await
        .unwrap();
    store
        .log_tool_invocations(&[ToolInvocation {
            tool_name: "memory_query".into(),
            conversation_id: Some(conversation.into()),
            user_id: Some(user.into()),
            request_params: serde_json::json!({"query": "peanuts?"}),
            response_data: Some(serde_json::json!({"memories": [FACT]})),
            latency_ms: 3,
            success: true,
            error_message: None,
            created_at: NOW,
        }])
        .await
        .unwrap();
    stored.id
}

/// Values per key id (`None`: plaintext) over every encrypted column.
async fn key_counts(store: &dyn Store) -> BTreeMap<Option<String>, u64> {
    let mut total = BTreeMap::new();
    for column in store.encryption_status().await.unwrap() {
        for (key, count) in column.by_key {
            *total.entry(key).or_insert(0) += count;
        }
    }
    total
}

/// Re-encrypts every column in batches of 2 (several pages each); returns rewritten values.
async fn rotate_all(store: &dyn Store) -> u64 {
    let mut rewritten = 0;
    for column in encrypted_columns() {
        let mut after = None;
        loop {
            let batch = store
                .reencrypt_batch(column, after.as_ref(), 2)
                .await
                .unwrap();
            rewritten += batch.rewritten;
            match batch.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    rewritten
}

fn keyring(active: &str, keys: &[(&str, &Key)], index: &Key) -> Keyring {
    Keyring::from_key_set(
        KeySet::new(
            active,
            keys.iter()
                .map(|(id, key)| ((*id).to_owned(), (*key).clone())),
            index.clone(),
        )
        .unwrap(),
    )
}

async fn raw_tables_hold_no_plaintext_and_reads_decrypt(harness: &TestStore) {
    let store = harness.store();
    let id = populate(&*store, "alice", "conv_1").await;
    let active = harness.keyring().active_key_id().unwrap();
    for (table, column) in COLUMNS {
        let values = harness.raw_column(table, column).await;
        assert!(!values.is_empty(), "{table}.{column} was written");
        for value in values {
            assert!(
                !value.contains("peanuts") && !value.contains(&number_of("alice")[2..]),
                "{table}.{column} leaks: {value}"
            );
            assert!(
                value.starts_with(&format!("mvx1:{active}:")),
                "{table}.{column}: {value}"
            );
        }
    }
    let fingerprints = harness.raw_column("memories", "content_fingerprint").await;
    assert_ne!(
        fingerprints[0],
        memvox_core::text::content_fingerprint(&format!("Is severely {FACT}")),
        "the stored fingerprint is keyed, not the public hash"
    );

    let call = store.get_call("conv_1").await.unwrap().unwrap();
    assert_eq!(
        call.turns[1].message.as_deref(),
        Some("I am allergic to peanuts.")
    );
    assert_eq!(
        call.analysis.unwrap().summary.as_deref(),
        Some("The caller is allergic to peanuts.")
    );
    let memory = store.get_memory("alice", id).await.unwrap().unwrap();
    assert_eq!(memory.content, "Is severely allergic to peanuts");
    assert_eq!(
        store.memory_page("alice", None, 1_000).await.unwrap().1[0].1,
        "Is allergic to peanuts"
    );
    assert_eq!(
        store
            .get_user("alice")
            .await
            .unwrap()
            .unwrap()
            .summary
            .as_deref(),
        Some("A caller who is allergic to peanuts.")
    );
    let event = store.stale_pending_events(NOW + 1, 10).await.unwrap();
    assert!(
        event.is_empty(),
        "the event was completed by the extraction"
    );
    let hits = store
        .search_memories("alice", &[1.0, 0.0, 0.0, 0.0], &MemoryFilter::default(), 5)
        .await
        .unwrap();
    assert_eq!(hits[0].memory.content, "Is severely allergic to peanuts");
}

async fn events_decrypt_on_read(store: &dyn Store) {
    store
        .record_call(&call("conv_e", "erin"), NOW)
        .await
        .unwrap();
    let recorded = store
        .record_event(&NewEvent {
            event_type: "post_call_transcription".into(),
            conversation_id: "conv_e".into(),
            event_timestamp: NOW / 1000,
            payload: format!("{{\"said\":\"{FACT}\"}}"),
            received_at: NOW,
            traceparent: None,
        })
        .await
        .unwrap();
    let event = store.get_event(recorded.id).await.unwrap().unwrap();
    assert_eq!(event.payload, format!("{{\"said\":\"{FACT}\"}}"));
    let stale = store.stale_pending_events(NOW + 1, 10).await.unwrap();
    assert_eq!(stale[0].payload, event.payload);
}

async fn moved_or_tampered_values_are_errors(harness: &TestStore) {
    let store = harness.store();
    let alice = store
        .insert_memory(&memory("alice", FACT), NOW)
        .await
        .unwrap();
    let bob = store
        .insert_memory(&memory("bob", "likes tea"), NOW)
        .await
        .unwrap();
    harness
        .execute(&format!(
            "UPDATE memories SET content = (SELECT content FROM memories WHERE id = {}) WHERE id = {}",
            alice.id, bob.id
        ))
        .await;
    assert!(
        matches!(
            store.get_memory("bob", bob.id).await,
            Err(StoreError::Crypto(CryptoError::Authentication { .. }))
        ),
        "alice's ciphertext does not open as bob's"
    );
    harness
        .execute(&format!(
            "UPDATE memories SET content = 'mvx1:nosuchkey:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = {}",
            alice.id
        ))
        .await;
    assert!(matches!(
        store.get_memory("alice", alice.id).await,
        Err(StoreError::Crypto(CryptoError::UnknownKey(_)))
    ));
}

async fn dedupe_uses_the_keyed_fingerprint(store: &dyn Store) {
    let first = store
        .insert_memory(&memory("dana", "Lives in Denver"), NOW)
        .await
        .unwrap();
    let duplicates = store
        .find_exact_duplicates("dana", "lives in   DENVER.")
        .await
        .unwrap();
    assert_eq!(duplicates.len(), 1);
    assert_eq!(duplicates[0].id, first.id);
    assert_eq!(duplicates[0].content, "Lives in Denver");
    assert!(
        store
            .find_exact_duplicates("other", "Lives in Denver")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn opening_checks_the_keys(harness: &TestStore) {
    let store = harness.store();
    populate(&*store, "alice", "conv_1").await;
    let err = harness
        .reopen_with(space(), Keyring::disabled())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("holds encrypted data")
            && err.to_string().contains("encryption.enabled = false"),
        "{err}"
    );
    let err = harness
        .reopen_with(space(), test_keyring())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("this database needs encryption key"),
        "{err}"
    );
    assert!(harness.reopen(space()).await.is_ok());
}

async fn rotation_reencrypts_everything(backend: Backend) {
    let (k1, k2, index) = (Key::generate(), Key::generate(), Key::generate());
    let old = keyring("k1", &[("k1", &k1)], &index);
    let harness = TestStore::open_with(backend, old.clone()).await;
    let store = harness.store();
    let id = populate(&*store, "alice", "conv_1").await;
    populate(&*store, "bob", "conv_2").await;
    store
        .insert_memory(&memory("alice", "Has a cat"), NOW)
        .await
        .unwrap();
    harness
        .execute("UPDATE users SET summary = 'legacy plaintext summary' WHERE user_id = 'bob'")
        .await;
    let before = key_counts(&*store).await;
    assert_eq!(before.get(&None), Some(&1), "{before:?}");
    let k1_values = before[&Some("k1".to_owned())];

    let new = keyring("k2", &[("k1", &k1), ("k2", &k2)], &index);
    let rotated = harness.reopen_with(space(), new.clone()).await.unwrap();
    let writer = rotated.clone();
    let racing = tokio::spawn(async move {
        for round in 0..20 {
            writer
                .edit_memory(
                    "alice",
                    id,
                    &MemoryEdit {
                        content: Some(format!("edit {round}")),
                        ..MemoryEdit::default()
                    },
                    NOW + round,
                )
                .await
                .unwrap();
        }
    });
    let rewritten = rotate_all(&*rotated).await;
    racing.await.unwrap();
    rotate_all(&*rotated).await;
    assert!(rewritten >= 1, "rotation rewrote values");
    let after = key_counts(&*rotated).await;
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        [&Some("k2".to_owned())],
        "{after:?}"
    );
    assert_eq!(
        after[&Some("k2".to_owned())],
        k1_values + 1 + 20,
        "every value, legacy plaintext and the 20 edits' history rows included, is under the \
         new key: {after:?}"
    );
    assert_eq!(
        rotated
            .get_memory("alice", id)
            .await
            .unwrap()
            .unwrap()
            .content,
        "edit 19",
        "the racing writes are all kept"
    );
    assert_eq!(
        rotated
            .get_user("bob")
            .await
            .unwrap()
            .unwrap()
            .summary
            .as_deref(),
        Some("legacy plaintext summary")
    );
    assert_eq!(
        rotated
            .find_exact_duplicates("alice", "has a CAT")
            .await
            .unwrap()
            .len(),
        1,
        "dedupe still finds memories after rotation"
    );

    let only_k2 = keyring("k2", &[("k2", &k2)], &index);
    let err = harness
        .reopen_with(space(), only_k2.clone())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("needs encryption key `k1`"),
        "{err}"
    );
    rotated.retire_inactive_keys().await.unwrap();
    let retired = harness.reopen_with(space(), only_k2).await.unwrap();
    assert_eq!(
        retired.get_call("conv_2").await.unwrap().unwrap().turns[1]
            .message
            .as_deref(),
        Some("I am allergic to peanuts.")
    );
    assert_eq!(
        retired.user_for_caller(&number_of("bob")).await.unwrap(),
        Some("bob".to_owned()),
        "rotation re-seals numbers and leaves their blind index (the index key's) as it was"
    );
    assert_eq!(
        retired.caller_numbers("bob").await.unwrap(),
        [number_of("bob")]
    );
    let other_index = keyring("k2", &[("k2", &k2)], &Key::generate());
    let err = harness
        .reopen_with(space(), other_index)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("index key"), "{err}");
}

async fn disabled_encryption_stores_plaintext(harness: &TestStore) {
    let store = harness.store();
    store
        .insert_memory(&memory("alice", FACT), NOW)
        .await
        .unwrap();
    assert_eq!(harness.raw_column("memories", "content").await, [FACT]);
    assert!(key_counts(&*store).await.contains_key(&None));
}

/// Runs `test` on a fresh store of `backend` with encryption off.
async fn without_encryption(backend: Backend, test: impl AsyncFnOnce(&TestStore)) {
    test(&TestStore::open_with(backend, Keyring::disabled()).await).await;
}

memvox_testkit::both_backends!(
    with_harness =>
        raw_tables_hold_no_plaintext_and_reads_decrypt,
        moved_or_tampered_values_are_errors,
        opening_checks_the_keys;
    with_store => events_decrypt_on_read, dedupe_uses_the_keyed_fingerprint;
    with_backend => rotation_reencrypts_everything;
    without_encryption => disabled_encryption_stores_plaintext,
);
