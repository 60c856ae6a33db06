//! One row of a copied table as plain values ([`Cell`]): read from either backend, bound to
//! either backend's statement, rendered canonically for a checksum, and (its key) kept as a
//! resumable cursor.

use sha2::{Digest, Sha256};

use super::tables::{Col, Kind};
use crate::{
    StoreError, StoreResult,
    backend::{Backend, QueryOf, RowOf},
    dialect::{Dialect, Record},
};

/// One value of a row, typed by its column's [`Kind`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// An integer or `NULL`.
    Int(Option<i64>),
    /// A float or `NULL`.
    Real(Option<f64>),
    /// Text or `NULL`.
    Text(Option<String>),
    /// A boolean or `NULL`.
    Bool(Option<bool>),
    /// A vector (vector columns are `NOT NULL`).
    Vector(Vec<f32>),
}

/// Reads `columns` from a row of backend `B` (selected in that order).
pub(crate) fn read_row<B: Backend>(row: &RowOf<B>, columns: &[Col]) -> StoreResult<Vec<Cell>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| {
            Ok(match kind {
                Kind::Int => Cell::Int(row.value_at(i)?),
                Kind::Real => Cell::Real(row.value_at(i)?),
                Kind::Text => Cell::Text(row.value_at(i)?),
                Kind::Bool => Cell::Bool(row.value_at(i)?),
                Kind::Vector => Cell::Vector(
                    B::row_vector(row, i)?
                        .ok_or_else(|| StoreError::Corrupt(format!("NULL vector in {name}")))?,
                ),
            })
        })
        .collect()
}

/// Binds `cell` to the next placeholder of a statement of backend `B`.
pub(crate) fn bind<B: Backend>(query: QueryOf<B>, cell: &Cell) -> QueryOf<B> {
    match cell {
        Cell::Int(v) => B::Sql::bind(query, *v),
        Cell::Real(v) => B::Sql::bind(query, *v),
        Cell::Text(v) => B::Sql::bind(query, v.clone()),
        Cell::Bool(v) => B::Sql::bind(query, *v),
        Cell::Vector(v) => B::bind_vector(query, v),
    }
}

/// Feeds a row's canonical rendering to `hash`: per value a kind tag, a presence byte and
/// its bytes (integers and floats little-endian, text length-prefixed, vectors as their
/// `f32`s), so equal rows hash equally on either backend and no two rows share a rendering.
pub(crate) fn hash_row(hash: &mut Sha256, row: &[Cell]) {
    for cell in row {
        match cell {
            Cell::Int(v) => tagged(hash, 1, v.map(i64::to_le_bytes).as_ref().map(|b| &b[..])),
            Cell::Real(v) => tagged(
                hash,
                2,
                v.map(|f| f.to_bits().to_le_bytes())
                    .as_ref()
                    .map(|b| &b[..]),
            ),
            Cell::Text(v) => {
                let len = v.as_ref().map(|t| (t.len() as u64).to_le_bytes());
                tagged(hash, 3, len.as_ref().map(|b| &b[..]));
                if let Some(text) = v {
                    hash.update(text.as_bytes());
                }
            }
            Cell::Bool(v) => tagged(hash, 4, v.map(|b| [u8::from(b)]).as_ref().map(|b| &b[..])),
            Cell::Vector(v) => {
                tagged(hash, 5, Some(&(v.len() as u64).to_le_bytes()));
                for x in v {
                    hash.update(x.to_bits().to_le_bytes());
                }
            }
        }
    }
}

/// A kind tag, a presence byte, then the value's bytes if present.
fn tagged(hash: &mut Sha256, tag: u8, bytes: Option<&[u8]>) {
    hash.update([tag, u8::from(bytes.is_some())]);
    if let Some(bytes) = bytes {
        hash.update(bytes);
    }
}

/// A row's key (its first cells) as a cursor to store: a JSON array of its values.
pub(crate) fn cursor_of(key: &[Cell]) -> String {
    let values: Vec<serde_json::Value> = key
        .iter()
        .map(|cell| match cell {
            Cell::Int(Some(v)) => (*v).into(),
            Cell::Text(Some(v)) => v.clone().into(),
            _ => serde_json::Value::Null,
        })
        .collect();
    serde_json::Value::Array(values).to_string()
}

/// A stored cursor back as key cells of `key`'s kinds.
pub(crate) fn parse_cursor(text: &str, key: &[Col]) -> StoreResult<Vec<Cell>> {
    let corrupt = || StoreError::Corrupt(format!("copy cursor `{text}`"));
    let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|_| corrupt())?;
    if values.len() != key.len() {
        return Err(corrupt());
    }
    key.iter()
        .zip(values)
        .map(|((_, kind), value)| match kind {
            Kind::Int => value
                .as_i64()
                .map(|v| Cell::Int(Some(v)))
                .ok_or_else(corrupt),
            Kind::Text => value
                .as_str()
                .map(|v| Cell::Text(Some(v.to_owned())))
                .ok_or_else(corrupt),
            _ => Err(corrupt()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(row: &[Cell]) -> Vec<u8> {
        let mut hash = Sha256::new();
        hash_row(&mut hash, row);
        hash.finalize().to_vec()
    }

    #[test]
    fn renderings_tell_null_empty_and_shifted_values_apart() {
        let a = digest(&[
            Cell::Text(Some("ab".into())),
            Cell::Text(Some(String::new())),
        ]);
        let b = digest(&[Cell::Text(Some("a".into())), Cell::Text(Some("b".into()))]);
        let c = digest(&[Cell::Text(Some("ab".into())), Cell::Text(None)]);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(digest(&[Cell::Int(Some(0))]), digest(&[Cell::Int(None)]));
        assert_ne!(
            digest(&[Cell::Int(Some(1))]),
            digest(&[Cell::Bool(Some(true))])
        );
    }

    #[test]
    fn cursors_round_trip() {
        let key = [("a", Kind::Int), ("b", Kind::Text)];
        let cells = vec![Cell::Int(Some(7)), Cell::Text(Some("u\"1".into()))];
        assert_eq!(parse_cursor(&cursor_of(&cells), &key).unwrap(), cells);
        assert!(parse_cursor("[1]", &key).is_err());
    }
}
