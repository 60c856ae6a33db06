//! `memvox dlq` against the Redis bus: a poisoned event is dead-lettered by the extraction
//! worker (and its row marked), listed, shown, replayed (row reopened, message back on the
//! stream) and purged, all at once or one by its id.

use std::time::Duration;

use memvox::Config;
use memvox::Memvox;
use memvox_bus::{BusBackend, EVENTS};
use memvox_store::EventStatus;

use crate::support;

fn memvox(dir: &std::path::Path, prefix: &str, args: &[&str]) -> (bool, String) {
    let output = memvox_testkit::memvox_command(env!("CARGO_BIN_EXE_memvox"), dir)
        .args(args)
        .env("MEMVOX_BUS__BACKEND", "redis")
        .env("MEMVOX_BUS__KEY_PREFIX", prefix)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A SQLite store in `dir` and Redis Streams under a fresh key prefix (returned), with the
/// hashing embedder and non-blocking reads.
fn redis_config(dir: &std::path::Path) -> (Config, String) {
    let prefix = memvox_testkit::unique("test:dlq:");
    let mut config = Config::default();
    config.shared.store.url = format!("sqlite://{}/memvox.db", dir.display());
    config.embedder.provider = memvox_ai::EmbedderProvider::Hashing;
    config.shared.bus.backend = BusBackend::Redis;
    config.shared.bus.key_prefix = prefix.clone();
    config.shared.bus.block_ms = 0;
    (config, prefix)
}

/// An app on `config` whose extraction worker has dead-lettered one malformed event: the app,
/// the event's id and the worker.
async fn poisoned(config: Config) -> (Memvox, i64, memvox_bus::Worker) {
    let app = Memvox::build(config).await.unwrap();
    let event_id = support::accept(
        &app,
        "conv_poison",
        "{\"type\":\"post_call_transcription\",\"event_timestamp\":1,\"data\":{}}".into(),
    )
    .await;
    let (worker, _) = app.extraction_worker().unwrap();
    let report = worker.process_batch().await.unwrap();
    assert_eq!(report.dead_lettered, 1, "a malformed payload is permanent");
    assert_eq!(
        app.store.get_event(event_id).await.unwrap().unwrap().status,
        EventStatus::DeadLetter
    );
    (app, event_id, worker)
}

#[tokio::test]
async fn poisoned_events_are_listed_replayed_and_purged() {
    let dir = tempfile::tempdir().unwrap();
    let (config, prefix) = redis_config(dir.path());
    let (app, event_id, worker) = Box::pin(poisoned(config)).await;

    let (ok, listed) = memvox(dir.path(), &prefix, &["dlq", "list"]);
    assert!(ok, "{listed}");
    assert!(listed.contains("1 dead letter(s) on events"), "{listed}");
    assert!(
        listed.contains("malformed payload"),
        "the reason is shown: {listed}"
    );

    let (ok, replayed) = memvox(dir.path(), &prefix, &["dlq", "replay", "--all"]);
    assert!(ok, "{replayed}");
    assert!(
        replayed.contains("1 dead letter(s) replayed onto events"),
        "{replayed}"
    );
    assert_eq!(
        app.store.get_event(event_id).await.unwrap().unwrap().status,
        EventStatus::Pending
    );
    assert_eq!(
        app.bus
            .list_dead_letters(EVENTS, None, 10)
            .await
            .unwrap()
            .len(),
        0
    );

    let report = worker.process_batch().await.unwrap();
    assert_eq!(
        report.dead_lettered, 1,
        "the replayed message is processed again"
    );
    let (ok, purged) = memvox(dir.path(), &prefix, &["dlq", "purge", "--all"]);
    assert!(ok, "{purged}");
    assert!(
        purged.contains("1 dead letter(s) purged from events"),
        "{purged}"
    );
    app.bus.delete_stream(EVENTS).await.unwrap();
}

#[tokio::test]
async fn one_dead_letter_is_shown_replayed_and_purged_by_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let (config, prefix) = redis_config(dir.path());
    let (app, event_id, worker) = Box::pin(poisoned(config)).await;
    let letters = app.bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    let id = letters[0].id.0.clone();

    let (ok, shown) = memvox(dir.path(), &prefix, &["dlq", "show", &id]);
    assert!(ok, "{shown}");
    assert!(shown.starts_with(&id), "{shown}");
    assert!(shown.contains("malformed payload"), "{shown}");
    assert!(
        shown.contains(&format!("payload: {}", letters[0].payload)),
        "the payload as stored: {shown}"
    );
    let (ok, missing) = memvox(dir.path(), &prefix, &["dlq", "show", "1-0"]);
    assert!(!ok, "{missing}");
    assert!(
        missing.contains("no dead letter 1-0 on events"),
        "{missing}"
    );

    let (ok, replayed) = memvox(dir.path(), &prefix, &["dlq", "replay", &id]);
    assert!(ok, "{replayed}");
    assert!(
        replayed.contains(&format!("replayed {id} as ")),
        "{replayed}"
    );
    assert_eq!(
        app.store.get_event(event_id).await.unwrap().unwrap().status,
        EventStatus::Pending,
        "replay reopens the row"
    );

    let report = worker.process_batch().await.unwrap();
    assert_eq!(
        report.dead_lettered, 1,
        "dead-lettered again, under a new id"
    );
    let again = app.bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].id.0, id);
    let (ok, purged) = memvox(dir.path(), &prefix, &["dlq", "purge", &again[0].id.0]);
    assert!(ok, "{purged}");
    assert!(
        purged.contains("1 dead letter(s) purged from events"),
        "{purged}"
    );
    let (ok, listed) = memvox(dir.path(), &prefix, &["dlq", "list"]);
    assert!(ok, "{listed}");
    assert!(listed.contains("0 dead letter(s) on events"), "{listed}");
    app.bus.delete_stream(EVENTS).await.unwrap();
}

