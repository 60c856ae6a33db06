//! Copying a whole store to another, on either backend (`memvox migrate-store`): every table
//! with its ids, in key order, in batches of one destination transaction each, resumable after
//! an interruption, then verified table by table.
//!
//! - **As stored.** Values are copied as the source holds them: sealed values stay sealed (their
//!   associated data binds a column and an owning user or conversation, never a row id, and ids
//!   are kept anyway), tokens, fingerprints, tombstones, versions and `store_meta` (embedding
//!   space, key checks) come across unchanged, so the destination opens with the same keys and
//!   answers as the source did. Vectors move between SQLite's `f32` blobs and pgvector.
//! - **Order.** Tables go parents first (`tables`); a memory's `superseded_by` (it may name a
//!   later row) and the users' versions (triggers move them as memories, vectors, tokens and
//!   links arrive) are written again in passes after every table. Then the destination's id
//!   counters and version clock move to at least the source's (`counters`).
//! - **Resumable.** The destination records each step's last copied key in the batch's own
//!   transaction (`progress`); a rerun continues from there. A destination with rows and no
//!   copy in progress is refused unless `force`, which empties it first.
//! - **Verified.** Every table is then read again on both sides and its row count and SHA-256
//!   over the rows in key order compared (`verify`); the first difference names its table.
//!   Only then is the progress record removed.
//!
//! The source is only read: it is attached without migrations or the checks of opening, which
//! write. It must be at this build's schema.

mod batch;
mod cells;
mod counters;
mod open;
mod progress;
mod steps;
mod tables;
mod verify;

use std::ops::ControlFlow;

use thiserror::Error;

use crate::{StoreError, backend::Backend};
pub(crate) use counters::CopySql;
pub use open::copy_store;
pub use tables::copied_tables;

/// How to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyOptions {
    /// Rows per batch (one destination transaction each); at least 1.
    pub batch_rows: usize,
    /// Empty a destination that holds rows (or an unfinished copy) and copy afresh.
    pub force: bool,
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            batch_rows: 1_000,
            force: false,
        }
    }
}

/// The phase a [`CopyEvent`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Copying rows.
    Copy,
    /// Reading both sides again to compare them.
    Verify,
}

/// What a copy tells its observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyEvent<'a> {
    /// A phase begins: `total` source rows it goes through, `done` of them already (a resumed
    /// copy).
    Started {
        /// The phase.
        phase: Phase,
        /// Source rows in all.
        total: u64,
        /// Rows done before this run.
        done: u64,
        /// Whether an unfinished copy is being resumed.
        resumed: bool,
    },
    /// A batch is done (committed, when copying).
    Progress {
        /// The phase.
        phase: Phase,
        /// The step or table.
        step: &'a str,
        /// Rows in the batch.
        rows: u64,
    },
}

/// Watches a copy; `Break` stops it after the batch just committed (a later run resumes).
pub trait CopyObserver: Send {
    /// Called at each event.
    fn on(&mut self, event: CopyEvent<'_>) -> ControlFlow<()>;
}

/// Watches nothing.
impl CopyObserver for () {
    fn on(&mut self, _: CopyEvent<'_>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A verified table: the same rows and checksum on both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCheck {
    /// The table.
    pub table: &'static str,
    /// Its rows.
    pub rows: u64,
    /// SHA-256 (hex) over its rows' canonical rendering, in key order.
    pub sha256: String,
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Whether it resumed an unfinished copy.
    pub resumed: bool,
    /// Rows written by this run.
    pub copied: u64,
    /// Every table, verified; `None` when the observer stopped the copy first.
    pub verified: Option<Vec<TableCheck>>,
}

/// Why a copy did not finish.
#[derive(Debug, Error)]
pub enum CopyError {
    /// Source and destination are the same database.
    #[error("the source and the destination are the same database")]
    SameDatabase,
    /// The source's schema is not this build's.
    #[error(
        "the source is at schema migration {found}, this memvox writes {expected}: migrate the \
         source to this version first (memvox migrate), or use the memvox that wrote it"
    )]
    SourceSchema {
        /// Its newest applied migration.
        found: i64,
        /// This build's newest.
        expected: i64,
    },
    /// The destination holds rows and no unfinished copy.
    #[error("the destination is not empty: {table} holds {rows} row(s)")]
    NotEmpty {
        /// The first table with rows.
        table: &'static str,
        /// Its rows.
        rows: i64,
    },
    /// A table differs between the sides after the copy.
    #[error(
        "verification failed for table {table}: the source has {source_rows} row(s), the \
         destination {destination_rows}, and their checksums differ"
    )]
    Mismatch {
        /// The table.
        table: &'static str,
        /// Its rows in the source.
        source_rows: u64,
        /// Its rows in the destination.
        destination_rows: u64,
    },
    /// A store error on either side.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Copies between two attached stores (see [`copy_store`]).
async fn run<S: Backend, D: Backend>(
    source: &S,
    destination: &D,
    options: CopyOptions,
    observer: &mut dyn CopyObserver,
) -> Result<CopyReport, CopyError> {
    let batch_rows = options.batch_rows.max(1);
    let steps = steps::steps();
    let resuming = match steps::in_progress(destination).await? {
        Some(states) if !options.force => Some(states),
        _ => None,
    };
    let resumed = resuming.is_some();
    let states = match resuming {
        Some(states) => states,
        None => {
            if !options.force {
                open::refuse_rows(destination).await?;
            }
            steps::start_fresh(destination, &steps).await?;
            steps::in_progress(destination).await?.unwrap_or_default()
        }
    };
    let mut total = 0;
    for step in &steps {
        total += steps::source_rows(source, step).await?;
    }
    let done: i64 = states.values().map(|s| s.copied).sum();
    let started = CopyEvent::Started {
        phase: Phase::Copy,
        total: u64::try_from(total).unwrap_or(0),
        done: u64::try_from(done).unwrap_or(0),
        resumed,
    };
    let mut report = CopyReport {
        resumed,
        copied: 0,
        verified: None,
    };
    if observer.on(started).is_break() {
        return Ok(report);
    }
    let mut counting = Counting {
        inner: observer,
        copied: 0,
    };
    for step in &steps {
        let state = states.get(&step.name).cloned().unwrap_or_default();
        let stopped =
            steps::run_step(source, destination, step, state, batch_rows, &mut counting).await?;
        if stopped {
            report.copied = counting.copied;
            return Ok(report);
        }
    }
    report.copied = counting.copied;
    let observer = counting.inner;
    counters::advance(source, destination).await?;
    let verifying = CopyEvent::Started {
        phase: Phase::Verify,
        total: open::table_rows(source).await?,
        done: 0,
        resumed,
    };
    if observer.on(verifying).is_break() {
        return Ok(report);
    }
    report.verified = verify::verify(source, destination, batch_rows, observer).await?;
    if report.verified.is_some() {
        progress::clear(destination).await?;
    }
    Ok(report)
}

/// Passes events on, counting the rows copied.
struct Counting<'a> {
    inner: &'a mut dyn CopyObserver,
    copied: u64,
}

impl CopyObserver for Counting<'_> {
    fn on(&mut self, event: CopyEvent<'_>) -> ControlFlow<()> {
        if let CopyEvent::Progress { rows, .. } = event {
            self.copied += rows;
        }
        self.inner.on(event)
    }
}
