//! A fresh encrypted store on either backend: SQLite in a temporary directory, PostgreSQL in a
//! schema of its own (dropped with the value), so tests run in parallel and leave nothing
//! behind; plus plain-SQL looks at its tables, independent of the store's own logic.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use memvox_crypto::{KeySet, Keyring};
use memvox_store::{EmbeddingSpace, PostgresStore, SqliteStore, Store, StoreResult, StoreSettings};
use sqlx::PgPool;

use crate::env::postgres_url;
use crate::schema::Schema;

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

/// The SQLite file's name in a test store's directory.
pub const SQLITE_FILE: &str = "memvox.db";

/// A store backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a temporary directory.
    Sqlite,
    /// PostgreSQL with pgvector, in a private schema.
    Postgres,
}

/// The embedding space of test stores: 4-dimensional toy vectors.
pub fn space() -> EmbeddingSpace {
    EmbeddingSpace {
        model: "test-4d".into(),
        dimension: 4,
    }
}

/// A keyring with one fresh key: test stores are encrypted like production ones.
pub fn test_keyring() -> Keyring {
    Keyring::from_key_set(KeySet::generate())
}

enum Opened {
    Sqlite {
        store: SqliteStore,
        dir: tempfile::TempDir,
    },
    Postgres {
        store: PostgresStore,
        schema: Schema,
    },
}

/// A store under test and what is needed to inspect and reopen it.
pub struct TestStore {
    opened: Opened,
    keyring: Keyring,
}

impl TestStore {
    /// A fresh store on `backend` with a fresh key.
    pub async fn open(backend: Backend) -> Self {
        Self::open_with(backend, test_keyring()).await
    }

    /// A fresh store on `backend` with `keyring`.
    pub async fn open_with(backend: Backend, keyring: Keyring) -> Self {
        match backend {
            Backend::Sqlite => Self::in_dir(tempfile::tempdir().unwrap(), keyring).await,
            Backend::Postgres => Self::in_schema(Schema::new("test_"), keyring).await,
        }
    }

    /// The store of [`SQLITE_FILE`] in `dir` (created and migrated if new).
    pub async fn in_dir(dir: tempfile::TempDir, keyring: Keyring) -> Self {
        let store = open_sqlite(&sqlite_path(&dir), space(), keyring.clone())
            .await
            .expect("open the sqlite store");
        Self {
            opened: Opened::Sqlite { store, dir },
            keyring,
        }
    }

    /// The store of PostgreSQL schema `schema` (created and migrated if new).
    pub async fn in_schema(schema: Schema, keyring: Keyring) -> Self {
        let store = open_postgres(schema.name(), space(), keyring.clone())
            .await
            .expect("PostgreSQL with pgvector must be running: run scripts/test-services.sh");
        Self {
            opened: Opened::Postgres { store, schema },
            keyring,
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match &self.opened {
            Opened::Sqlite { .. } => Backend::Sqlite,
            Opened::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The keys the store was opened with.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The store as the trait object services use.
    pub fn store(&self) -> Arc<dyn Store> {
        match &self.opened {
            Opened::Sqlite { store, .. } => Arc::new(store.clone()),
            Opened::Postgres { store, .. } => Arc::new(store.clone()),
        }
    }

    /// The PostgreSQL pool, on that backend.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.opened {
            Opened::Postgres { store, .. } => Some(store.pool()),
            Opened::Sqlite { .. } => None,
        }
    }

    /// Opens the same database again with another embedding space.
    pub async fn reopen(&self, space: EmbeddingSpace) -> StoreResult<Arc<dyn Store>> {
        self.reopen_with(space, self.keyring.clone()).await
    }

    /// Opens the same database again with another embedding space and keys.
    pub async fn reopen_with(
        &self,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Arc<dyn Store>> {
        Ok(match &self.opened {
            Opened::Sqlite { dir, .. } => {
                Arc::new(open_sqlite(&sqlite_path(dir), space, keyring).await?)
            }
            Opened::Postgres { schema, .. } => {
                Arc::new(open_postgres(schema.name(), space, keyring).await?)
            }
        })
    }

    /// Closes the store's connections: every later store call fails as unavailable.
    pub async fn close(&self) {
        match &self.opened {
            Opened::Sqlite { store, .. } => store.close().await,
            Opened::Postgres { store, .. } => store.pool().close().await,
        }
    }

    /// Every non-null value of one text column, read with plain SQL (what a copy of the
    /// database shows).
    pub async fn raw_column(&self, table: &str, column: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
        ));
        match &self.opened {
            Opened::Sqlite { store, .. } => sqlx::query_scalar(sql).fetch_all(store.pool()).await,
            Opened::Postgres { store, .. } => sqlx::query_scalar(sql).fetch_all(store.pool()).await,
        }
        .expect("read column")
    }

    /// The integers one plain-SQL query returns (ids, counts).
    pub async fn integers(&self, query: &str) -> Vec<i64> {
        let sql = sqlx::AssertSqlSafe(query.to_owned());
        match &self.opened {
            Opened::Sqlite { store, .. } => sqlx::query_scalar(sql).fetch_all(store.pool()).await,
            Opened::Postgres { store, .. } => sqlx::query_scalar(sql).fetch_all(store.pool()).await,
        }
        .expect("read integers")
    }

    /// Runs one statement with plain SQL (to plant legacy or tampered rows).
    pub async fn execute(&self, statement: &str) {
        let sql = sqlx::AssertSqlSafe(statement.to_owned());
        match &self.opened {
            Opened::Sqlite { store, .. } => sqlx::query(sql).execute(store.pool()).await.map(drop),
            Opened::Postgres { store, .. } => {
                sqlx::query(sql).execute(store.pool()).await.map(drop)
            }
        }
        .expect("execute");
    }

    /// Row count of every table, counted with plain SQL.
    pub async fn table_counts(&self) -> BTreeMap<&'static str, i64> {
        let mut counts = BTreeMap::new();
        for table in TABLES {
            let count = self
                .integers(&format!("SELECT COUNT(*) FROM {table}"))
                .await;
            counts.insert(table, count[0]);
        }
        counts
    }
}

async fn open_sqlite(
    path: &std::path::Path,
    space: EmbeddingSpace,
    keyring: Keyring,
) -> StoreResult<SqliteStore> {
    SqliteStore::open(path, &StoreSettings::default(), space, keyring).await
}

/// Settings of a test store in PostgreSQL schema `schema`, migrated on open.
pub fn postgres_settings(schema: &str) -> StoreSettings {
    StoreSettings {
        url: postgres_url(),
        schema: Some(schema.to_owned()),
        max_connections: 8,
        migrate_on_start: Some(true),
        ..StoreSettings::default()
    }
}

async fn open_postgres(
    schema: &str,
    space: EmbeddingSpace,
    keyring: Keyring,
) -> StoreResult<PostgresStore> {
    let settings = postgres_settings(schema);
    PostgresStore::open(&settings.url, Some(schema), &settings, space, keyring).await
}

/// Where a test store in `dir` keeps its SQLite file.
pub fn sqlite_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join(SQLITE_FILE)
}
