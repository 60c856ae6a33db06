//! PostgreSQL sessions: they say which program opened them (`application_name`), so
//! `pg_stat_activity` and the server's log tell the gateway's sessions from a worker's; and
//! only a process that asks for it (the workers) commits without waiting for the WAL flush.

use memvox_store::{PostgresStore, StoreSettings};
use memvox_testkit::store::postgres_settings;
use memvox_testkit::{Backend, Schema, TestStore};

#[tokio::test]
async fn postgres_sessions_are_named_after_the_program() {
    let harness = TestStore::open(Backend::Postgres).await;
    let exe = std::env::current_exe().unwrap();
    let program = exe.file_stem().unwrap().to_str().unwrap();
    let named = harness
        .integers(&format!(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE pid = pg_backend_pid() AND application_name = '{program}'"
        ))
        .await;
    assert_eq!(named, [1], "session not named {program}");
}

/// `synchronous_commit` of a session opened with `asynchronous_commit`.
async fn synchronous_commit(asynchronous_commit: bool) -> String {
    let schema = Schema::new("test_");
    let settings = StoreSettings {
        max_connections: 1,
        asynchronous_commit,
        ..postgres_settings(schema.name())
    };
    let pool = PostgresStore::connect(&settings.url, Some(schema.name()), &settings)
        .await
        .expect("PostgreSQL must be running: run scripts/test-services.sh");
    let value = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    value
}

#[tokio::test]
async fn only_sessions_that_ask_commit_without_waiting_for_the_flush() {
    assert_eq!(synchronous_commit(false).await, "on");
    assert_eq!(synchronous_commit(true).await, "off");
}
