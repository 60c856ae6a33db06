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
    sql::{self, INSERT_CHUNK, for_postgres},
};

#[async_trait]
impl Backend for PostgresStore {
    type Sql = Postgres;

    const NAME: &'static str = "postgres";

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
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()> {
        let space = &self.core.space;
        let mut tx = self.pool.begin().await?;
        for chunk in vectors.chunks(INSERT_CHUNK) {
            let statement = sql::upsert_embeddings(chunk.len(), "::bigint", "::vector");
            let mut query = sqlx::query(for_postgres(statement))
                .bind(&space.model)
                .bind(i64::try_from(space.dimension).unwrap_or(i64::MAX))
                .bind(now);
            for (id, vector) in chunk {
                query = query.bind(*id).bind(pgvector::Vector::from(vector.clone()));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
