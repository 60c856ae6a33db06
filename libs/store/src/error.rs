//! The store's error type: what went wrong, in words callers branch on.

use thiserror::Error;

/// Errors of the system of record.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The addressed row does not exist (or belongs to another user).
    #[error("{what} not found")]
    NotFound {
        /// What was looked up, e.g. "memory 42".
        what: String,
    },
    /// What was addressed was erased and stays erased (a tombstone refuses it): drop the
    /// work, never retry it.
    #[error("{what} was erased")]
    Erased {
        /// What was refused, e.g. "event 42".
        what: String,
    },
    /// The request conflicts with stored data.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input cannot be stored as given.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A vector's model or dimension differs from the store's embedding space.
    #[error(
        "embedding mismatch: the store holds `{stored_model}` vectors of dimension \
         {stored_dimension}, but got `{model}` with dimension {dimension}"
    )]
    EmbeddingMismatch {
        /// Model the store was built with.
        stored_model: String,
        /// Dimension the store was built with.
        stored_dimension: usize,
        /// Model of the offending vector or configuration.
        model: String,
        /// Dimension of the offending vector or configuration.
        dimension: usize,
    },
    /// The store is misconfigured or its server lacks something it needs (e.g. pgvector).
    #[error("store configuration: {0}")]
    Config(String),
    /// The database could not be reached or timed out; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Schema migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A value could not be encrypted or decrypted (unknown key, tampering, wrong context).
    #[error("encryption: {0}")]
    Crypto(#[from] memvox_crypto::CryptoError),
    /// A stored value could not be decoded (corrupt row or schema drift).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether trying the same operation again later may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound {
                what: "row".to_owned(),
            },
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error),
            sqlx::Error::Database(ref db) if is_busy(db.as_ref()) => StoreError::Unavailable(error),
            other => StoreError::Database(other),
        }
    }
}

/// SQLite "database is locked/busy" and PostgreSQL serialization/deadlock/connection failures
/// are transient.
fn is_busy(error: &dyn sqlx::error::DatabaseError) -> bool {
    matches!(
        error.code().as_deref(),
        Some("5" | "6" | "40001" | "40P01" | "57P01" | "08006" | "08001")
    )
}

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;
