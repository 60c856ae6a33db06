//! The acknowledgement path's writes (`accept_events`): on SQLite into the ingest file beside
//! the database, moved into the events table once, refused when erased, moved when the store
//! opens and before an erasure; on PostgreSQL straight into the events table.

use memvox_store::{Acceptance, Store, StoreError};
use memvox_testkit::{Backend, TestStore, store::space};

use crate::support::with_harness;
use crate::tombstones::{NOW, NUMBER, commit, event};

/// The conversation ids of the events table's pending events.
async fn pending_conversations(store: &dyn Store) -> Vec<String> {
    let mut ids: Vec<String> = store
        .stale_pending_events(i64::MAX, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.conversation_id)
        .collect();
    ids.sort();
    ids
}

/// Moves everything staged; the conversations of the events that were new in the events table.
async fn move_all(store: &dyn Store) -> Vec<String> {
    let mut moved = Vec::new();
    while let Some(batch) = store.move_staged(1).await.unwrap() {
        moved.extend(batch.into_iter().map(|e| e.conversation_id));
    }
    moved
}

async fn acknowledged_deliveries_reach_the_events_table_once(harness: &TestStore) {
    let store = &*harness.store();
    let accepted = store
        .accept_events(&[
            event("conv_1", None, None),
            event("conv_2", None, None),
            event("conv_1", None, None),
        ])
        .await
        .unwrap();
    match harness.backend() {
        Backend::Sqlite => {
            assert_eq!(
                accepted,
                [
                    Acceptance::Staged,
                    Acceptance::Staged,
                    Acceptance::Duplicate
                ]
            );
            assert!(
                pending_conversations(store).await.is_empty(),
                "staged, not yet in the events table"
            );
            let again = store
                .accept_events(&[event("conv_2", None, None)])
                .await
                .unwrap();
            assert_eq!(
                again,
                [Acceptance::Duplicate],
                "a duplicate of a staged row"
            );
            assert_eq!(move_all(store).await, ["conv_1", "conv_2"], "oldest first");
        }
        Backend::Postgres => {
            assert!(matches!(
                accepted[..],
                [Acceptance::Stored(a), Acceptance::Stored(b), Acceptance::Duplicate] if a != b
            ));
            assert!(move_all(store).await.is_empty(), "nothing is staged");
        }
    }
    assert_eq!(pending_conversations(store).await, ["conv_1", "conv_2"]);
    let events = store.stale_pending_events(i64::MAX, 10).await.unwrap();
    assert_eq!(events[0].payload, event("conv_1", None, None).payload);
    let later = store
        .accept_events(&[event("conv_1", None, None)])
        .await
        .unwrap();
    assert_eq!(
        later,
        [Acceptance::Duplicate],
        "already in the events table"
    );
    assert!(store.move_staged(10).await.unwrap().is_none());
    assert_eq!(pending_conversations(store).await, ["conv_1", "conv_2"]);
}

async fn acceptances_run_concurrently_only_where_the_database_commits_them_together(
    harness: &TestStore,
) {
    let concurrent = harness.store().concurrent_acceptances();
    match harness.backend() {
        Backend::Sqlite => assert_eq!(concurrent, 1, "the ingest file has one writer"),
        Backend::Postgres => assert!(
            (2..=memvox_store::MAX_CONCURRENT_ACCEPTANCES).contains(&concurrent),
            "{concurrent}"
        ),
    }
}

