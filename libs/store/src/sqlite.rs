//! The embedded SQLite backend: one file, WAL journal, the seed plan's pragmas on every
//! connection, vectors as little-endian `f32` blobs searched through the per-user in-memory
//! index (`vector_index`).

use std::{path::Path, str::FromStr, time::Duration};

use memvox_core::{MemoryId, UnixMillis};
use memvox_crypto::Keyring;
use sqlx::{
    Row,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
        SqliteSynchronous,
    },
};

use crate::{
    EmbeddingSpace, LexicalKey, MemoryFilter, Neighbour, StoreError, StoreResult, StoreSettings,
    common::impl_store,
    sql::{self, for_sqlite},
    vector_index::VectorIndex,
};

/// The SQLite store. Reads use a pool; every write goes through one dedicated connection, so
/// the process's writers queue in order instead of meeting `SQLITE_BUSY` and sleeping in
/// SQLite's busy handler (which made concurrent workers slower than one).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
    space: EmbeddingSpace,
    index: VectorIndex,
    lexical: LexicalKey,
    keyring: Keyring,
    tombstone_days: Option<u64>,
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
        let writer = Self::connect_with(path, settings, 1).await?;
        let store = Self {
            pool,
            writer,
            space,
            index: VectorIndex::default(),
            lexical: LexicalKey::for_keyring(&keyring),
            keyring,
            tombstone_days: settings.tombstone_lifetime_days,
        };
        store.check_embedding_space().await?;
        store.check_encryption().await?;
        store.ensure_lexical_index().await?;
        Ok(store)
    }

    /// Opens a pool on the file with WAL and the plan's pragmas on every connection.
    pub async fn connect(path: &Path, settings: &StoreSettings) -> StoreResult<SqlitePool> {
        Self::connect_with(path, settings, settings.max_connections).await
    }

    /// Opens a pool of at most `max_connections` on the file, WAL and pragmas on each.
    async fn connect_with(
        path: &Path,
        settings: &StoreSettings,
        max_connections: u32,
    ) -> StoreResult<SqlitePool> {
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
            .max_connections(max_connections.max(1))
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

    /// Closes the read pool and the writer: every later call fails as unavailable.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// The one connection every write goes through.
    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Neighbours from the user's index: each memory's own row is the query, so nothing but
    /// the index is read.
    async fn backend_similar_memories(
        &self,
        user_id: &str,
        ids: &[MemoryId],
        filter: &MemoryFilter,
        threshold: f64,
        limit: usize,
    ) -> StoreResult<Vec<Neighbour>> {
        let index = self.user_index(user_id).await?;
        Ok(index.1.neighbours(ids, filter, threshold, limit))
    }

    async fn backend_store_embeddings(
        &self,
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()> {
        let mut tx = self.writer().begin().await?;
        for chunk in vectors.chunks(crate::common::INSERT_CHUNK) {
            let statement = sql::upsert_embeddings(chunk.len(), "", "");
            let mut query = sqlx::query(for_sqlite(statement))
                .bind(&self.space.model)
                .bind(dimension_i64(self.space.dimension))
                .bind(now);
            for (id, vector) in chunk {
                query = query.bind(*id).bind(encode_vector(vector));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The lexical index's SQL (see `common`): one token's count (`{n}`: its placeholder), the
    /// search (`{columns}`, `{conditions}`, `{next}`), and how tokens are or-ed in a match.
    ///
    /// The search matches in a materialised CTE, then checks the owner: joined directly, the
    /// planner may walk the caller's rows and evaluate the full-text match once per row (the
    /// search took 20–230 ms for callers with 100–1,500 memories among 20,000 users; matched
    /// first, memory-query's p99 over all callers fell from 28.5 to 4.6 ms).
    const TOKEN_COUNT: &'static str =
        "(SELECT COUNT(*) FROM memory_terms_fts WHERE memory_terms_fts MATCH ${n})";
    const TOKEN_SEARCH: &'static str = "WITH f AS MATERIALIZED (\
         SELECT rowid AS memory_id, rank FROM memory_terms_fts WHERE memory_terms_fts MATCH $1) \
         SELECT {columns}, t.terms AS terms FROM f \
         JOIN memory_terms t ON t.memory_id = f.memory_id JOIN memories m ON m.id = t.memory_id \
         WHERE t.user_id = $2{conditions} ORDER BY f.rank, m.id LIMIT ${next}";
    const TOKEN_OR: &'static str = " OR ";

    /// Appends a row's little-endian `f32` blob to an index matrix.
    fn push_row_vector(&self, row: &SqliteRow, matrix: &mut Vec<f32>) -> StoreResult<()> {
        let blob: &[u8] = row.try_get("embedding")?;
        if blob.len() != self.space.dimension * 4 {
            return Err(StoreError::Corrupt(format!(
                "stored vector has {} bytes, expected {}",
                blob.len(),
                self.space.dimension * 4
            )));
        }
        matrix.extend(
            blob.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        Ok(())
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
