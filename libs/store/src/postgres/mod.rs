//! The PostgreSQL backend: pgvector `vector` columns, searched exactly through the same per-user
//! in-process index as SQLite (`user_index`): ranking 10,000 rows by `embedding <=> query` in
//! SQL took 18 ms at the median, the in-process scan well under one. Writers in other processes
//! reach a query process's cache through `users.vectors_version`, moved by statement triggers.
//!
//! The `vector` column has no fixed dimension so one schema serves any embedding model; the
//! store's embedding space is enforced in code.

use std::{str::FromStr, time::Duration};

use memvox_crypto::Keyring;
use sqlx::{
    Row,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
};

use crate::{
    EmbeddingSpace, StoreError, StoreResult, StoreSettings,
    backend::Core,
    settings::{redact_url, validate_schema_name},
    sql::for_postgres,
};

mod backend;
mod dialect;

use crate::migrations::postgres as migrator;

/// The PostgreSQL + pgvector store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    core: Core,
}

impl PostgresStore {
    /// Connects, makes sure pgvector is there, migrates when the settings ask for it, and
    /// checks the embedding space.
    pub async fn open(
        url: &str,
        schema: Option<&str>,
        settings: &StoreSettings,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Self> {
        let store = Self::attach(url, schema, settings, space, keyring).await?;
        if settings.migrate_on_start.unwrap_or(false) {
            Self::migrate_pool(&store.pool).await?;
        }
        crate::meta::check_embedding_space(&store)
            .await
            .map_err(|e| match e {
                StoreError::Database(db) if db.to_string().contains("store_meta") => {
                    StoreError::Config(format!(
                        "the PostgreSQL schema has not been migrated ({db}): run `memvox migrate`"
                    ))
                }
                other => other,
            })?;
        crate::meta::check_encryption(&store).await?;
        crate::search::ensure_lexical_index(&store).await?;
        crate::callers::ensure_sealed_numbers(&store).await?;
        Ok(store)
    }

    /// The store's pool, and nothing else: no migration, no check, nothing written beyond
    /// what [`Self::connect`] does (a copy's source and destination, see `copy`).
    pub(crate) async fn attach(
        url: &str,
        schema: Option<&str>,
        settings: &StoreSettings,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Self> {
        Ok(Self {
            pool: Self::connect(url, schema, settings).await?,
            core: Core::new(space, keyring, settings),
        })
    }

    /// The version of the newest migration this build applies: the schema it writes.
    pub fn schema_version() -> i64 {
        migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Connects (creating `schema` if given) and makes sure the pgvector extension exists.
    pub async fn connect(
        url: &str,
        schema: Option<&str>,
        settings: &StoreSettings,
    ) -> StoreResult<PgPool> {
        if let Some(schema) = schema {
            validate_schema_name(schema)?;
        }
        let mut options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Config(format!("invalid PostgreSQL URL {}: {e}", redact_url(url)))
        })?;
        if let Some(schema) = schema {
            options = options.options([("search_path", format!("{schema},public"))]);
        }
        if settings.asynchronous_commit {
            options = options.options([("synchronous_commit", "off")]);
        }
        if options.get_application_name().is_none()
            && let Some(program) = program_name()
        {
            // `pg_stat_activity` and the server's log then tell which service a session is.
            options = options.application_name(&program);
        }
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Config(format!(
                    "cannot connect to PostgreSQL at {}: {e}",
                    redact_url(url)
                ))
            })?;
        if let Some(schema) = schema {
            sqlx::query(for_postgres(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .execute(&pool)
            .await?;
        }
        ensure_pgvector(&pool, url).await?;
        Ok(pool)
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate_pool(pool: &PgPool) -> StoreResult<usize> {
        let before = applied_count(pool).await;
        migrator().run(pool).await?;
        Ok(applied_count(pool).await.saturating_sub(before))
    }

    /// The connection pool, for tests and operations.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Makes sure the pgvector extension exists, creating it if the role may.
async fn ensure_pgvector(pool: &PgPool, url: &str) -> StoreResult<()> {
    let installed = sqlx::query("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
        .fetch_optional(pool)
        .await?
        .is_some();
    if installed {
        return Ok(());
    }
    sqlx::query("CREATE EXTENSION IF NOT EXISTS vector")
        .execute(pool)
        .await
        .map_err(|e| {
            StoreError::Config(format!(
                "PostgreSQL at {} has no pgvector extension and it could not be created ({e}): \
                 install pgvector on the server (or run `CREATE EXTENSION vector` as a superuser), \
                 or use store.url = sqlite://PATH",
                redact_url(url)
            ))
        })?;
    Ok(())
}

/// How many migrations the database has applied (0 before the first).
async fn applied_count(pool: &PgPool) -> usize {
    sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get::<i64, _>(0))
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// The running program's file name (`memvox-gateway`, `memvox`…), the sessions' application
/// name unless the URL sets one.
fn program_name() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.file_stem()?.to_str()?.to_owned())
}
