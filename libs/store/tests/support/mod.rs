//! Test harness: a fresh store per test on either backend. SQLite gets a temporary file;
//! PostgreSQL gets its own schema in the test database (dropped at the end), so tests run in
//! parallel and leave nothing behind. The PostgreSQL server comes from `scripts/test-services.sh`.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::{collections::BTreeMap, sync::Arc};

use memvox_crypto::{KeySet, Keyring};
use memvox_store::{EmbeddingSpace, PostgresStore, SqliteStore, Store, StoreResult, StoreSettings};
use rand::Rng;

/// Every table of the schema (besides migration bookkeeping).
pub const TABLES: [&str; 14] = [
    "store_meta",
    "users",
    "caller_identities",
    "webhook_events",
    "conversations",
    "conversation_turns",
    "conversation_analysis",
    "tool_invocations",
    "memories",
    "memory_embeddings",
    "memory_links",
    "conversation_memories",
    "memory_history",
    "memory_terms",
];

/// The PostgreSQL URL tests use.
pub fn postgres_url() -> String {
    std::env::var("MEMVOX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://memvox:memvox@127.0.0.1:5432/memvox_test".to_owned())
}

/// The embedding space of test stores: 4-dimensional toy vectors.
pub fn space() -> EmbeddingSpace {
    EmbeddingSpace {
        model: "test-4d".into(),
        dimension: 4,
    }
}

/// A keyring with one fresh key, as test stores are encrypted like production ones.
pub fn test_keyring() -> Keyring {
    Keyring::from_key_set(KeySet::generate())
}

/// A store under test and what is needed to inspect and reopen it.
pub enum Harness {
    /// SQLite in a temporary directory.
    Sqlite {
        /// The store.
        store: SqliteStore,
        /// Keeps the directory alive.
        dir: tempfile::TempDir,
        /// The keys it was opened with.
        keyring: Keyring,
    },
    /// PostgreSQL in a private schema.
    Postgres {
        /// The store.
        store: PostgresStore,
        /// The schema.
        schema: String,
        /// The keys it was opened with.
        keyring: Keyring,
    },
}

impl Harness {
    /// A fresh encrypted SQLite store.
    pub async fn sqlite() -> Self {
        Self::sqlite_with(test_keyring()).await
    }

