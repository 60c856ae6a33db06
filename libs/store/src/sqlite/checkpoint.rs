//! WAL checkpoints off the write path. The writer connection never checkpoints when it
//! commits (`wal_autocheckpoint = 0`), so no commit waits while pages are copied into the
//! database file and synced; a task on a connection of its own runs a passive checkpoint every
//! [`CHECKPOINT_INTERVAL`] instead, beside the writes, until the last handle on the store is
//! dropped. A passive checkpoint never blocks readers or the writer, and SQLite reuses the WAL
//! from its start once a checkpoint has copied all of it and no reader still reads from it. Under
//! a steady read load (thousands of warm queries a second) some reader always does, so the WAL
//! would grow without bound (740 MB in a minute of queries whose invocations were logged): once
//! it holds more than [`TRUNCATE_FRAMES`] frames, all of them copied, the task truncates it,
//! which waits (a few milliseconds: reads are short) for the readers of the WAL to finish and
//! holds new writes meanwhile. The last connection to close checkpoints what is left.

use std::{sync::Arc, time::Duration};

use sqlx::SqlitePool;
use tokio_util::sync::{CancellationToken, DropGuard};

/// How often the WAL is checkpointed (SQLite's own default, 1,000 pages, is about 4 MB; a
/// busy writer appends far less than that in this time).
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// WAL frames (pages) past which a fully copied WAL is truncated: 64 MiB of 4 KiB pages.
pub(super) const TRUNCATE_FRAMES: i64 = 16_384;

/// The checkpoint task's handle: it stops when the store is closed or the last clone of the
/// store that owns it is dropped.
#[derive(Debug, Clone)]
pub(super) struct Checkpointer {
    stop: CancellationToken,
    _on_drop: Arc<DropGuard>,
}

impl Checkpointer {
    /// Starts checkpointing the database of `pool` (a pool of its own, closed when the task
    /// ends).
    pub(super) fn start(pool: SqlitePool) -> Self {
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stopped.cancelled() => break,
                    _ = ticks.tick() => {}
                }
                match checkpoint(&pool, TRUNCATE_FRAMES).await {
                    Err(_) if pool.is_closed() => break,
                    Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
                    Ok(()) => {}
                }
            }
            pool.close().await;
        });
        Self {
            stop: stop.clone(),
            _on_drop: Arc::new(stop.drop_guard()),
        }
    }

    /// Stops the task (its connection closes).
    pub(super) fn stop(&self) {
        self.stop.cancel();
    }
}

/// One passive checkpoint, then a truncating one when the WAL holds more than
/// `truncate_frames` frames, all copied.
async fn checkpoint(pool: &SqlitePool, truncate_frames: i64) -> Result<(), sqlx::Error> {
    let (_busy, frames, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    if frames > truncate_frames && copied == frames {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;

    /// Polls `done` until it holds, failing after a generous deadline (a liveness check, not a
    /// timing one).
    async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "{what} never happened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A WAL database in `dir` that never checkpoints by itself, with 200 pages of 4 KiB
    /// written to its WAL by a one-connection pool, returned with its options.
    async fn written_wal(dir: &std::path::Path) -> (SqliteConnectOptions, SqlitePool) {
        let options = SqliteConnectOptions::new()
            .filename(dir.join("store.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", "0");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&writer)
            .await
            .unwrap();
        for _ in 0..200 {
            sqlx::query("INSERT INTO t (x) VALUES (randomblob(4096))")
                .execute(&writer)
                .await
                .unwrap();
        }
        (options, writer)
    }

    #[tokio::test]
    async fn the_task_copies_the_wal_into_the_database_and_stops_with_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let (options, _writer) = written_wal(dir.path()).await;
        let size = || {
            std::fs::metadata(dir.path().join("store.db"))
                .unwrap()
                .len()
        };
        assert!(size() < 100_000, "the writer checkpointed by itself");

        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let checkpointer = Checkpointer::start(pool.clone());
        eventually("a checkpoint", || size() > 800_000).await;

        drop(checkpointer);
        eventually("the task's end", || pool.is_closed()).await;
    }

    #[tokio::test]
    async fn a_long_fully_copied_wal_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let (_, pool) = written_wal(dir.path()).await;
        let wal = || {
            std::fs::metadata(dir.path().join("store.db-wal"))
                .unwrap()
                .len()
        };
        checkpoint(&pool, 10_000).await.unwrap();
        assert!(wal() > 800_000, "short enough: copied, kept");
        checkpoint(&pool, 100).await.unwrap();
        assert_eq!(wal(), 0, "long and copied: truncated");
    }
}
