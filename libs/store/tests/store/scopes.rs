//! Scopes on both backends: migration 0006 moves the users that existed before it into the
//! default scope, and every user created since is stored with the scope its id names.

use memvox_testkit::{TestStore, space};

use crate::support::with_harness;

async fn existing_users_move_into_the_default_scope(harness: &TestStore) {
    // Back to the schema before 0006, with a user of that time.
    harness.execute("DROP INDEX idx_users_scope").await;
    harness.execute("ALTER TABLE users DROP COLUMN scope").await;
    harness
        .execute("DELETE FROM _sqlx_migrations WHERE version = 6")
        .await;
    harness
        .execute("INSERT INTO users (user_id, created_at) VALUES ('before_scopes', 0)")
        .await;
    let store = harness.reopen(space()).await.unwrap();
    assert_eq!(harness.raw_column("users", "scope").await, ["default"]);
    store.ensure_user("agent_1:guest_0123", 1).await.unwrap();
    store.ensure_user("guest_4567", 1).await.unwrap();
    let mut scopes = harness.raw_column("users", "scope").await;
    scopes.sort();
    assert_eq!(scopes, ["agent_1", "default", "default"]);
}

memvox_testkit::both_backends!(with_harness => existing_users_move_into_the_default_scope);
