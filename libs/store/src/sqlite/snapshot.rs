//! Copies of the embedded database for backups and restores: a consistent snapshot taken while
//! the store serves ([`SqliteStore::snapshot`]), what a snapshot says about itself
//! ([`SqliteStore::describe`]), and sole hold of a database file so that it can be replaced
//! or renamed as one self-contained file ([`SqliteStore::settle`]).
//!
//! A snapshot is `VACUUM INTO` on one read connection: it runs in a single read transaction,
//! so it holds every transaction committed before it started and none after, while the
//! writer goes on committing to the WAL beside it. It writes a compact file (free pages left
//! out) in rollback-journal mode, which opens on its own: no WAL travels with it.
//!
//! Deliveries acknowledged into the ingest file (`staging`) and not yet moved join the
//! snapshot's events table: the ingest file is copied first, then the database, so a delivery
//! acknowledged before the snapshot began is in one copy or the other (it leaves the ingest file
//! only after it is in the database), and the events table's key keeps it once.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    Connection, Row,
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode},
};

use super::{SqliteStore, Staging};
use crate::migrations::sqlite as migrator;
use crate::{StoreError, StoreResult, StoreSettings, encryption::meta};

/// What a snapshot records about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Version of the newest migration it has applied (0 before the first).
    pub schema_version: i64,
    /// Embedding model of its vectors, once recorded.
    pub embedding_model: Option<String>,
    /// Dimension of its vectors, once recorded.
    pub embedding_dimension: Option<usize>,
    /// Whether it holds encrypted values.
    pub encrypted: bool,
    /// Ids of the keys its encrypted values need.
    pub key_ids: Vec<String>,
}

impl SqliteStore {
    /// The version of the newest migration this build applies: the schema it writes.
    pub fn schema_version() -> i64 {
        migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Writes a consistent copy of the database at `source` to `into` (a path that must not
    /// exist yet), on one read connection while writers go on.
    ///
    /// # Errors
    /// [`StoreError::Config`] when `source` does not exist or `into` is not UTF-8; database
    /// errors of the copy.
    pub async fn snapshot(source: &Path, settings: &StoreSettings, into: &Path) -> StoreResult<()> {
        if !source.is_file() {
            return Err(StoreError::Config(format!(
                "no SQLite database at {}",
                source.display()
            )));
        }
        let one = StoreSettings {
            max_connections: 1,
            ..settings.clone()
        };
        let staged = Staging::path_beside(source);
        let staged_copy = into.with_extension("staged.tmp");
        let staged_copy = match staged.is_file() {
            true => Some(
                vacuum_into(&staged, &one, &staged_copy)
                    .await
                    .map(|()| staged_copy)?,
            ),
            false => None,
        };
        vacuum_into(source, &one, into).await?;
        if let Some(staged_copy) = staged_copy {
            let joined = join_staged(into, &staged_copy).await;
            let _ = std::fs::remove_file(&staged_copy);
            joined?;
        }
        Ok(())
    }

    /// Reads what a database file nobody writes (a snapshot) records: its schema version,
    /// embedding space and keys.
    ///
    /// # Errors
    /// Database errors, e.g. when the file is not a memvox database.
    pub async fn describe(path: &Path) -> StoreResult<SnapshotInfo> {
        let options = options(path)?.read_only(true).immutable(true);
        let mut conn = SqliteConnection::connect_with(&options).await?;
        let schema_version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut conn)
                .await?;
        let rows = sqlx::query("SELECT key, value FROM store_meta")
            .fetch_all(&mut conn)
            .await?;
        conn.close().await?;
        let mut recorded = std::collections::BTreeMap::new();
        for row in rows {
            recorded.insert(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?);
        }
        let embedding_dimension = match recorded.get("embedding_dimension") {
            Some(d) => Some(
                d.parse()
                    .map_err(|_| StoreError::Corrupt(format!("embedding_dimension `{d}`")))?,
            ),
            None => None,
        };
        Ok(SnapshotInfo {
            schema_version: schema_version.unwrap_or(0),
            embedding_model: recorded.get("embedding_model").cloned(),
            embedding_dimension,
            encrypted: meta::marked(&recorded),
            key_ids: meta::key_ids(&recorded),
        })
    }

    /// Takes sole hold of the database at `path`, folds its WAL into the file and leaves it
    /// in rollback-journal mode: one self-contained file that can be renamed or replaced (the
    /// store turns WAL on again when it next opens it). `Ok(false)`, changing nothing, when
    /// another connection (e.g. a running `memvox serve`) has the database open.
    ///
    /// # Errors
    /// Database errors other than the database being busy, e.g. a file that is not a
    /// database.
    pub async fn settle(path: &Path) -> StoreResult<bool> {
        let options = options(path)?
            .locking_mode(SqliteLockingMode::Exclusive)
            .busy_timeout(Duration::ZERO);
        let settled = async {
            let mut conn = SqliteConnection::connect_with(&options).await?;
            sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await?;
            sqlx::query("COMMIT").execute(&mut conn).await?;
            sqlx::query("PRAGMA journal_mode = DELETE")
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        match settled.await.map_err(StoreError::from) {
            Ok(()) => Ok(true),
            Err(StoreError::Unavailable(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

/// Copies the database at `source` into `into` (which must not exist) in one read transaction.
async fn vacuum_into(source: &Path, settings: &StoreSettings, into: &Path) -> StoreResult<()> {
    let target = utf8(into)?;
    let pool = SqliteStore::connect(source, settings).await?;
    let copied = sqlx::query("VACUUM INTO ?1")
        .bind(target)
        .execute(&pool)
        .await;
    pool.close().await;
    copied?;
    Ok(())
}

/// Adds the staged deliveries of an ingest file's copy to a snapshot's events table (pending,
/// as the store would have moved them).
async fn join_staged(snapshot: &Path, staged: &Path) -> StoreResult<()> {
    let staged = utf8(staged)?;
    let mut conn = SqliteConnection::connect_with(&options(snapshot)?).await?;
    sqlx::query("ATTACH DATABASE ?1 AS staged")
        .bind(staged)
        .execute(&mut conn)
        .await?;
    sqlx::query(
        "INSERT INTO webhook_events \
         (event_type, conversation_id, event_timestamp, payload, received_at, traceparent) \
         SELECT event_type, conversation_id, event_timestamp, payload, received_at, traceparent \
         FROM staged.staged_events ORDER BY id \
         ON CONFLICT (event_type, conversation_id) DO NOTHING",
    )
    .execute(&mut conn)
    .await?;
    sqlx::query("DETACH DATABASE staged")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// A path as SQL takes it (UTF-8).
pub(super) fn utf8(path: &Path) -> StoreResult<&str> {
    path.to_str()
        .ok_or_else(|| StoreError::Config(format!("{} is not a UTF-8 path", path.display())))
}

/// Options for one connection to an existing file, changing nothing on connect.
fn options(path: &Path) -> StoreResult<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str("sqlite:")
        .map_err(|e| StoreError::Config(e.to_string()))?
        .filename(path)
        .create_if_missing(false))
}
