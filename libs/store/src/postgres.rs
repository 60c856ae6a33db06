//! The PostgreSQL backend: pgvector `vector` columns and exact per-user cosine search in SQL
//! (`ORDER BY embedding <=> query` over the user's rows, found through an index on the user).
//!
//! The `vector` column has no fixed dimension so one schema serves any embedding model; the
//! store's embedding space is enforced in code. An approximate (HNSW) index needs a fixed
//! dimension and is left for when a user's memories outgrow an exact scan.

use std::{str::FromStr, time::Duration};

use memvox_core::{MemoryId, UnixMillis};
use memvox_crypto::Keyring;
use sqlx::{
    Row,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
};

use crate::{
    EmbeddingSpace, MemoryFilter, SearchHit, StoreError, StoreResult, StoreSettings,
    common::{impl_store, memory_from_row},
    settings::{redact_url, validate_schema_name},
    sql::{self, Bind, for_postgres},
};

/// The PostgreSQL + pgvector store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    space: EmbeddingSpace,
    keyring: Keyring,
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
        let pool = Self::connect(url, schema, settings).await?;
        if settings.migrate_on_start.unwrap_or(false) {
            Self::migrate_pool(&pool).await?;
        }
        let store = Self {
            pool,
            space,
            keyring,
        };
        store.check_embedding_space().await.map_err(|e| match e {
            StoreError::Database(db) if db.to_string().contains("store_meta") => {
                StoreError::Config(format!(
                    "the PostgreSQL schema has not been migrated ({db}): run `memvox migrate`"
                ))
            }
            other => other,
        })?;
        store.check_encryption().await?;
        Ok(store)
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
        let migrator = sqlx::migrate!("./migrations/postgres");
        let before = applied_count(pool).await;
        migrator.run(pool).await?;
        Ok(applied_count(pool).await.saturating_sub(before))
    }

    /// The connection pool, for tests and operations.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn backend_store_embeddings(
        &self,
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (id, vector) in vectors {
            sqlx::query(sql::UPSERT_EMBEDDING)
                .bind(*id)
                .bind(&self.space.model)
                .bind(i64::try_from(vector.len()).unwrap_or(i64::MAX))
                .bind(pgvector::Vector::from(vector.clone()))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// PostgreSQL searches in SQL: nothing is cached in the process.
    async fn user_vectors_changed(&self, _user_id: &str) {}

    async fn backend_search_memories(
        &self,
        user_id: &str,
        query: &[f32],
        filter: &MemoryFilter,
        limit: usize,
    ) -> StoreResult<Vec<SearchHit>> {
        let mut next = 4;
        let (conditions, binds) = sql::filter_conditions(filter, &mut next);
        let statement = format!(
            "SELECT {}, 1 - (e.embedding <=> $1) AS similarity FROM memory_embeddings e \
             JOIN memories m ON m.id = e.memory_id \
             WHERE e.user_id = $2 AND e.model = $3{conditions} \
             ORDER BY e.embedding <=> $1, m.id LIMIT ${next}",
            sql::memory_columns!()
        );
        let mut sql_query = sqlx::query(for_postgres(statement))
            .bind(pgvector::Vector::from(query.to_vec()))
            .bind(user_id)
            .bind(&self.space.model);
        for bind in binds {
            sql_query = match bind {
                Bind::Text(text) => sql_query.bind(text),
                Bind::Int(int) => sql_query.bind(int),
            };
        }
        let rows = sql_query
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SearchHit {
                    memory: memory_from_row(&self.keyring, row)?,
                    similarity: row.try_get("similarity")?,
                })
            })
            .collect()
    }
}

impl_store!(PostgresStore, sqlx::Postgres, "postgres", for_postgres);

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

async fn applied_count(pool: &PgPool) -> usize {
    sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get::<i64, _>(0))
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}