    /// A fresh SQLite store with the given keys.
    pub async fn sqlite_with(keyring: Keyring) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(
            &dir.path().join("memvox.db"),
            &StoreSettings::default(),
            space(),
            keyring.clone(),
        )
        .await
        .expect("open sqlite store");
        Harness::Sqlite {
            store,
            dir,
            keyring,
        }
    }

    /// A fresh encrypted PostgreSQL store in its own schema, migrated.
    pub async fn postgres() -> Self {
        Self::postgres_with(test_keyring()).await
    }

    /// A fresh PostgreSQL store with the given keys.
    pub async fn postgres_with(keyring: Keyring) -> Self {
        let schema = format!("test_{:016x}", rand::rng().random::<u64>());
        let store = Self::open_postgres(&schema, space(), keyring.clone())
            .await
            .expect("PostgreSQL with pgvector must be running: run scripts/test-services.sh");
        Harness::Postgres {
            store,
            schema,
            keyring,
        }
    }

    /// A SQLite store whose database was migrated up to `version` only when `statements`
    /// (rows in that version's schema) were written, then opened: the store migrates the rest
    /// and completes what it does on open, as after an upgrade.
    pub async fn upgraded_sqlite(keyring: Keyring, version: i64, statements: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("memvox.db");
        let pool = SqliteStore::connect(&path, &StoreSettings::default())
            .await
            .expect("connect sqlite");
        sqlx::migrate!("./migrations/sqlite")
            .run_to(version, &pool)
            .await
            .expect("migrate sqlite");
        for statement in statements {
            sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
                .execute(&pool)
                .await
                .expect("plant a row");
        }
        pool.close().await;
        let store = SqliteStore::open(&path, &StoreSettings::default(), space(), keyring.clone())
            .await
            .expect("open the upgraded sqlite store");
        Harness::Sqlite {
            store,
            dir,
            keyring,
        }
    }

    /// [`Harness::upgraded_sqlite`] on PostgreSQL, in a fresh schema.
    pub async fn upgraded_postgres(keyring: Keyring, version: i64, statements: &[&str]) -> Self {
        let schema = format!("test_{:016x}", rand::rng().random::<u64>());
        let settings = StoreSettings {
            max_connections: 2,
            ..StoreSettings::default()
        };
        let pool = PostgresStore::connect(&postgres_url(), Some(&schema), &settings)
            .await
            .expect("PostgreSQL with pgvector must be running: run scripts/test-services.sh");
        sqlx::migrate!("./migrations/postgres")
            .run_to(version, &pool)
            .await
            .expect("migrate postgres");
        for statement in statements {
            sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
                .execute(&pool)
                .await
                .expect("plant a row");
        }
        pool.close().await;
        let store = Self::open_postgres(&schema, space(), keyring.clone())
            .await
            .expect("open the upgraded postgres store");
        Harness::Postgres {
            store,
            schema,
            keyring,
        }
    }

    /// The keys the store was opened with.
    pub fn keyring(&self) -> &Keyring {
        match self {
            Harness::Sqlite { keyring, .. } | Harness::Postgres { keyring, .. } => keyring,
        }
    }

    async fn open_postgres(
        schema: &str,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<PostgresStore> {
        let settings = StoreSettings {
            url: postgres_url(),
            schema: Some(schema.to_owned()),
            max_connections: 4,
            migrate_on_start: Some(true),
            ..StoreSettings::default()
        };
        PostgresStore::open(&settings.url, Some(schema), &settings, space, keyring).await
    }

    /// The store as the trait object services use.
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Harness::Sqlite { store, .. } => Arc::new(store.clone()),
            Harness::Postgres { store, .. } => Arc::new(store.clone()),
        }
    }

    /// Opens the same database again with another embedding space.
    pub async fn reopen(&self, space: EmbeddingSpace) -> StoreResult<Arc<dyn Store>> {
        self.reopen_with(space, self.keyring().clone()).await
    }

    /// Opens the same database again with another embedding space and keys.
    pub async fn reopen_with(
        &self,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Arc<dyn Store>> {
        Ok(match self {
            Harness::Sqlite { dir, .. } => Arc::new(
                SqliteStore::open(
                    &dir.path().join("memvox.db"),
                    &StoreSettings::default(),
                    space,
                    keyring,
                )
                .await?,
            ),
            Harness::Postgres { schema, .. } => {
                Arc::new(Self::open_postgres(schema, space, keyring).await?)
            }
        })
    }

    /// Every non-null value of one text column, read with plain SQL (what a copy of the
    /// database shows).
    pub async fn raw_column(&self, table: &str, column: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
        ));
        match self {
            Harness::Sqlite { store, .. } => sqlx::query_scalar(sql).fetch_all(store.pool()).await,
            Harness::Postgres { store, .. } => {
                sqlx::query_scalar(sql).fetch_all(store.pool()).await
            }
        }
        .expect("read column")
    }

    /// Runs one statement with plain SQL (to plant legacy or tampered rows).
    pub async fn execute(&self, statement: &str) {
        let sql = sqlx::AssertSqlSafe(statement.to_owned());
        match self {
            Harness::Sqlite { store, .. } => sqlx::query(sql).execute(store.pool()).await.map(drop),
            Harness::Postgres { store, .. } => {
                sqlx::query(sql).execute(store.pool()).await.map(drop)
            }
        }
        .expect("execute");
    }

    /// Row count of every table, counted with plain SQL independent of the store's logic.
    pub async fn table_counts(&self) -> BTreeMap<&'static str, i64> {
        let mut counts = BTreeMap::new();
        for table in TABLES {
            let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
            let count: i64 = match self {
                Harness::Sqlite { store, .. } => {
                    sqlx::query_scalar(sql).fetch_one(store.pool()).await
                }
                Harness::Postgres { store, .. } => {
                    sqlx::query_scalar(sql).fetch_one(store.pool()).await
                }
            }
            .expect("count rows");
            counts.insert(table, count);
        }
        counts
    }

    /// Drops the PostgreSQL schema (SQLite's directory goes with the value).
    pub async fn cleanup(self) {
        if let Harness::Postgres { store, schema, .. } = self {
            let sql = sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            sqlx::query(sql)
                .execute(store.pool())
                .await
                .expect("drop schema");
            store.pool().close().await;
        }
    }
}
