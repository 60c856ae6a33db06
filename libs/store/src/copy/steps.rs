//! The copy itself: each step — a table's rows, then each later pass over some columns — in
//! batches of the source's rows in key order, one destination transaction per batch that also
//! records where the step stands, so a rerun resumes after the last committed batch.

use std::collections::BTreeMap;

use super::{
    CopyEvent, CopyObserver, Phase,
    batch::{insert_rows, read_batch, update_rows},
    cells::{cursor_of, parse_cursor},
    progress::{self, StepState},
    tables::{Col, TABLES, Table},
};
use crate::{
    StoreResult,
    backend::Backend,
    dialect::{Record, query},
};

/// One step: which rows of which table, and how they are written.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Its name in the progress record: the table's, or `table.column` of a later pass.
    pub(crate) name: String,
    /// The table.
    pub(crate) table: Table,
    /// The columns read (key first) and written.
    pub(crate) columns: Vec<Col>,
    /// A later pass (an `UPDATE` of its columns) rather than inserts.
    pub(crate) later: bool,
    /// The condition on the source rows it writes, if not all.
    pub(crate) only: Option<&'static str>,
}

/// Every step, in order: the tables' rows, parents first, then the later passes, children's
/// first (writing `memories.superseded_by` moves users' versions, so those are written last).
pub(crate) fn steps() -> Vec<Step> {
    let rows = TABLES.iter().map(|table| Step {
        name: table.name.to_owned(),
        table: *table,
        columns: [table.key, table.columns].concat(),
        later: false,
        only: None,
    });
    let passes = TABLES.iter().rev().filter_map(|table| {
        let later = table.later?;
        let names: Vec<&str> = later.columns.iter().map(|(name, _)| *name).collect();
        Some(Step {
            name: format!("{}.{}", table.name, names.join("+")),
            table: *table,
            columns: [table.key, later.columns].concat(),
            later: true,
            only: later.only,
        })
    });
    rows.chain(passes).collect()
}

/// How many source rows `step` writes in all.
pub(crate) async fn source_rows<S: Backend>(source: &S, step: &Step) -> StoreResult<i64> {
    let condition = step.only.unwrap_or("true");
    let sql = format!("SELECT COUNT(*) FROM {} WHERE {condition}", step.table.name);
    query::<S::Sql>(sql)
        .fetch_one(&mut *source.read().await?)
        .await?
        .value_at(0)
}

/// Copies what is left of `step`, from where `state` stands; whether the observer asked to
/// stop.
pub(crate) async fn run_step<S: Backend, D: Backend>(
    source: &S,
    destination: &D,
    step: &Step,
    mut state: StepState,
    batch_rows: usize,
    observer: &mut dyn CopyObserver,
) -> StoreResult<bool> {
    let key = step.table.key;
    while !state.finished {
        let after = state
            .cursor
            .as_deref()
            .map(|text| parse_cursor(text, key))
            .transpose()?;
        let table = &step.table;
        let batch = read_batch(
            source,
            table,
            &step.columns,
            step.only,
            after.as_deref(),
            batch_rows,
        )
        .await?;
        let mut tx = destination.begin().await?;
        if step.later {
            update_rows::<D>(&mut tx, table.name, key, &step.columns[key.len()..], &batch).await?;
        } else {
            insert_rows::<D>(&mut tx, table.name, &step.columns, &batch).await?;
        }
        if let Some(last) = batch.last() {
            state.cursor = Some(cursor_of(&last[..key.len()]));
        }
        state.copied += batch.len() as i64;
        state.finished = batch.len() < batch_rows;
        progress::save::<D>(&mut tx, &step.name, &state).await?;
        tx.commit().await?;
        let event = CopyEvent::Progress {
            phase: Phase::Copy,
            step: &step.name,
            rows: batch.len() as u64,
        };
        if observer.on(event).is_break() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Deletes every row of every copied table of the destination, children first, and records
/// every step as not started: a fresh copy.
pub(crate) async fn start_fresh<D: Backend>(destination: &D, steps: &[Step]) -> StoreResult<()> {
    let mut tx = destination.begin().await?;
    query::<D::Sql>("DELETE FROM store_copy_progress")
        .execute(&mut tx)
        .await?;
    for table in TABLES.iter().rev() {
        query::<D::Sql>(format!("DELETE FROM {}", table.name))
            .execute(&mut tx)
            .await?;
    }
    for step in steps {
        progress::save::<D>(&mut tx, &step.name, &StepState::default()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The destination's steps' states, for a rerun (`None` when no copy is in progress).
pub(crate) async fn in_progress<D: Backend>(
    destination: &D,
) -> StoreResult<Option<BTreeMap<String, StepState>>> {
    let states = progress::load(destination).await?;
    Ok((!states.is_empty()).then_some(states))
}
