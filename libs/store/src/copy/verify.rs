//! The end of a copy: every table read again on both sides in key order, its rows counted and
//! hashed (SHA-256 over each row's canonical rendering, `cells::hash_row`), and the two
//! compared, so a row lost, added or changed on either side names its table.

use sha2::{Digest, Sha256};

use super::{
    CopyError, CopyEvent, CopyObserver, Phase, TableCheck,
    batch::read_batch,
    cells::hash_row,
    tables::{TABLES, Table},
};
use crate::{StoreResult, backend::Backend};

/// Counts and hashes every table on both sides; the destination's checks, or the first table
/// that differs. `None` when the observer stopped it.
pub(crate) async fn verify<S: Backend, D: Backend>(
    source: &S,
    destination: &D,
    batch_rows: usize,
    observer: &mut dyn CopyObserver,
) -> Result<Option<Vec<TableCheck>>, CopyError> {
    let mut checks = Vec::new();
    for table in &TABLES {
        let (from, stopped) = table_check(source, table, batch_rows, observer).await?;
        if stopped {
            return Ok(None);
        }
        let (to, _) = table_check(destination, table, batch_rows, &mut ()).await?;
        if from != to {
            return Err(CopyError::Mismatch {
                table: table.name,
                source_rows: from.rows,
                destination_rows: to.rows,
            });
        }
        checks.push(to);
    }
    Ok(Some(checks))
}

/// The row count and checksum of `table` in `store`, telling `observer` each batch; whether
/// the observer asked to stop.
async fn table_check<B: Backend>(
    store: &B,
    table: &Table,
    batch_rows: usize,
    observer: &mut dyn CopyObserver,
) -> StoreResult<(TableCheck, bool)> {
    let columns = table.all_columns();
    let mut hash = Sha256::new();
    let mut rows = 0u64;
    let mut after = None;
    loop {
        let batch = read_batch(store, table, &columns, None, after.as_deref(), batch_rows).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last[..table.key.len()].to_vec());
        for row in &batch {
            hash_row(&mut hash, row);
        }
        rows += batch.len() as u64;
        let event = CopyEvent::Progress {
            phase: Phase::Verify,
            step: table.name,
            rows: batch.len() as u64,
        };
        if observer.on(event).is_break() {
            return Ok((TableCheck::default(), true));
        }
    }
    let check = TableCheck {
        table: table.name,
        rows,
        sha256: hex::encode(hash.finalize()),
    };
    Ok((check, false))
}
