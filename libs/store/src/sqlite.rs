//! The embedded SQLite backend: one file, WAL journal, the seed plan's pragmas on every
//! connection, vectors as little-endian `f32` blobs and an exact per-user scan in Rust.

use std::{path::Path, str::FromStr, time::Duration};

use memvox_core::{MemoryId, UnixMillis, vector::dot};
use sqlx::{
    Row,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use crate::{
    EmbeddingSpace, MemoryFilter, SearchHit, StoreError, StoreResult, StoreSettings,
    common::{impl_store, memory_from_row},
    sql::{self, Bind, for_sqlite},
};

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    space: EmbeddingSpace,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, migrates it when the settings ask for it
    /// (the default for SQLite), and checks the embedding space.
    pub async fn open(
        path: &Path,
        settings: &StoreSettings,
        space: EmbeddingSpace,
    ) -> StoreResult<Self> {
        let pool = Self::connect(path, settings).await?;
        if settings.migrate_on_start.unwrap_or(true) {
            Self::migrate_pool(&pool).await?;
        }
        let store = Self { pool, space };
        store.check_embedding_space().await?;
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
        for (id, vector) in vectors {
            sqlx::query(for_sqlite(sql::UPSERT_EMBEDDING))
                .bind(*id)
                .bind(&self.space.model)
                .bind(dimension_i64(vector.len()))
                .bind(encode_vector(vector))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn backend_search_memories(
        &self,
        user_id: &str,
        query: &[f32],
        filter: &MemoryFilter,
        limit: usize,
    ) -> StoreResult<Vec<SearchHit>> {
        let mut next = 3;
        let (conditions, binds) = sql::filter_conditions(filter, &mut next);
        let statement = format!(
            "SELECT {}, e.embedding FROM memory_embeddings e JOIN memories m ON m.id = e.memory_id \
             WHERE e.user_id = $1 AND e.model = $2{conditions}",
            sql::memory_columns!()
        );
        let mut sql_query = sqlx::query(for_sqlite(statement))
            .bind(user_id)
            .bind(&self.space.model);
        for bind in binds {
            sql_query = match bind {
                Bind::Text(text) => sql_query.bind(text),
                Bind::Int(int) => sql_query.bind(int),
            };
        }
        let rows = sql_query.fetch_all(&self.pool).await?;
        let mut scored = Vec::with_capacity(rows.len());
        for row in &rows {
            let blob: &[u8] = row.try_get("embedding")?;
            let similarity = dot_with_blob(query, blob)?;
            scored.push((similarity, row));
        }
        let keep = limit.min(scored.len());
        if keep < scored.len() {
            scored.select_nth_unstable_by(keep, |a, b| b.0.total_cmp(&a.0));
            scored.truncate(keep);
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .map(|(similarity, row)| {
                Ok(SearchHit {
                    memory: memory_from_row(row)?,
                    similarity: f64::from(similarity),
                })
            })
            .collect()
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

/// Dot product of `query` with a stored little-endian `f32` blob, without allocating.
fn dot_with_blob(query: &[f32], blob: &[u8]) -> StoreResult<f32> {
    if blob.len() != query.len() * 4 {
        return Err(StoreError::Corrupt(format!(
            "stored vector has {} bytes, expected {}",
            blob.len(),
            query.len() * 4
        )));
    }
    let mut stored = [0.0f32; 64];
    let mut total = 0.0;
    for (q_chunk, b_chunk) in query.chunks(64).zip(blob.chunks(256)) {
        for (slot, bytes) in stored.iter_mut().zip(b_chunk.chunks_exact(4)) {
            *slot = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        total += dot(q_chunk, &stored[..q_chunk.len()]);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_dot_matches_plain_dot() {
        let a: Vec<f32> = (0..300).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..300).map(|i| (i as f32 * 0.11).cos()).collect();
        let from_blob = dot_with_blob(&a, &encode_vector(&b)).unwrap();
        assert!((from_blob - dot(&a, &b)).abs() < 1e-3);
        assert!(dot_with_blob(&a, &encode_vector(&b[..10])).is_err());
    }
}
