//! The ingest file: where `memvox serve` on SQLite stores the post-call deliveries it
//! acknowledges, beside the database (`memvox.db` → `memvox.db.ingest.db`, named like its key file), so that an
//! acknowledgement never waits for the extraction worker's transaction on the database's one
//! writer. SQLite lets one writer at a time write a file; two files have a writer each.
//!
//! A delivery is written to the staging table of the ingest file in the statement that
//! acknowledges it, which reads the database (attached as `store`) to refuse an erased
//! conversation and to recognise an event already stored there. [`Staging::take`] and
//! [`Staging::forget`] then let the store move the oldest staged rows into the events table
//! (`Events::move_staged`: one transaction on the database's writer, the sealed bytes as they
//! are) and delete them from the ingest file. The move is idempotent (a crash between the two
//! steps moves the rows again, which the events table's key ignores), so a staged row is never
//! lost and never stored twice. Until it moves, a delivery is acknowledged but not yet in the
//! events table; the gateway moves staged rows as soon as they commit, opening the store moves
//! whatever a stopped process left, and an erasure moves them before it looks for the user's
//! events.
//!
//! The ingest file is checkpointed off the write path like the database (`checkpoint`).

use std::path::{Path, PathBuf};

use memvox_crypto::Keyring;
use sqlx::{Row, SqlitePool};

use super::{SqliteStore, checkpoint::Checkpointer};
use crate::{
    Acceptance, StoreResult, StoreSettings,
    dialect::query,
    event_batch::{STAGED, SealedEvent, record_events_atomically},
    sql,
};

/// The staging table: the events table's columns an acknowledgement writes.
const CREATE_STAGED: &str = "CREATE TABLE IF NOT EXISTS staged_events (\
     id INTEGER PRIMARY KEY AUTOINCREMENT, \
     event_type TEXT NOT NULL, conversation_id TEXT NOT NULL, event_timestamp INTEGER NOT NULL, \
     payload TEXT NOT NULL, received_at INTEGER NOT NULL, traceparent TEXT, \
     UNIQUE (event_type, conversation_id))";

/// Whether the staging table has the `traceparent` column (an ingest file a version before
/// trace export left behind has not).
const HAS_TRACEPARENT: &str =
    "SELECT COUNT(*) FROM pragma_table_info('staged_events') WHERE name = 'traceparent'";

/// Adds the `traceparent` column to such a staging table.
const ADD_TRACEPARENT: &str = "ALTER TABLE staged_events ADD COLUMN traceparent TEXT";

/// The oldest staged rows, at most `$1`.
const OLDEST_STAGED: &str = "SELECT id, event_type, conversation_id, event_timestamp, payload, \
     received_at, traceparent FROM staged_events ORDER BY id LIMIT $1";

/// The ingest file of a store: its one writer connection (the database attached), a reader
/// for the moves (so that reading staged rows never holds the acknowledgements' writer), and
/// its checkpoint task.
#[derive(Debug, Clone)]
pub(crate) struct Staging {
    writer: SqlitePool,
    reader: SqlitePool,
    checkpointer: Checkpointer,
}

impl Staging {
    /// The ingest file beside database `store`: its whole file name and `.ingest.db`, so that
    /// two databases in one directory (`a.db`, `a.sqlite`) never share one.
    pub(crate) fn path_beside(store: &Path) -> PathBuf {
        let mut name = store.as_os_str().to_owned();
        name.push(".ingest.db");
        PathBuf::from(name)
    }

    /// Opens (creating if needed) the ingest file beside the database at `store`.
    pub(crate) async fn open(store: &Path, settings: &StoreSettings) -> StoreResult<Self> {
        let path = Self::path_beside(store);
        let attach = super::snapshot::utf8(store)?.to_owned();
        let options = SqliteStore::options(&path, super::Connections::Writer)?;
        let writer = SqliteStore::kept(1, settings)
            .after_connect(move |conn, _| {
                let attach = attach.clone();
                Box::pin(async move {
                    sqlx::query("ATTACH DATABASE ?1 AS store")
                        .bind(attach)
                        .execute(conn)
                        .await
                        .map(drop)
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| SqliteStore::open_error(&path, &e))?;
        sqlx::query(CREATE_STAGED).execute(&writer).await?;
        let has_traceparent: i64 = sqlx::query_scalar(HAS_TRACEPARENT)
            .fetch_one(&writer)
            .await?;
        if has_traceparent == 0 {
            sqlx::query(ADD_TRACEPARENT).execute(&writer).await?;
        }
        let one = StoreSettings {
            max_connections: 1,
            ..settings.clone()
        };
        let reader = SqliteStore::connect(&path, &one).await?;
        let checkpoints =
            SqliteStore::connect_with(&path, settings, super::Connections::Checkpoints).await?;
        Ok(Self {
            writer,
            reader,
            checkpointer: Checkpointer::start(checkpoints),
        })
    }

    /// Stages `events` atomically: what became of each, in order.
    pub(crate) async fn stage(&self, events: &[SealedEvent]) -> StoreResult<Vec<Acceptance>> {
        let recorded =
            record_events_atomically::<sqlx::Sqlite>(&self.writer, STAGED, events).await?;
        Ok(recorded
            .into_iter()
            .map(|recorded| match recorded {
                Some(r) if r.inserted => Acceptance::Staged,
                Some(_) => Acceptance::Duplicate,
                None => Acceptance::Erased,
            })
            .collect())
    }

    /// The oldest staged rows (at most `limit`), with their staging ids.
    pub(crate) async fn take(
        &self,
        keyring: &Keyring,
        limit: usize,
    ) -> StoreResult<Vec<(i64, SealedEvent)>> {
        let rows = query::<sqlx::Sqlite>(OLDEST_STAGED)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *self.reader.acquire().await?)
            .await?;
        rows.iter()
            .map(|row| {
                let conversation_id: String = row.try_get("conversation_id")?;
                let digest = crate::Erased::Conversation(&conversation_id).digest(keyring);
                Ok((
                    row.try_get("id")?,
                    SealedEvent {
                        event_type: row.try_get("event_type")?,
                        conversation_id,
                        event_timestamp: row.try_get("event_timestamp")?,
                        payload: row.try_get("payload")?,
                        received_at: row.try_get("received_at")?,
                        digest,
                        traceparent: row.try_get("traceparent")?,
                    },
                ))
            })
            .collect()
    }

    /// Which of `conversation_ids` have an event of `event_type` staged.
    pub(crate) async fn conversations(
        &self,
        event_type: &str,
        conversation_ids: &[String],
    ) -> StoreResult<std::collections::HashSet<String>> {
        crate::events::conversations_in::<sqlx::Sqlite>(
            &mut *self.reader.acquire().await?,
            "staged_events",
            event_type,
            conversation_ids,
        )
        .await
    }

    /// Deletes staged rows (moved into the events table, or refused there).
    pub(crate) async fn forget(&self, ids: &[i64]) -> StoreResult<()> {
        for chunk in ids.chunks(sql::INSERT_CHUNK) {
            let statement = format!(
                "DELETE FROM staged_events WHERE id IN ({})",
                sql::placeholders(1, chunk.len())
            );
            chunk
                .iter()
                .fold(query::<sqlx::Sqlite>(statement), |q, id| q.bind(*id))
                .execute(&mut *self.writer.acquire().await?)
                .await?;
        }
        Ok(())
    }

    /// Closes the ingest file.
    pub(crate) async fn close(&self) {
        self.checkpointer.stop();
        self.reader.close().await;
        self.writer.close().await;
    }
}
