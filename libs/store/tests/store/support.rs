//! The runners the suites hand to `both_backends!` (each opens a fresh store of the backend
//! and passes on what the case takes), and stores upgraded from an older schema.

use memvox_crypto::Keyring;
use memvox_store::{PostgresStore, SqliteStore, Store, StoreSettings};
use memvox_testkit::store::{postgres_settings, sqlite_path};
use memvox_testkit::{Backend, Schema, TestStore};

/// Runs `test` on the store of a fresh encrypted test store.
pub async fn with_store(backend: Backend, test: impl AsyncFnOnce(&dyn Store)) {
    let harness = TestStore::open(backend).await;
    test(&*harness.store()).await;
}

/// Runs `test` on a fresh encrypted test store.
pub async fn with_harness(backend: Backend, test: impl AsyncFnOnce(&TestStore)) {
    test(&TestStore::open(backend).await).await;
}

/// Runs `test` with the backend (a case that opens its own stores).
pub async fn with_backend(backend: Backend, test: impl AsyncFnOnce(Backend)) {
    test(backend).await;
}

/// A store whose database was migrated up to `version` only when `statements` (rows in that
/// version's schema) were written, then opened: the store migrates the rest and completes what
/// it does on open, as after an upgrade.
pub async fn upgraded(
    backend: Backend,
    keyring: Keyring,
    version: i64,
    statements: &[&str],
) -> TestStore {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let pool = SqliteStore::connect(&sqlite_path(&dir), &StoreSettings::default())
                .await
                .expect("connect sqlite");
            memvox_store::migrations::sqlite()
                .run_to(version, &pool)
                .await
                .expect("migrate sqlite");
            plant(&pool, statements).await;
            pool.close().await;
            TestStore::in_dir(dir, keyring).await
        }
        Backend::Postgres => {
            let schema = Schema::new("test_");
            let settings = StoreSettings {
                max_connections: 2,
                ..postgres_settings(schema.name())
            };
            let pool = PostgresStore::connect(&settings.url, Some(schema.name()), &settings)
                .await
                .expect("PostgreSQL with pgvector must be running: run scripts/test-services.sh");
            memvox_store::migrations::postgres()
                .run_to(version, &pool)
                .await
                .expect("migrate postgres");
            plant(&pool, statements).await;
            pool.close().await;
            TestStore::in_schema(schema, keyring).await
        }
    }
}

/// Writes `statements` with plain SQL.
async fn plant<'p, DB: sqlx::Database>(pool: &'p sqlx::Pool<DB>, statements: &[&str])
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(pool)
            .await
            .expect("plant a row");
    }
}
