//! What a backend gives the shared area implementations: its [`Dialect`], its pools, what every
//! store holds ([`Core`]), and the few things that differ (vector storage and decoding). Every
//! role trait of the store is implemented once, for any [`Backend`], in its area file.

use async_trait::async_trait;
use memvox_core::{MemoryId, UnixMillis};
use memvox_crypto::Keyring;
use sqlx::{Pool, Transaction, pool::PoolConnection};

use crate::{
    EmbeddingSpace, LexicalKey, StoreResult, StoreSettings,
    copy::CopySql,
    dialect::{Conn, Dialect},
    index_cache::UserIndexCache,
    sql::{self, INSERT_CHUNK},
};

/// The sqlx database of backend `B`.
pub(crate) type Db<B> = <<B as Backend>::Sql as Dialect>::Db;

/// A statement being bound, of backend `B`.
pub(crate) type QueryOf<B> = <<B as Backend>::Sql as Dialect>::Query;

/// A row of backend `B`.
pub(crate) type RowOf<B> = <<B as Backend>::Sql as Dialect>::Row;

/// What both backends hold besides their pools.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    /// The model and dimension of the stored vectors.
    pub(crate) space: EmbeddingSpace,
    /// Per-user in-memory indexes (vectors and lexical postings).
    pub(crate) index: UserIndexCache,
    /// The key of the lexical index's tokens.
    pub(crate) lexical: LexicalKey,
    /// Encrypts and decrypts every sensitive value.
    pub(crate) keyring: Keyring,
    /// How long erasure tombstones live (`None`: forever).
    pub(crate) tombstone_days: Option<u64>,
}

impl Core {
    /// What a store opened with `space`, `keyring` and `tombstone_days` holds.
    pub(crate) fn new(space: EmbeddingSpace, keyring: Keyring, settings: &StoreSettings) -> Self {
        Self {
            space,
            index: UserIndexCache::with_capacity(settings.index_cache_mb.saturating_mul(1 << 20)),
            lexical: LexicalKey::for_keyring(&keyring),
            keyring,
            tombstone_days: settings.tombstone_lifetime_days,
        }
    }
}

/// A database backend of the store.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// Its SQL dialect.
    type Sql: Dialect;

    /// Backend name, `sqlite` or `postgres`.
    const NAME: &'static str;

    /// Which memory rows (alias `m`) a user's index loads for user `$1` (`search::load`): the
    /// condition that fits this backend's planner.
    const USER_INDEX_ROWS: &'static str;

    /// The outgoing links of user `$1`'s memories (`source_memory_id`, `target_memory_id`,
    /// `weight`), strongest first per source: the form that fits this backend's planner.
    const USER_LINKS: &'static str;

    /// Hands out `$1` fresh memory ids (one row each, column 0), for a bulk load's explicit ids.
    const MEMORY_IDS: &'static str;

    /// Bound parameters per statement of a bulk load: what this backend binds fastest.
    const STATEMENT_PARAMS: usize;

    /// Refreshes planner statistics after a bulk load.
    const ANALYZE: &'static str;

    /// What the store holds.
    fn core(&self) -> &Core;

    /// The pool reads use.
    fn reads(&self) -> &Pool<Db<Self>>;

    /// The pool every write uses.
    fn writes(&self) -> &Pool<Db<Self>>;

    /// Where deliveries are acknowledged when not straight into the events table: SQLite's
    /// ingest file (see `sqlite::staging`); none by default.
    fn staging(&self) -> Option<&crate::sqlite::Staging> {
        None
    }

    /// Appends a row's stored vector (column `embedding`) to an index matrix if it has one
    /// (not `NULL`); whether it had.
    fn push_row_vector(&self, row: &RowOf<Self>, matrix: &mut Vec<f32>) -> StoreResult<bool>;

    /// The casts [`sql::upsert_embeddings`] writes after each row's id and vector placeholders.
    const VECTOR_CASTS: (&'static str, &'static str);

    /// Binds a vector to a statement's next placeholder, as this backend stores it.
    fn bind_vector(query: QueryOf<Self>, vector: &[f32]) -> QueryOf<Self>;

    /// The vector stored in column `index` of a row, if not `NULL` (any dimension).
    fn row_vector(row: &RowOf<Self>, index: usize) -> StoreResult<Option<Vec<f32>>>;

    /// What a copy between stores runs on this backend beyond the shared SQL (`copy`).
    const COPY: CopySql;

    /// Stores (or replaces) vectors already checked against the embedding space, in an open
    /// transaction.
    async fn write_vectors(
        &self,
        conn: &mut Conn<Self::Sql>,
        vectors: &[(MemoryId, Vec<f32>)],
        now: UnixMillis,
    ) -> StoreResult<()> {
        let space = &self.core().space;
        let (id_cast, vector_cast) = Self::VECTOR_CASTS;
        for chunk in vectors.chunks(INSERT_CHUNK) {
            let statement = sql::upsert_embeddings(chunk.len(), id_cast, vector_cast);
            let mut query = Self::Sql::query(statement.into());
            query = Self::Sql::bind(query, &space.model);
            query = Self::Sql::bind(query, i64::try_from(space.dimension).unwrap_or(i64::MAX));
            query = Self::Sql::bind(query, now);
            for (id, vector) in chunk {
                query = Self::bind_vector(Self::Sql::bind(query, *id), vector);
            }
            Self::Sql::execute(conn, query).await?;
        }
        Ok(())
    }

    /// A connection for reads.
    async fn read(&self) -> StoreResult<PoolConnection<Db<Self>>> {
        Ok(self.reads().acquire().await?)
    }

    /// The connection for a single write.
    async fn write(&self) -> StoreResult<PoolConnection<Db<Self>>> {
        Ok(self.writes().acquire().await?)
    }

    /// A write transaction.
    async fn begin(&self) -> StoreResult<Transaction<'static, Db<Self>>> {
        Ok(self.writes().begin().await?)
    }
}