/// A message that kills its worker every time (simulated: delivered and never acked) is
/// dead-lettered once it exceeds the allowed deliveries, and its row is marked, so the outbox
/// reconciler stops publishing it; `memvox dlq replay` reopens it.
#[tokio::test]
async fn a_message_that_crashes_its_worker_ends_in_the_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, prefix) = redis_config(dir.path());
    config.shared.bus.max_attempts = 2;
    (
        config.shared.bus.claim_idle_ms,
        config.shared.bus.backoff_base_ms,
        config.shared.bus.backoff_max_ms,
    ) = (0, 0, 0);
    let app = Memvox::build(config).await.unwrap();
    let event_id = support::accept(&app, "conv_crash", "{}".into()).await;
    let group = memvox_extraction_worker::GROUP;
    app.bus.ensure_group(EVENTS, group).await.unwrap();
    let first = app
        .bus
        .read(EVENTS, group, "crashed", 10, Duration::ZERO)
        .await
        .unwrap();
    let second = app
        .bus
        .claim(EVENTS, group, "crashed-again", Duration::ZERO, 10)
        .await
        .unwrap();
    assert_eq!(
        (first.len(), second.deliveries.len()),
        (1, 1),
        "two deliveries, neither acked: the worker died both times"
    );

    let (worker, _) = app.extraction_worker().unwrap();
    let report = worker.process_batch().await.unwrap();
    assert_eq!(
        report.dead_lettered, 1,
        "the third delivery is over the limit"
    );
    let row = app.store.get_event(event_id).await.unwrap().unwrap();
    assert_eq!(row.status, EventStatus::DeadLetter, "the row is marked");
    assert!(
        row.error_message
            .as_deref()
            .is_some_and(|m| m.contains("delivered 3 times")),
        "{row:?}"
    );
    assert!(
        app.store
            .stale_pending_events(i64::MAX, 10)
            .await
            .unwrap()
            .is_empty(),
        "the outbox reconciler has nothing to publish again"
    );

    let (ok, replayed) = memvox(dir.path(), &prefix, &["dlq", "replay", "--all"]);
    assert!(ok, "{replayed}");
    assert_eq!(
        app.store.get_event(event_id).await.unwrap().unwrap().status,
        EventStatus::Pending,
        "replay reopens the row"
    );
    app.bus.delete_stream(EVENTS).await.unwrap();
    let (ok, purged) = memvox(dir.path(), &prefix, &["dlq", "purge", "--all"]);
    assert!(ok, "{purged}");
}
