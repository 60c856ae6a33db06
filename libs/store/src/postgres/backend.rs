//! What is PostgreSQL's own in the shared store: pgvector `vector` columns.

use async_trait::async_trait;
use memvox_core::{MemoryId, UnixMillis};
use sqlx::{
    Postgres, Row,
    postgres::{PgPool, PgRow},
};

use super::PostgresStore;
use crate::{
    StoreError, StoreResult,
    backend::{Backend, Core},
    dialect::Conn,
    sql::{self, INSERT_CHUNK, for_postgres, user_index_ids},
};

#[async_trait]
impl Backend for PostgresStore {
    type Sql = Postgres;

    const NAME: &'static str = "postgres";

    /// From the ids' own sequence, so they never collide with another writer's.
    /// Naming the user too: by the ids alone, PostgreSQL misestimated the id list and hashed
    /// the whole memories table for each load (a sequential scan of every user's rows:
    /// 10.8 ms for a caller with 113 memories among 28,000, 1.8 ms with the user named), and the
    /// embedding worker's link step loads an index after each call's vectors are written.
    const USER_INDEX_ROWS: &'static str = concat!("m.user_id = $1 AND ", user_index_ids!());

    const MEMORY_IDS: &'static str = "SELECT nextval(pg_get_serial_sequence('memories', 'id')) \
         AS id FROM generate_series(1, $1::bigint) ORDER BY 1";

    /// Large statements (the limit is 65,535 parameters): fewer round trips.
    const STATEMENT_PARAMS: usize = 30_000;

    /// Statistics, and the visibility map that lets counts be answered from an index alone.
    const ANALYZE: &'static str = "VACUUM ANALYZE";

    fn core(&self) -> &Core {
        &self.core
    }

    fn reads(&self) -> &PgPool {
        &self.pool
    }

    /// Writes share the pool: PostgreSQL locks rows, not the database.
    fn writes(&self) -> &PgPool {
        &self.pool
    }

    /// Appends a row's pgvector `vector` to an index matrix.
    fn push_row_vector(&self, row: &PgRow, matrix: &mut Vec<f32>) -> StoreResult<bool> {
        let Some(vector): Option<pgvector::Vector> = row.try_get("embedding")? else {
            return Ok(false);
        };
        let values = vector.as_slice();
        let dimension = self.core.space.dimension;
        if values.len() != dimension {
            return Err(StoreError::Corrupt(format!(
                "stored vector has {} dimensions, expected {dimension}",
                values.len(),
            )));
        }
        matrix.extend_from_slice(values);
        Ok(true)
    }

    async fn write_vectors(
        &self,
        conn: &mut Conn<Self::Sql>,
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()> {
        let space = &self.core.space;
        for chunk in vectors.chunks(INSERT_CHUNK) {
            let statement = sql::upsert_embeddings(chunk.len(), "::bigint", "::vector");
            let mut query = sqlx::query(for_postgres(statement))
                .bind(&space.model)
                .bind(i64::try_from(space.dimension).unwrap_or(i64::MAX))
                .bind(now);
            for (id, vector) in chunk {
                query = query.bind(*id).bind(pgvector::Vector::from(vector.clone()));
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }
}
