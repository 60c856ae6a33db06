//! The destination's record of a copy in progress (`store_copy_progress`, migration 0013): per
//! step, the source key after which the next batch starts, rows copied, whether it is done.
//! Written in each batch's transaction, so it never claims a batch that did not commit.

use std::collections::BTreeMap;

use crate::{
    StoreResult,
    backend::Backend,
    dialect::{Conn, Record, query},
};

/// Where one step stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StepState {
    /// The key of the last row copied (a JSON array), `None` before the first batch.
    pub(crate) cursor: Option<String>,
    /// Rows copied so far.
    pub(crate) copied: i64,
    /// Whether every row is in.
    pub(crate) finished: bool,
}

/// Every step's state; empty when no copy is in progress.
pub(crate) async fn load<D: Backend>(destination: &D) -> StoreResult<BTreeMap<String, StepState>> {
    let rows = query::<D::Sql>("SELECT step, cursor, copied, finished FROM store_copy_progress")
        .fetch_all(&mut *destination.read().await?)
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.value("step")?,
                StepState {
                    cursor: row.value("cursor")?,
                    copied: row.value("copied")?,
                    finished: row.value::<i64>("finished")? != 0,
                },
            ))
        })
        .collect()
}

/// Records `state` of `step`, in the batch's transaction.
pub(crate) async fn save<D: Backend>(
    conn: &mut Conn<D::Sql>,
    step: &str,
    state: &StepState,
) -> StoreResult<()> {
    query::<D::Sql>(
        "INSERT INTO store_copy_progress (step, cursor, copied, finished) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (step) DO UPDATE SET cursor = excluded.cursor, \
         copied = excluded.copied, finished = excluded.finished",
    )
    .bind(step.to_owned())
    .bind(state.cursor.clone())
    .bind(state.copied)
    .bind(i64::from(state.finished))
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the copy: it is verified.
pub(crate) async fn clear<D: Backend>(destination: &D) -> StoreResult<()> {
    query::<D::Sql>("DELETE FROM store_copy_progress")
        .execute(&mut *destination.write().await?)
        .await?;
    Ok(())
}
