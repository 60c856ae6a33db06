//! memvox's system of record behind one interface, [`Store`], with two backends that pass one
//! shared contract test suite:
//!
//! - [`SqliteStore`], the embedded default: one file, WAL, the seed plan's pragmas on every
//!   connection, vectors as little-endian `f32` blobs.
//! - [`PostgresStore`]: PostgreSQL with pgvector `vector` columns.
//!
//! Both search exactly through a per-user in-process index (vectors and lexical postings), kept
//! current across processes by a per-user vectors version that database triggers move on every
//! relevant write.
//!
//! Both hold one [`EmbeddingSpace`] (model id and dimension), recorded in the database on first
//! open; opening with another space, or storing or searching a vector of another dimension, is
//! an [`StoreError::EmbeddingMismatch`], never a silent mismatch.
//!
//! Transcript text, raw webhook payloads, memory content (and history), user summaries, call
//! analysis summaries and caller numbers (found by a keyed blind index) are encrypted at rest with the [`Keyring`] the store is opened with
//! (see `encryption`); reads decrypt, so callers see plaintext.
//!
//! [`Store`] is the union of role traits in domain words, one area file each: [`StoreInfo`],
//! [`Users`], [`Events`], [`Calls`], [`Extraction`], [`Memories`], [`MemoryEdits`], [`Search`],
//! [`Links`], [`Erasure`], [`Retention`], [`Invocations`], [`Keys`] and [`Imports`]. Each is
//! implemented once for any backend (`backend::Backend`) over a small SQL layer (`dialect`), with
//! the SQL shared between the backends; only schema, connection set-up and vector storage differ
//! (`sqlite/backend.rs`, `postgres/backend.rs`). Lexical search runs over per-user keyed word
//! tokens (`lexical`) held as in-memory postings (`postings`).

mod backend;
mod background_thread;
mod bulk;
mod callers;
mod calls;
mod copy;
mod dialect;
mod encryption;
mod erasure;
mod error;
mod event_batch;
mod events;
mod extraction;
mod footprint;
mod imports;
mod index_cache;
mod invocations;
mod keys;
mod lexical;
mod links;
mod memories;
mod memory_edits;
mod meta;
pub mod migrations;
mod model;
mod postgres;
mod postings;
mod quantised;
mod retention;
mod rows;
mod search;
mod settings;
mod sql;
mod sqlite;
mod store;
mod tombstone;
mod user_index;
mod users;
mod written;

use std::sync::Arc;

use memvox_crypto::Keyring;

pub use background_thread::{BackgroundError, enter_background};
pub use bulk::{BulkLink, BulkLoad, BulkMemory, BulkUser};
pub use calls::{Calls, EPISODE_SALIENCE};
pub use copy::{
    CopyError, CopyEvent, CopyObserver, CopyOptions, CopyReport, Phase, TableCheck, copied_tables,
    copy_store,
};
pub use encryption::{ColumnStatus, Cursor, ReencryptBatch, encrypted_columns};
pub use erasure::Erasure;
pub use error::{StoreError, StoreResult};
pub use events::{Events, MAX_CONCURRENT_ACCEPTANCES};
pub use extraction::Extraction;
pub use footprint::{IndexFootprint, LayerFootprint};
pub use imports::{ImportState, Imports, PendingConversation};
pub use invocations::Invocations;
pub use keys::Keys;
pub(crate) use lexical::LexicalKey;
pub use lexical::MAX_QUERY_TERMS;
pub use links::Links;
pub use memories::{HistoryEntry, Memories, MemoryOrder, MemoryTally};
pub use memory_edits::MemoryEdits;
pub use model::{
    Acceptance, CallAnalysis, CallRecord, EmbeddingSpace, ErasureReceipt, EventStatus,
    ExtractionCommit, ExtractionOutcome, LexicalHit, LexicalSearch, MemoryEdit, MemoryFilter,
    MovedEvent, Neighbour, NewEvent, PlannedMemory, RecordedEvent, SearchHit, StoredEvent,
    ToolInvocation, UserVersion,
};
pub use postgres::PostgresStore;
pub use retention::{Retention, RetentionCutoffs, RetentionReport};
pub use search::{Search, UserView};
pub use settings::{StoreBackend, StoreSettings, redact_url};
pub use sqlite::{SnapshotInfo, SqliteStore};
pub use store::{Store, StoreInfo};
pub use tombstone::Erased;
pub use users::Users;

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
