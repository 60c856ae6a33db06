//! What is PostgreSQL's own in the shared store: pgvector `vector` columns.

use async_trait::async_trait;
use sqlx::{
    Postgres, Row,
    postgres::{PgPool, PgRow},
};

use super::PostgresStore;
use crate::{
    StoreError, StoreResult,
    backend::{Backend, Core, QueryOf},
    copy::CopySql,
    sql::user_index_ids,
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

    /// Through the links' primary key, from the array of the user's memory ids: joined with
    /// `memories` as a prepared statement's generic plan, PostgreSQL scanned every link of
    /// every user and hashed them (2.2 ms for a caller with no links among 17,000, growing with
    /// the table; 0.27 ms this way).
    const USER_LINKS: &'static str = "SELECT l.source_memory_id, l.target_memory_id, l.weight \
         FROM memory_links l \
         WHERE l.source_memory_id = ANY(ARRAY(SELECT id FROM memories WHERE user_id = $1)) \
         ORDER BY l.source_memory_id, l.weight DESC, l.target_memory_id";

    const MEMORY_IDS: &'static str = "SELECT nextval(pg_get_serial_sequence('memories', 'id')) \
         AS id FROM generate_series(1, $1::bigint) ORDER BY 1";

    /// Large statements (the limit is 65,535 parameters): fewer round trips.
    const STATEMENT_PARAMS: usize = 30_000;

    /// Statistics, and the visibility map that lets counts be answered from an index alone.
    const ANALYZE: &'static str = "VACUUM ANALYZE";

    /// PostgreSQL needs the types inside `VALUES`.
    const VECTOR_CASTS: (&'static str, &'static str) = ("::bigint", "::vector");

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

    fn bind_vector(query: QueryOf<Self>, vector: &[f32]) -> QueryOf<Self> {
        query.bind(pgvector::Vector::from(vector.to_vec()))
    }

    fn row_vector(row: &PgRow, index: usize) -> StoreResult<Option<Vec<f32>>> {
        let vector: Option<pgvector::Vector> = row.try_get(index)?;
        Ok(vector.map(Vec::from))
    }

    /// Serial sequences and `vectors_version_seq`, read with `pg_sequence_last_value` (`NULL`
    /// before a sequence's first value); text keys in byte order (`COLLATE "C"`), as SQLite
    /// orders them.
    const COPY: CopySql = CopySql {
        byte_order: " COLLATE \"C\"",
        id_counter: "SELECT COALESCE(pg_sequence_last_value( \
             pg_get_serial_sequence($1, 'id')::regclass), 0)",
        advance_id_counter: &[
            "SELECT setval(pg_get_serial_sequence($1, 'id'), $2::bigint) \
             WHERE $2::bigint > COALESCE(pg_sequence_last_value( \
             pg_get_serial_sequence($1, 'id')::regclass), 0)",
        ],
        clock: "SELECT COALESCE(pg_sequence_last_value('vectors_version_seq'::regclass), 0)",
        advance_clock: "SELECT setval('vectors_version_seq', $1::bigint) \
             WHERE $1::bigint > COALESCE(pg_sequence_last_value('vectors_version_seq'::regclass), 0)",
    };
}