/// Two batches holding the same deliveries in opposite orders, stored at once (the gateway runs
/// several storing tasks on PostgreSQL), both succeed: one stores each delivery, the other
/// finds it stored.
async fn concurrent_batches_of_the_same_deliveries_both_succeed(harness: &TestStore) {
    let store = harness.store();
    for round in 0..10 {
        let forward: Vec<_> = (0..40)
            .map(|n| event(&format!("conv_{round}_{n:02}"), None, None))
            .collect();
        let backward: Vec<_> = forward.iter().rev().cloned().collect();
        let (a, b) = tokio::join!(
            store.accept_events(&forward),
            store.accept_events(&backward)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let duplicates = a
            .iter()
            .chain(&b)
            .filter(|accepted| **accepted == Acceptance::Duplicate)
            .count();
        assert_eq!(duplicates, 40, "each delivery stored once: {a:?} {b:?}");
    }
}

async fn erased_conversations_are_refused_staged_or_not(harness: &TestStore) {
    let store = &*harness.store();
    let done = store
        .record_event(&event("conv_done", Some(NUMBER), None))
        .await
        .unwrap();
    store
        .apply_extraction(&commit(done.id, "conv_done", "erase", NOW))
        .await
        .unwrap();
    // Acknowledged before the erasure, not yet moved on SQLite: the erasure still finds it.
    let open = store
        .accept_events(&[event("conv_open", Some(NUMBER), None)])
        .await
        .unwrap();
    assert!(matches!(
        open[..],
        [Acceptance::Staged | Acceptance::Stored(_)]
    ));
    store.erase_user("erase", NOW + 1).await.unwrap();
    assert!(pending_conversations(store).await.is_empty());
    assert!(store.move_staged(10).await.unwrap().is_none());
    let again = store
        .accept_events(&[
            event("conv_done", Some(NUMBER), None),
            event("conv_open", Some(NUMBER), None),
        ])
        .await
        .unwrap();
    assert_eq!(again, [Acceptance::Erased, Acceptance::Erased]);
    assert!(move_all(store).await.is_empty());
    assert!(pending_conversations(store).await.is_empty());
}

/// A W3C `traceparent` as the gateway stores it.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The trace context an event was accepted under comes back with it wherever it is announced
/// from: the ingest file's move (SQLite) and the outbox's stale events (both backends).
async fn the_trace_context_stays_with_the_event(harness: &TestStore) {
    let store = &*harness.store();
    let mut traced = event("conv_traced", None, None);
    traced.traceparent = Some(TRACEPARENT.to_owned());
    store
        .accept_events(&[traced, event("conv_untraced", None, None)])
        .await
        .unwrap();
    let mut moved = Vec::new();
    while let Some(batch) = store.move_staged(10).await.unwrap() {
        moved.extend(
            batch
                .into_iter()
                .map(|e| (e.conversation_id, e.traceparent)),
        );
    }
    if harness.backend() == Backend::Sqlite {
        assert_eq!(
            moved,
            [
                ("conv_traced".to_owned(), Some(TRACEPARENT.to_owned())),
                ("conv_untraced".to_owned(), None)
            ]
        );
    }
    let stale: Vec<_> = store
        .stale_pending_events(i64::MAX, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.conversation_id, e.traceparent))
        .collect();
    assert_eq!(
        stale,
        [
            ("conv_traced".to_owned(), Some(TRACEPARENT.to_owned())),
            ("conv_untraced".to_owned(), None)
        ]
    );
}

memvox_testkit::both_backends!(
    with_harness =>
        acknowledged_deliveries_reach_the_events_table_once,
        acceptances_run_concurrently_only_where_the_database_commits_them_together,
        concurrent_batches_of_the_same_deliveries_both_succeed,
        erased_conversations_are_refused_staged_or_not,
        the_trace_context_stays_with_the_event,
);

#[tokio::test]
async fn what_a_stopped_process_left_staged_moves_when_the_store_opens() {
    let harness = TestStore::open(Backend::Sqlite).await;
    let accepted = harness
        .store()
        .accept_events(&[event("conv_left", None, None)])
        .await
        .unwrap();
    assert_eq!(accepted, [Acceptance::Staged]);
    harness.close().await;
    assert!(matches!(
        harness.store().move_staged(1).await,
        Err(StoreError::Unavailable(_))
    ));
    let reopened = harness.reopen(space()).await.unwrap();
    assert_eq!(pending_conversations(&*reopened).await, ["conv_left"]);
    assert!(reopened.move_staged(10).await.unwrap().is_none());
}
