//! Bulk loading, on both backends: what a bulk load writes reads back through the normal store
//! API exactly as given — users, sealed summaries, caller numbers, memories of both kinds with
//! their sources, vectors, lexical tokens, fingerprints and links — and a load that is refused
//! writes nothing.

use memvox_core::{LinkKind, MemoryKind, MemoryState, Provenance, Sector, UnixMillis};
use memvox_store::{BulkLink, BulkMemory, BulkUser, MemoryFilter, Store, StoreError};
use memvox_testkit::TestStore;

use crate::support::{with_harness, with_store};

const NOW: UnixMillis = 1_767_225_645_000;
const NUMBER: &str = "+14155550123";

fn memory(content: &str, kind: MemoryKind, vector: [f32; 4]) -> BulkMemory {
    BulkMemory {
        content: content.into(),
        kind,
        sector: if kind == MemoryKind::Fact {
            Sector::Semantic
        } else {
            Sector::Episodic
        },
        salience: 0.7,
        last_seen_at: NOW - 3_000,
        created_at: NOW - 5_000,
        updated_at: NOW - 4_000,
        source: (kind == MemoryKind::Episode).then(|| Provenance {
            conversation_id: "conv_bulk".into(),
            turn_indexes: vec![2, 3, 4],
        }),
        vector: Some(vector.to_vec()),
    }
}

pub(crate) fn users() -> Vec<BulkUser> {
    vec![
        BulkUser {
            user_id: "bulk_u1".into(),
            display_name: Some("Ada".into()),
            summary: Some("Calls about her prescriptions".into()),
            last_interaction: Some(NOW - 1_000),
            created_at: NOW - 9_000,
            caller_number: Some(NUMBER.into()),
            memories: vec![
                memory(
                    "Prefers the Walgreens on Main",
                    MemoryKind::Fact,
                    [1.0, 0.0, 0.0, 0.0],
                ),
                memory(
                    "Allergic to penicillin",
                    MemoryKind::Fact,
                    [0.0, 1.0, 0.0, 0.0],
                ),
                memory(
                    "caller: my refill is late\nagent: I will check",
                    MemoryKind::Episode,
                    [0.0, 0.0, 1.0, 0.0],
                ),
            ],
            links: vec![BulkLink {
                source: 1,
                target: 0,
                weight: 0.5,
            }],
        },
        BulkUser {
            user_id: "agent_7:bulk_u2".into(),
            display_name: None,
            summary: None,
            last_interaction: None,
            created_at: NOW - 8_000,
            caller_number: None,
            memories: Vec::new(),
            links: Vec::new(),
        },
    ]
}

async fn bulk_loaded_rows_read_back_as_written(store: &dyn Store) {
    let given = users();
    let ids = store.bulk_load(&given, NOW).await.unwrap();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids in the order given"
    );
    store.analyze().await.unwrap();

    let user = store.get_user("bulk_u1").await.unwrap().unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Ada"));
    assert_eq!(
        user.summary.as_deref(),
        Some("Calls about her prescriptions")
    );
    assert_eq!(user.last_interaction, Some(NOW - 1_000));
    assert_eq!(user.created_at, NOW - 9_000);
    assert_eq!(user.total_memories, 2, "two active facts");
    let other = store.get_user("agent_7:bulk_u2").await.unwrap().unwrap();
    assert_eq!((other.summary, other.created_at), (None, NOW - 8_000));
    assert_eq!(
        store.user_for_caller(NUMBER).await.unwrap().as_deref(),
        Some("bulk_u1")
    );
    assert_eq!(store.caller_numbers("bulk_u1").await.unwrap(), [NUMBER]);

    let read = store.get_memories("bulk_u1", &ids).await.unwrap();
    assert_eq!(read.len(), 3);
    for (memory, (id, written)) in read.iter().zip(ids.iter().zip(&given[0].memories)) {
        assert_eq!(memory.id, *id);
        assert_eq!(memory.user_id, "bulk_u1");
        assert_eq!(memory.content, written.content);
        assert_eq!(memory.kind, written.kind);
        assert_eq!(memory.sector, written.sector);
        assert_eq!(memory.salience, written.salience);
        assert_eq!(memory.decay_per_day, written.sector.default_decay_per_day());
        assert_eq!(memory.state, MemoryState::Active);
        assert_eq!(memory.last_seen_at, written.last_seen_at);
        assert_eq!(memory.created_at, written.created_at);
        assert_eq!(memory.updated_at, written.updated_at);
        assert_eq!(memory.provenance, written.source);
        assert_eq!(memory.superseded_by, None);
    }

    // Fingerprints, tokens and vectors are the product's: its look-ups find the rows.
    let duplicates = store
        .find_exact_duplicates("bulk_u1", "allergic to PENICILLIN")
        .await
        .unwrap();
    assert_eq!(
        duplicates.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    let lexical = store
        .search_lexical(
            "bulk_u1",
            "refill",
            &[0.0, 0.0, 1.0, 0.0],
            &MemoryFilter::both_layers(),
            5,
            0,
        )
        .await
        .unwrap();
    assert_eq!(
        lexical.hits.iter().map(|h| h.memory.id).collect::<Vec<_>>(),
        [ids[2]]
    );
    assert!(
        (lexical.hits[0].similarity - 1.0).abs() < 1e-6,
        "its vector is stored"
    );
    let nearest = store
        .search_memories(
            "bulk_u1",
            &[0.0, 1.0, 0.0, 0.0],
            &MemoryFilter::default(),
            1,
        )
        .await
        .unwrap();
    assert_eq!(nearest[0].memory.id, ids[1]);
    assert!((nearest[0].similarity - 1.0).abs() < 1e-6);
    let links = store.links_from(&ids).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!((links[0].source, links[0].target), (ids[1], ids[0]));
    assert_eq!((links[0].weight, links[0].kind), (0.5, LinkKind::Automatic));

    // The product's next memory gets an id after the loaded ones.
    let next = store
        .insert_memory(
            &crate::contract::memory("bulk_u1", "Moved to Denver", Sector::Semantic, 0.5),
            NOW,
        )
        .await
        .unwrap();
    assert!(next.id > ids[2], "{} after {}", next.id, ids[2]);
}

async fn a_refused_load_writes_nothing(harness: &TestStore) {
    let store = harness.store();
    store.ensure_user("bulk_u1", NOW).await.unwrap();
    let before = harness.table_counts().await;
    let err = store.bulk_load(&users(), NOW).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Database(_)),
        "an existing user: {err}"
    );
    let mut bad_link = users();
    bad_link[0].user_id = "bulk_u3".into();
    bad_link[0].links[0].target = 3;
    let err = store.bulk_load(&bad_link, NOW).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let mut bad_vector = users();
    bad_vector[0].user_id = "bulk_u4".into();
    bad_vector[0].memories[0].vector = Some(vec![1.0; 5]);
    assert!(store.bulk_load(&bad_vector, NOW).await.is_err());
    assert_eq!(harness.table_counts().await, before);
}

memvox_testkit::both_backends!(
    with_store => bulk_loaded_rows_read_back_as_written;
    with_harness => a_refused_load_writes_nothing,
);
