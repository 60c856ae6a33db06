//! WAL checkpoints off the write path. The writer connection never checkpoints when it
//! commits (`wal_autocheckpoint = 0`), so no commit waits while pages are copied into the
//! database file and synced; a task on a connection of its own runs a passive checkpoint every
//! [`CHECKPOINT_INTERVAL`] instead, beside the writes, until the last handle on the store is
//! dropped. A passive checkpoint never blocks readers or the writer, and SQLite reuses the WAL
//! from its start once a checkpoint has copied all of it and no reader still reads from it. Under
//! a steady read load (thousands of warm queries a second) some reader always does, so the WAL
//! would grow without bound (740 MB in a minute of queries whose invocations were logged): once
//! it holds more than [`RESTART_FRAMES`] frames, all of them copied, the task restarts it, which
//! waits (a few milliseconds: reads are short; at most [`RESTART_WAIT`], else it tries again at a
//! later pass) for the readers of the WAL to finish and holds new writes meanwhile; the writer
//! then writes the WAL again from its start, over the blocks
//! the file already has. Nothing is copied or synced while writes wait, and the file is not
//! truncated then: a truncating checkpoint syncs and shrinks the file while it holds the write
//! lock, which on a slow disk held the acknowledgement of post-call webhooks for up to hundreds
//! of milliseconds (one fsync of the WAL took 457 ms on the test machine). The writer trims a
//! WAL that a burst of writes grew past [`WAL_SIZE_LIMIT`] when it starts it again
//! (`journal_size_limit`). The last connection to close checkpoints what is left.

use std::{sync::Arc, time::Duration};

use sqlx::SqlitePool;
use tokio_util::sync::{CancellationToken, DropGuard};

/// How often the WAL is checkpointed (SQLite's own default, 1,000 pages, is about 4 MB; a
/// busy writer appends far less than that in this time).
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// How long a restarting checkpoint waits for the WAL's readers, holding new writes meanwhile,
/// before it gives up until a later pass (the checkpoint connection's busy timeout). A long
/// reader — a backup's snapshot, a heavy caller's index load — must not hold the
/// acknowledgements of post-call webhooks for the 5 s the other connections wait.
pub(super) const RESTART_WAIT: Duration = Duration::from_millis(50);

/// WAL frames (pages) past which a fully copied WAL is restarted: 64 MiB of 4 KiB pages.
pub(super) const RESTART_FRAMES: i64 = 16_384;

/// Bytes a restarted WAL file keeps (`journal_size_limit` of the writer): four times what the
/// WAL holds when it is restarted, so only a burst that outgrew the checkpoints trims it.
pub(super) const WAL_SIZE_LIMIT: i64 = RESTART_FRAMES * 4096 * 4;

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
                match checkpoint(&pool, RESTART_FRAMES).await {
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

/// One passive checkpoint, then a restarting one when the WAL holds more than
/// `restart_frames` frames, all copied (so that it has nothing left to copy or sync).
async fn checkpoint(pool: &SqlitePool, restart_frames: i64) -> Result<(), sqlx::Error> {
    let (_busy, frames, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    if frames > restart_frames && copied == frames {
        sqlx::query("PRAGMA wal_checkpoint(RESTART)")
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

    /// A connection of `pool` inside an open read transaction on table `t` (commit to end it).
    async fn reading(pool: &SqlitePool) -> sqlx::pool::PoolConnection<sqlx::Sqlite> {
        let mut reader = pool.acquire().await.unwrap();
        sqlx::query("BEGIN").execute(&mut *reader).await.unwrap();
        sqlx::query("SELECT count(*) FROM t")
            .execute(&mut *reader)
            .await
            .unwrap();
        reader
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
    async fn a_long_fully_copied_wal_is_written_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let (options, writer) = written_wal(dir.path()).await;
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        let wal = || {
            std::fs::metadata(dir.path().join("store.db-wal"))
                .unwrap()
                .len()
        };
        let write_pages = |pages: usize| {
            let writer = writer.clone();
            async move {
                for _ in 0..pages {
                    sqlx::query("INSERT INTO t (x) VALUES (randomblob(4096))")
                        .execute(&writer)
                        .await
                        .unwrap();
                }
            }
        };

        // A reader inside the WAL, as under a steady read load: the restart waits for it.
        let mut reader = reading(&pool).await;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let restart = tokio::spawn(async move { checkpoint(&checkpointer, 100).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        sqlx::query("COMMIT").execute(&mut *reader).await.unwrap();
        restart.await.unwrap().unwrap();

        let restarted = wal();
        assert!(restarted > 800_000, "restarted without truncating the file");
        write_pages(50).await;
        assert_eq!(
            wal(),
            restarted,
            "long and copied: written again from its start"
        );
    }

    #[tokio::test]
    async fn a_restart_holds_writes_no_longer_than_its_wait() {
        let dir = tempfile::tempdir().unwrap();
        let (options, writer) = written_wal(dir.path()).await;
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        // A long reader inside the WAL (a backup's snapshot, say).
        let mut reader = reading(&pool).await;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.busy_timeout(RESTART_WAIT))
            .await
            .unwrap();
        let restart = tokio::spawn(async move { checkpoint(&checkpointer, 100).await });
        tokio::time::sleep(RESTART_WAIT / 5).await;

        // The write goes through while the reader still reads: the restart gave up waiting.
        let write = sqlx::query("INSERT INTO t (x) VALUES (randomblob(16))").execute(&writer);
        let written = tokio::time::timeout(Duration::from_secs(3), write).await;
        sqlx::query("COMMIT").execute(&mut *reader).await.unwrap();
        assert!(
            written.is_ok_and(|result| result.is_ok()),
            "the write waited for the long reader"
        );
        restart.await.unwrap().unwrap();
    }
}
