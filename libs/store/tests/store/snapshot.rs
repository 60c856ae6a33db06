//! SQLite snapshots (`memvox backup`'s copy) and settling a file for a restore: a snapshot
//! taken while a writer goes on holds every event recorded before it, and says what it is; a
//! database another connection holds is not settled, a closed one is, with its WAL folded in.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use memvox_store::{Events, NewEvent, SqliteStore, StoreSettings};
use memvox_testkit::store::{space, test_keyring};

fn event(conversation_id: &str) -> NewEvent {
    NewEvent {
        event_type: "post_call_transcription".into(),
        conversation_id: conversation_id.into(),
        event_timestamp: 1_767_225_645,
        payload: format!("{{\"conversation_id\":\"{conversation_id}\"}}"),
        received_at: 1_767_225_645_000,
        traceparent: None,
    }
}

fn settings(path: &Path) -> StoreSettings {
    StoreSettings {
        url: format!("sqlite://{}", path.display()),
        ..StoreSettings::default()
    }
}

/// Conversation ids of the events in the database file at `path`, read from that file alone.
async fn conversations_in(path: &Path) -> Vec<String> {
    let url = format!("sqlite://{}?mode=ro&immutable=1", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let ids = sqlx::query_scalar("SELECT conversation_id FROM webhook_events")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    ids
}

#[tokio::test]
async fn a_snapshot_taken_during_writes_holds_every_earlier_event_and_describes_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memvox.db");
    let keyring = test_keyring();
    let store = SqliteStore::open(&path, &settings(&path), space(), keyring.clone())
        .await
        .unwrap();
    let before: Vec<String> = (0..200).map(|n| format!("conv_before_{n}")).collect();
    for conversation in &before {
        store.record_event(&event(conversation)).await.unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                store
                    .record_event(&event(&format!("conv_during_{n}")))
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let snapshot = dir.path().join("snapshot.db");
    SqliteStore::snapshot(&path, &settings(&path), &snapshot)
        .await
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let during = writer.await.unwrap();
    assert!(during > 0, "the writer went on during the snapshot");

    let copied = conversations_in(&snapshot).await;
    let missing: Vec<&String> = before.iter().filter(|c| !copied.contains(c)).collect();
    assert!(missing.is_empty(), "missing from the snapshot: {missing:?}");
    let info = SqliteStore::describe(&snapshot).await.unwrap();
    assert_eq!(info.schema_version, SqliteStore::schema_version());
    assert!(info.schema_version >= 12, "{info:?}");
    assert_eq!(info.embedding_model.as_deref(), Some("test-4d"));
    assert_eq!(info.embedding_dimension, Some(4));
    assert!(info.encrypted);
    assert_eq!(info.key_ids, vec![keyring.active_key_id().unwrap()]);
    store.close().await;
}

#[tokio::test]
async fn a_snapshot_of_a_missing_database_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    let error = SqliteStore::snapshot(&path, &settings(&path), &dir.path().join("copy.db"))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no SQLite database at"),
        "{error}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn an_open_database_is_not_settled_and_a_closed_one_is_one_self_contained_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memvox.db");
    let store = SqliteStore::open(&path, &settings(&path), space(), test_keyring())
        .await
        .unwrap();
    store.record_event(&event("conv_settled")).await.unwrap();
    assert!(
        !SqliteStore::settle(&path).await.unwrap(),
        "a database the store holds open is not settled"
    );
    store.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !SqliteStore::settle(&path).await.unwrap() {
        assert!(
            Instant::now() < deadline,
            "the closed store's connections never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wal = dir.path().join("memvox.db-wal");
    assert!(!wal.exists(), "the WAL is folded into the file");
    let moved = dir.path().join("moved.db");
    std::fs::rename(&path, &moved).unwrap();
    assert_eq!(conversations_in(&moved).await, vec!["conv_settled"]);
}

#[tokio::test]
async fn a_snapshot_holds_the_deliveries_still_in_the_ingest_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memvox.db");
    let store = SqliteStore::open(&path, &settings(&path), space(), test_keyring())
        .await
        .unwrap();
    store.record_event(&event("conv_stored")).await.unwrap();
    let staged = store.accept_events(&[event("conv_staged")]).await.unwrap();
    assert_eq!(staged, [memvox_store::Acceptance::Staged]);
    let snapshot = dir.path().join("snapshot.db");
    SqliteStore::snapshot(&path, &settings(&path), &snapshot)
        .await
        .unwrap();
    let mut held = conversations_in(&snapshot).await;
    held.sort();
    assert_eq!(held, ["conv_staged", "conv_stored"]);
    let live = store.stale_pending_events(i64::MAX, 10).await.unwrap();
    assert_eq!(
        live.iter()
            .map(|e| e.conversation_id.as_str())
            .collect::<Vec<_>>(),
        ["conv_stored"],
        "the snapshot moved nothing in the database it copied"
    );
    assert!(
        !SqliteStore::ingest_file(&snapshot).exists(),
        "the snapshot is one file"
    );
}
