//! The embedded SQLite backend: one file, WAL journal, the seed plan's pragmas on every
//! connection, vectors as little-endian `f32` blobs searched through the per-user in-memory
//! index (`user_index`).

use std::{path::Path, str::FromStr, time::Duration};

use memvox_crypto::Keyring;
use sqlx::{
    Connection, Row,
    sqlite::{
        SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
        SqliteSynchronous,
    },
};

use crate::{EmbeddingSpace, StoreError, StoreResult, StoreSettings, backend::Core};

mod backend;
mod background;
mod checkpoint;
mod dialect;
mod snapshot;
mod staging;

use checkpoint::Checkpointer;
pub use snapshot::SnapshotInfo;
pub(crate) use staging::Staging;

/// Staged deliveries moved per transaction when the store opens.
const MOVE_AT_OPEN: usize = 512;

use crate::migrations::sqlite as migrator;

/// The SQLite store. Reads use a pool; every write goes through one dedicated connection, so
/// the process's writers queue in order instead of meeting `SQLITE_BUSY` and sleeping in
/// SQLite's busy handler (which made concurrent workers slower than one). The writer never
/// checkpoints the WAL itself: a background task does (see `checkpoint`).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
    core: Core,
    checkpointer: Checkpointer,
    /// The ingest file post-call deliveries are acknowledged into (`None` for a copy's
    /// stores, which only read and write the database).
    staging: Option<Staging>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, migrates it when the settings ask for it
    /// (the default for SQLite), and checks the embedding space.
    pub async fn open(
        path: &Path,
        settings: &StoreSettings,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Self> {
        // Migrated before the writer and the checkpoint task connect, as a new file's first
        // writer, with nothing else holding it.
        let pool = Self::connect(path, settings).await?;
        if settings.migrate_on_start.unwrap_or(true) {
            Self::migrate_pool(&pool).await?;
        }
        let mut store = Self::beside(pool, path, settings, space, keyring).await?;
        crate::meta::check_embedding_space(&store).await?;
        crate::meta::check_encryption(&store).await?;
        crate::search::ensure_lexical_index(&store).await?;
        crate::callers::ensure_sealed_numbers(&store).await?;
        store.staging = Some(Staging::open(path, settings).await?);
        // What a stopped process acknowledged but had not moved yet: in the events table
        // before anything reads it (pending, so the outbox reconciler publishes it).
        while crate::Events::move_staged(&store, MOVE_AT_OPEN)
            .await?
            .is_some()
        {}
        Ok(store)
    }

    /// The store's connections to the file (created if missing), and nothing else: no
    /// migration, no check, nothing written (a copy's source and destination, see `copy`).
    pub(crate) async fn attach(
        path: &Path,
        settings: &StoreSettings,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Self> {
        let pool = Self::connect(path, settings).await?;
        Self::beside(pool, path, settings, space, keyring).await
    }

    /// The store over the read `pool`: its writer and checkpoint connections opened beside it.
    async fn beside(
        pool: SqlitePool,
        path: &Path,
        settings: &StoreSettings,
        space: EmbeddingSpace,
        keyring: Keyring,
    ) -> StoreResult<Self> {
        // Boxed: connecting is a large future, and opening a store sits inside every service's
        // start-up future.
        let (writer, checkpoints) = Box::pin(Self::connect_writer(path, settings)).await?;
        Ok(Self {
            pool,
            writer,
            core: Core::new(space, keyring, settings),
            checkpointer: Checkpointer::start(checkpoints),
            staging: None,
        })
    }

    /// The writer's pool and the checkpoint task's, on background threads when the settings
    /// ask for a background writer (`background`).
    async fn connect_writer(
        path: &Path,
        settings: &StoreSettings,
    ) -> StoreResult<(SqlitePool, SqlitePool)> {
        if settings.background_writer {
            return background::connect(path, settings).await;
        }
        Self::writer_pools(path, settings).await
    }

    /// Opens the writer's pool and the checkpoint task's (their threads inherit the priority of
    /// the calling thread).
    async fn writer_pools(
        path: &Path,
        settings: &StoreSettings,
    ) -> StoreResult<(SqlitePool, SqlitePool)> {
        Ok((
            Self::connect_with(path, settings, Connections::Writer).await?,
            Self::connect_with(path, settings, Connections::Checkpoints).await?,
        ))
    }

    /// Opens a pool on the file with WAL and the plan's pragmas on every connection.
    pub async fn connect(path: &Path, settings: &StoreSettings) -> StoreResult<SqlitePool> {
        Self::connect_with(path, settings, Connections::Reads).await
    }

    /// Opens a pool for `connections` on the file, WAL and pragmas on each.
    async fn connect_with(
        path: &Path,
        settings: &StoreSettings,
        connections: Connections,
    ) -> StoreResult<SqlitePool> {
        let max_connections = match connections {
            Connections::Reads => settings.max_connections.max(1),
            Connections::Writer | Connections::Checkpoints => 1,
        };
        let options = Self::options(path, connections)?;
        // One connection alone first: a new file turns to WAL on its first connection, and the
        // pool opens its connections two at a time (sqlx's maintenance task beside the caller),
        // which on a file still in rollback mode race for that change and fail at once
        // (SQLITE_BUSY, no busy wait).
        let first = SqliteConnection::connect_with(&options)
            .await
            .map_err(|e| Self::open_error(path, &e))?;
        first
            .close()
            .await
            .map_err(|e| Self::open_error(path, &e))?;
        Self::kept(max_connections, settings)
            .connect_with(options)
            .await
            .map_err(|e| Self::open_error(path, &e))
    }

    /// A pool of `connections` opened up front and kept for the life of the process. Each
    /// connection runs on a thread of its own, which inherits the scheduling priority of the
    /// thread that opened it, so none may be opened later — possibly from `memvox serve`'s
    /// low-priority worker threads (`background`) — to replace one closed for being idle or old
    /// (sqlx's default closes a connection after 30 minutes).
    fn kept(connections: u32, settings: &StoreSettings) -> SqlitePoolOptions {
        SqlitePoolOptions::new()
            .max_connections(connections)
            .min_connections(connections)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
    }

    /// The options of a connection for `connections` to the file (created with its directory
    /// if missing): WAL and the plan's pragmas.
    fn options(path: &Path, connections: Connections) -> StoreResult<SqliteConnectOptions> {
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
        // Named for what they are, so a profile or `top -H` tells the writer from the readers.
        let role = match connections {
            Connections::Reads => "read",
            Connections::Writer => "write",
            Connections::Checkpoints => "ckpt",
        };
        let options = options.thread_name(move |id| format!("sqlite-{role}-{id}"));
        Ok(match connections {
            Connections::Reads => options,
            Connections::Writer => options
                .pragma("wal_autocheckpoint", "0")
                .pragma("journal_size_limit", checkpoint::WAL_SIZE_LIMIT.to_string()),
            Connections::Checkpoints => options.busy_timeout(checkpoint::RESTART_WAIT),
        })
    }

    /// The error of a file that would not open.
    fn open_error(path: &Path, error: &sqlx::Error) -> StoreError {
        StoreError::Config(format!(
            "cannot open SQLite database {}: {error}",
            path.display()
        ))
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate_pool(pool: &SqlitePool) -> StoreResult<usize> {
        let before = applied_count(pool).await;
        migrator().run(pool).await?;
        Ok(applied_count(pool).await.saturating_sub(before))
    }

    /// The ingest file beside the database at `path`, where `memvox serve` acknowledges
    /// post-call deliveries before they move into the database (see `staging`).
    pub fn ingest_file(path: &Path) -> std::path::PathBuf {
        Staging::path_beside(path)
    }

    /// The connection pool, for backups and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the read pool and the writer: every later call fails as unavailable.
    pub async fn close(&self) {
        self.checkpointer.stop();
        if let Some(staging) = &self.staging {
            staging.close().await;
        }
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// What a pool's connections are for.
#[derive(Debug, Clone, Copy)]
enum Connections {
    /// Reads (and migrations, backups): `settings.max_connections` of them.
    Reads,
    /// The one connection every write goes through; it never checkpoints on commit.
    Writer,
    /// The background checkpoint task's one connection.
    Checkpoints,
}

/// How many migrations the database has applied (0 before the first).
async fn applied_count(pool: &SqlitePool) -> usize {
    sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get::<i64, _>(0))
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_keep_the_connections_they_open_first() {
        let options = SqliteStore::kept(3, &StoreSettings::default());
        assert_eq!(options.get_min_connections(), 3);
        assert_eq!(options.get_max_connections(), 3);
        assert_eq!(options.get_idle_timeout(), None);
        assert_eq!(
            options.get_max_lifetime(),
            None,
            "sqlx's default is 30 minutes"
        );
    }

    #[tokio::test]
    async fn a_new_file_opens_its_whole_pool_every_time() {
        // Without a first connection alone, the pool's concurrent opens raced for the new
        // file's switch to WAL and one failed with SQLITE_BUSY now and then.
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = StoreSettings::default();
        for attempt in 0..100 {
            let path = dir.path().join(format!("new-{attempt}.db"));
            let pool = SqliteStore::connect(&path, &settings)
                .await
                .unwrap_or_else(|e| panic!("attempt {attempt}: {e}"));
            pool.close().await;
        }
    }
}
