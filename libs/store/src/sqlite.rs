//! The embedded SQLite backend: one file, WAL journal, the seed plan's pragmas on every
//! connection, vectors as little-endian `f32` blobs and an exact per-user scan in Rust.

use std::{path::Path, str::FromStr, time::Duration};

use std::{collections::HashMap, sync::Arc};

use memvox_core::{Memory, MemoryId, UnixMillis};
use memvox_crypto::Keyring;
use sqlx::{
    Row,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use crate::{
    EmbeddingSpace, MemoryFilter, SearchHit, StoreError, StoreResult, StoreSettings,
    common::{impl_store, memory_from_row},
    sql::{self, for_sqlite},
    vector_index::{IndexedMemory, UserVectors, VectorIndex},
};

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    space: EmbeddingSpace,
    keyring: Keyring,
    index: VectorIndex,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, migrates it when the settings ask for it
    /// (the default for SQLite), and checks the embedding space.
    pub async fn open(
        path: &Path,
        settings: &StoreSettings,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Self> {
        let pool = Self::connect(path, settings).await?;
        if settings.migrate_on_start.unwrap_or(true) {
            Self::migrate_pool(&pool).await?;
        }
        let store = Self {
            pool,
            space,
            keyring,
            index: VectorIndex::default(),
        };
        store.check_embedding_space().await?;
        store.check_encryption().await?;
        Ok(store)
    }

    /// Opens a pool on the file with WAL and the plan's pragmas on every connection.
    pub async fn connect(path: &Path, settings: &StoreSettings) -> StoreResult<SqlitePool> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Config(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| StoreError::Config(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .pragma("cache_size", "-10000")
            .pragma("temp_store", "MEMORY");
        SqlitePoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Config(format!(
                    "cannot open SQLite database {}: {e}",
                    path.display()
                ))
            })
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate_pool(pool: &SqlitePool) -> StoreResult<usize> {
        let migrator = sqlx::migrate!("./migrations/sqlite");
        let before = applied_count(pool).await;
        migrator.run(pool).await?;
        Ok(applied_count(pool).await.saturating_sub(before))
    }

    /// The connection pool, for backups and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn backend_store_embeddings(
        &self,
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let mut users = Vec::new();
        for (id, vector) in vectors {
            let row = sqlx::query(for_sqlite(format!(
                "{} RETURNING user_id",
                sql::UPSERT_EMBEDDING
            )))
            .bind(*id)
            .bind(&self.space.model)
            .bind(dimension_i64(vector.len()))
            .bind(encode_vector(vector))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                users.push(row.try_get::<String, _>("user_id")?);
            }
        }
        tx.commit().await?;
        users.sort();
        users.dedup();
        for user in &users {
            self.index.invalidate(user).await;
        }
        Ok(())
    }

    /// Forgets the cached vector index of a user whose memories changed.
    async fn user_vectors_changed(&self, user_id: &str) {
        self.index.invalidate(user_id).await;
    }

    /// Reads a user's vectors and filter attributes into an index.
    async fn load_user_vectors(&self, user_id: &str) -> StoreResult<UserVectors> {
        let rows = sqlx::query(for_sqlite(sql::SELECT_USER_VECTORS))
            .bind(user_id)
            .bind(&self.space.model)
            .fetch_all(&self.pool)
            .await?;
        let mut vectors = UserVectors {
            memories: Vec::with_capacity(rows.len()),
            matrix: Vec::with_capacity(rows.len() * self.space.dimension),
        };
        for row in &rows {
            let blob: &[u8] = row.try_get("embedding")?;
            if blob.len() != self.space.dimension * 4 {
                return Err(StoreError::Corrupt(format!(
                    "stored vector has {} bytes, expected {}",
                    blob.len(),
                    self.space.dimension * 4
                )));
            }
            let sector: String = row.try_get("sector")?;
            let state: String = row.try_get("state")?;
            let superseded: Option<i64> = row.try_get("superseded_by")?;
            vectors.memories.push(IndexedMemory {
                id: row.try_get("id")?,
                sector: sector
                    .parse()
                    .map_err(|e: memvox_core::UnknownVariant| StoreError::Corrupt(e.to_string()))?,
                state: state
                    .parse()
                    .map_err(|e: memvox_core::UnknownVariant| StoreError::Corrupt(e.to_string()))?,
                superseded: superseded.is_some(),
                created_at: row.try_get("created_at")?,
            });
            vectors.matrix.extend(
                blob.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
        }
        Ok(vectors)
    }

    async fn backend_search_memories(
        &self,
        user_id: &str,
        query: &[f32],
        filter: &MemoryFilter,
        limit: usize,
    ) -> StoreResult<Vec<SearchHit>> {
        let vectors = match self.index.get(user_id).await {
            Some(vectors) => vectors,
            None => {
                let epoch = self.index.epoch(user_id);
                let loaded = Arc::new(self.load_user_vectors(user_id).await?);
                self.index.offer(user_id, epoch, loaded.clone()).await;
                loaded
            }
        };
        let top = vectors.top(query, filter, limit);
        if top.is_empty() {
            return Ok(Vec::new());
        }
        let statement = format!(
            "SELECT {} FROM memories m WHERE m.user_id = $1 AND m.id IN ({})",
            sql::memory_columns!(),
            sql::placeholders(2, top.len())
        );
        let mut fetch = sqlx::query(for_sqlite(statement)).bind(user_id);
        for (_, id) in &top {
            fetch = fetch.bind(*id);
        }
        let mut memories: HashMap<MemoryId, Memory> = HashMap::with_capacity(top.len());
        for row in fetch.fetch_all(&self.pool).await? {
            let memory = memory_from_row(&self.keyring, &row)?;
            memories.insert(memory.id, memory);
        }
        Ok(top
            .into_iter()
            .filter_map(|(similarity, id)| {
                let memory = memories.remove(&id)?;
                filter.matches(&memory).then(|| SearchHit {
                    memory,
                    similarity: f64::from(similarity),
                })
            })
            .collect())
    }
}

impl_store!(SqliteStore, sqlx::Sqlite, "sqlite", for_sqlite);

async fn applied_count(pool: &SqlitePool) -> usize {
    sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get::<i64, _>(0))
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

fn dimension_i64(dimension: usize) -> i64 {
    i64::try_from(dimension).unwrap_or(i64::MAX)
}

/// Little-endian `f32` bytes.
fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}
