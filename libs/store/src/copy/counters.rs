//! What a copy moves rather than copies: the destination's id counters (`AUTOINCREMENT`,
//! serial sequences) and its version clock (`vectors_clock`, `vectors_version_seq`) are moved
//! to at least the source's, so no id or version the source handed out is handed out again.

use super::tables::COUNTED;
use crate::{
    StoreResult,
    backend::Backend,
    dialect::{Record, query},
};

/// The statements of one backend for what a copy does that the shared SQL cannot say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CopySql {
    /// Appended to a text key column to order it by bytes (the same order on both backends).
    pub(crate) byte_order: &'static str,
    /// The largest id table `$1`'s counter has handed out (0 if none), column 0.
    pub(crate) id_counter: &'static str,
    /// Moves table `$1`'s counter to at least `$2` (statements run in order).
    pub(crate) advance_id_counter: &'static [&'static str],
    /// The version clock's last value (0 if none), column 0.
    pub(crate) clock: &'static str,
    /// Moves the clock to at least `$1`.
    pub(crate) advance_clock: &'static str,
}

/// Moves every id counter and the clock of `destination` past the source's.
pub(crate) async fn advance<S: Backend, D: Backend>(
    source: &S,
    destination: &D,
) -> StoreResult<()> {
    let mut tx = destination.begin().await?;
    for table in COUNTED {
        let max_id = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
        let counter: i64 = query::<S::Sql>(S::COPY.id_counter)
            .bind(table)
            .fetch_one(&mut *source.read().await?)
            .await?
            .value_at(0)?;
        let highest: i64 = query::<S::Sql>(max_id)
            .fetch_one(&mut *source.read().await?)
            .await?
            .value_at(0)?;
        let at_least = counter.max(highest);
        if at_least > 0 {
            for statement in D::COPY.advance_id_counter {
                query::<D::Sql>(*statement)
                    .bind(table)
                    .bind(at_least)
                    .execute(&mut tx)
                    .await?;
            }
        }
    }
    let clock: i64 = query::<S::Sql>(S::COPY.clock)
        .fetch_one(&mut *source.read().await?)
        .await?
        .value_at(0)?;
    query::<D::Sql>(D::COPY.advance_clock)
        .bind(clock)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
