//! What is SQLite's own in the shared store: vectors as little-endian `f32` blobs.

use async_trait::async_trait;
use sqlx::{
    Row, Sqlite,
    sqlite::{SqlitePool, SqliteRow},
};

use super::SqliteStore;
use crate::{
    StoreError, StoreResult,
    backend::{Backend, Core, QueryOf},
    copy::CopySql,
    sql::user_index_ids,
};

#[async_trait]
impl Backend for SqliteStore {
    type Sql = Sqlite;

    const NAME: &'static str = "sqlite";

    /// By the ids alone: SQLite then reads the rows in id order by primary key and needs no
    /// sort. Naming the user too, it drove the load from the memories' user index and sorted
    /// afterwards: a caller with 40,000 memories loaded in 1.9 s instead of 1.0 s (loadtest).
    const USER_INDEX_ROWS: &'static str = user_index_ids!();

    /// Joined with `memories`: SQLite finds the user's memories by their user index, then each
    /// one's links by the links' primary key.
    const USER_LINKS: &'static str = "SELECT l.source_memory_id, l.target_memory_id, l.weight \
         FROM memory_links l JOIN memories m ON m.id = l.source_memory_id \
         WHERE m.user_id = $1 ORDER BY l.source_memory_id, l.weight DESC, l.target_memory_id";

    /// Past the largest id ever handed out (`AUTOINCREMENT` never reuses one); the one writer
    /// connection keeps them from racing.
    const MEMORY_IDS: &'static str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL \
         SELECT i + 1 FROM n WHERE i < $1) SELECT CAST(i + MAX( \
         COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'memories'), 0), \
         COALESCE((SELECT MAX(id) FROM memories), 0)) AS BIGINT) AS id FROM n";

    /// sqlx looks every parameter's name up among all of a statement's, so binding cost grows
    /// with the square of the count: small statements are fastest.
    const STATEMENT_PARAMS: usize = 600;

    const ANALYZE: &'static str = "ANALYZE";

    const VECTOR_CASTS: (&'static str, &'static str) = ("", "");

    fn core(&self) -> &Core {
        &self.core
    }

    fn reads(&self) -> &SqlitePool {
        &self.pool
    }

    /// The one connection every write goes through.
    fn writes(&self) -> &SqlitePool {
        &self.writer
    }

    /// The ingest file beside the database, when the store was opened to serve.
    fn staging(&self) -> Option<&super::Staging> {
        self.staging.as_ref()
    }

    /// Appends a row's little-endian `f32` blob to an index matrix.
    fn push_row_vector(&self, row: &SqliteRow, matrix: &mut Vec<f32>) -> StoreResult<bool> {
        let Some(blob): Option<&[u8]> = row.try_get("embedding")? else {
            return Ok(false);
        };
        let dimension = self.core.space.dimension;
        if blob.len() != dimension * 4 {
            return Err(StoreError::Corrupt(format!(
                "stored vector has {} bytes, expected {}",
                blob.len(),
                dimension * 4
            )));
        }
        matrix.extend(decode_vector(blob));
        Ok(true)
    }

    fn row_vector(row: &SqliteRow, index: usize) -> StoreResult<Option<Vec<f32>>> {
        let blob: Option<&[u8]> = row.try_get(index)?;
        blob.map(|blob| {
            if blob.len() % 4 == 0 {
                Ok(decode_vector(blob).collect())
            } else {
                Err(StoreError::Corrupt(format!(
                    "stored vector has {} bytes, not whole f32s",
                    blob.len()
                )))
            }
        })
        .transpose()
    }

    /// `AUTOINCREMENT`'s counters in `sqlite_sequence`; the clock is `vectors_clock`'s row.
    const COPY: CopySql = CopySql {
        byte_order: "",
        id_counter: "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = $1), 0)",
        advance_id_counter: &[
            "INSERT INTO sqlite_sequence (name, seq) SELECT $1, $2 \
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = $1)",
            "UPDATE sqlite_sequence SET seq = $2 WHERE name = $1 AND seq < $2",
        ],
        clock: "SELECT value FROM vectors_clock WHERE id = 1",
        advance_clock: "UPDATE vectors_clock SET value = $1 WHERE id = 1 AND value < $1",
    };

    /// As little-endian `f32` bytes.
    fn bind_vector(query: QueryOf<Self>, vector: &[f32]) -> QueryOf<Self> {
        query.bind(encode_vector(vector))
    }
}

/// The `f32`s of a little-endian blob (whole values only).
fn decode_vector(blob: &[u8]) -> impl Iterator<Item = f32> + '_ {
    blob.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Little-endian `f32` bytes.
fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}
