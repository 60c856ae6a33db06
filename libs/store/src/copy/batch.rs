//! The statements of one batch: reading the next rows of a table in key order (source, and
//! both sides when verifying), inserting them, or writing a later pass's columns.

use super::{
    cells::{Cell, bind, read_row},
    tables::{Col, Kind, Table},
};
use crate::{
    StoreResult,
    backend::Backend,
    dialect::{Conn, Dialect},
    sql::placeholders,
};

/// Up to `limit` rows of `table` (`columns`, key first) after key `after`, in key order (text
/// in byte order on both backends), optionally only those meeting `only`.
pub(crate) async fn read_batch<B: Backend>(
    store: &B,
    table: &Table,
    columns: &[Col],
    only: Option<&str>,
    after: Option<&[Cell]>,
    limit: usize,
) -> StoreResult<Vec<Vec<Cell>>> {
    let keys: Vec<String> = table
        .key
        .iter()
        .map(|(name, kind)| match kind {
            Kind::Text => format!("{name}{}", B::COPY.byte_order),
            _ => (*name).to_owned(),
        })
        .collect();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let mut sql = format!("SELECT {} FROM {} WHERE true", names.join(", "), table.name);
    let mut next = 1;
    if after.is_some() {
        sql.push_str(&format!(
            " AND ({}) > ({})",
            keys.join(", "),
            placeholders(next, keys.len())
        ));
        next += keys.len();
    }
    if let Some(only) = only {
        sql.push_str(&format!(" AND {only}"));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT ${next}", keys.join(", ")));
    let mut query = B::Sql::query(sql.into());
    for cell in after.unwrap_or_default() {
        query = bind::<B>(query, cell);
    }
    query = B::Sql::bind(query, i64::try_from(limit).unwrap_or(i64::MAX));
    let rows = B::Sql::fetch_all(&mut *store.read().await?, query).await?;
    rows.iter().map(|row| read_row::<B>(row, columns)).collect()
}

/// Inserts `rows` (values of `columns`, in order) into `table`, in statements of at most the
/// backend's parameter budget.
pub(crate) async fn insert_rows<B: Backend>(
    conn: &mut Conn<B::Sql>,
    table: &str,
    columns: &[Col],
    rows: &[Vec<Cell>],
) -> StoreResult<()> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let per_statement = (B::STATEMENT_PARAMS / columns.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            names.join(", "),
            crate::sql::values_rows(chunk.len(), columns.len())
        );
        let mut query = B::Sql::query(sql.into());
        for cell in chunk.iter().flatten() {
            query = bind::<B>(query, cell);
        }
        B::Sql::execute(conn, query).await?;
    }
    Ok(())
}

/// Writes `set` columns of each row, found by `key` (each row: key cells, then `set` cells).
pub(crate) async fn update_rows<B: Backend>(
    conn: &mut Conn<B::Sql>,
    table: &str,
    key: &[Col],
    set: &[Col],
    rows: &[Vec<Cell>],
) -> StoreResult<()> {
    let assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{name} = ${}", i + 1))
        .collect();
    let conditions: Vec<String> = key
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{name} = ${}", set.len() + i + 1))
        .collect();
    let sql = format!(
        "UPDATE {table} SET {} WHERE {}",
        assignments.join(", "),
        conditions.join(" AND ")
    );
    for row in rows {
        let (key_cells, set_cells) = row.split_at(key.len());
        let mut query = B::Sql::query(sql.clone().into());
        for cell in set_cells.iter().chain(key_cells) {
            query = bind::<B>(query, cell);
        }
        B::Sql::execute(conn, query).await?;
    }
    Ok(())
}
