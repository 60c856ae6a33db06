//! memvox's system of record behind one interface, [`Store`], with two backends that pass one
//! shared contract test suite:
//!
//! - [`SqliteStore`], the embedded default: one file, WAL, the seed plan's pragmas on every
//!   connection, vectors as little-endian `f32` blobs.
//! - [`PostgresStore`]: PostgreSQL with pgvector `vector` columns.
//!
//! Both search exactly through a per-user in-process vector index, kept current across
//! processes by a per-user vectors version that database triggers move on every relevant write.
//!
//! Both hold one [`EmbeddingSpace`] (model id and dimension), recorded in the database on first
//! open; opening with another space, or storing or searching a vector of another dimension, is
//! an [`StoreError::EmbeddingMismatch`], never a silent mismatch.
//!
//! Transcript text, raw webhook payloads, memory content (and history), user summaries and call
//! analysis summaries are encrypted at rest with the [`Keyring`] the store is opened with
//! (see `encryption`); reads decrypt, so callers see plaintext.
//!
//! Most SQL is shared between the backends (see `common`); only schema, connection set-up,
//! vector storage/search and the full-text index (SQLite FTS5, PostgreSQL `tsvector` + GIN over
//! per-user keyed word tokens, see `lexical`) differ.

mod backend;
mod common;
mod dialect;
mod encryption;
mod erasure;
mod error;
mod events;
mod invocations;
mod keys;
mod lexical;
mod links;
mod memories;
mod memory_edits;
mod meta;
mod model;
mod postgres;
mod retention;
mod rows;
mod search;
mod settings;
mod sql;
mod sqlite;
mod store;
mod tombstone;
mod users;
mod vector_index;
mod written;

use std::sync::Arc;

use async_trait::async_trait;
use memvox_core::UnixMillis;
use memvox_crypto::Keyring;

pub use common::EPISODE_SALIENCE;
pub use encryption::{
    ColumnStatus, Cursor, ReencryptBatch, encrypted_columns, sealed_memory_content,
};
pub use erasure::Erasure;
pub use error::{StoreError, StoreResult};
pub use events::Events;
pub use invocations::Invocations;
pub use keys::Keys;
pub use lexical::{LexicalKey, MAX_QUERY_TERMS};
pub use links::Links;
pub use memories::{Memories, MemoryOrder};
pub use memory_edits::MemoryEdits;
pub use model::{
    CallAnalysis, CallRecord, EmbeddingSpace, ErasureReceipt, EventStatus, ExtractionCommit,
    ExtractionOutcome, LexicalHit, LexicalSearch, MemoryEdit, MemoryFilter, Neighbour, NewEvent,
    PlannedMemory, RecordedEvent, SearchHit, StoredEvent, ToolInvocation, UserVersion,
};
pub use postgres::PostgresStore;
pub use retention::{Retention, RetentionCutoffs, RetentionReport};
pub use search::Search;
pub use settings::{StoreBackend, StoreSettings};
pub use sqlite::SqliteStore;
pub use store::{Store, StoreInfo};
pub use tombstone::Erased;
pub use users::Users;

/// The roles of [`Store`] not yet in their own area file.
#[doc(hidden)]
#[async_trait]
pub trait StoreRest: Send + Sync {
    /// Start times of the user's recorded calls, newest first.
    async fn user_call_times(&self, user_id: &str, limit: usize) -> StoreResult<Vec<UnixMillis>>;

    /// Records a call (conversation, turns, analysis), replacing what an earlier delivery of
    /// the same conversation recorded.
    async fn record_call(&self, call: &CallRecord, now: UnixMillis) -> StoreResult<()>;

    /// Reads a call back.
    async fn get_call(&self, conversation_id: &str) -> StoreResult<Option<CallRecord>>;

    /// Applies everything one post-call event produces — the call, a caller binding, the memory
    /// changes — and marks the event completed, in one transaction. Idempotent on the event: a
    /// second application (redelivery after a crash between commit and ack, or two workers
    /// racing) writes nothing and returns the first run's memory ids.
    async fn apply_extraction(&self, commit: &ExtractionCommit) -> StoreResult<ExtractionOutcome>;

    /// Applies several events' extractions, in order, in one transaction (a group commit: the
    /// transaction's fixed cost is paid once for all of them). Each is idempotent as in
    /// [`Store::apply_extraction`]; a later commit sees what an earlier one wrote. If any of them
    /// fails, none is written and the error is returned.
    async fn apply_extractions(
        &self,
        commits: &[&ExtractionCommit],
    ) -> StoreResult<Vec<ExtractionOutcome>>;
}

/// Opens the configured backend, migrating it when the settings ask for it, and checks its
/// embedding space and its keys against `keyring`, which encrypts and decrypts every sensitive
/// value. The one place that matches on the backend.
pub async fn open_store(
    settings: &StoreSettings,
    space: EmbeddingSpace,
    keyring: Keyring,
) -> StoreResult<Arc<dyn Store>> {
    Ok(match settings.backend()? {
        StoreBackend::Sqlite { path } => {
            Arc::new(SqliteStore::open(&path, settings, space, keyring).await?)
        }
        StoreBackend::Postgres { url, schema } => {
            Arc::new(PostgresStore::open(&url, schema.as_deref(), settings, space, keyring).await?)
        }
    })
}
