//! The database writer on background threads (`StoreSettings::background_writer`, set by
//! `memvox serve`; see `background_thread`).
//!
//! Each SQLite connection runs on a thread of its own, which inherits the scheduling priority of
//! the thread that opened it. In `memvox serve` the database's writer serves background work —
//! the workers' commits, the moves out of the ingest file — while the acknowledgements write to
//! the ingest file and the queries read through the read pool; at normal priority the writer's
//! thread took as much CPU as the acknowledgement path's own threads when the CPU was short. So
//! the writer and its checkpoint connection are opened from a thread that made itself a
//! background thread first, on a current-thread runtime of that thread, and then used from any runtime
//! (a pool is not tied to the runtime that opened it; its connections are kept for the life of
//! the process, see `SqliteStore::kept`). A write the query side makes (a REST edit, a recall
//! reinforcement) waits for that thread like the workers' do.

use std::path::Path;

use sqlx::SqlitePool;
use tokio::sync::oneshot;

use super::SqliteStore;
use crate::{StoreError, StoreResult, StoreSettings, enter_background};

/// The writer and checkpoint pools of the database at `path`, their threads background threads
/// (at normal priority, with a warning, where the OS refuses).
pub(super) async fn connect(
    path: &Path,
    settings: &StoreSettings,
) -> StoreResult<(SqlitePool, SqlitePool)> {
    let (path, settings) = (path.to_path_buf(), settings.clone());
    let (answer, answered) = oneshot::channel();
    std::thread::Builder::new()
        .name("memvox-db-open".into())
        .spawn(move || {
            let _ = answer.send(open_here(&path, &settings));
        })
        .map_err(|e| StoreError::Config(format!("cannot start a thread: {e}")))?;
    answered
        .await
        .map_err(|_| StoreError::Config("the thread opening the database writer stopped".into()))?
}

/// Makes this thread a background thread, then opens both pools on it.
fn open_here(path: &Path, settings: &StoreSettings) -> StoreResult<(SqlitePool, SqlitePool)> {
    if let Err(error) = enter_background() {
        tracing::warn!(?error, "could not lower the database writer's priority");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Config(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(SqliteStore::writer_pools(path, settings))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::background_thread::tests::background_threads;

    #[tokio::test]
    async fn the_writer_runs_on_background_threads_and_serves_any_runtime() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("background.db");
        let (writer, checkpoints) = connect(&path, &StoreSettings::default())
            .await
            .expect("the pools open");
        let background = background_threads("sqlite-write-") + background_threads("sqlite-ckpt-");
        assert!(
            background >= 2,
            "no writer or checkpoint thread in the background"
        );
        // The opening thread and its runtime are gone; the pools serve this runtime.
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&writer)
            .await
            .expect("the writer writes");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&checkpoints)
            .await
            .expect("the checkpoint connection reads");
        assert_eq!(count, 0);
    }
}
