//! SQL shared by both backends, written with PostgreSQL's `$N` placeholders. SQLite gets the
//! same text with `?N` placeholders (numbered, so a placeholder may appear in any order), made
//! by [`to_sqlite`].
//!
//! Each area keeps its own statements; this module holds what several areas share: the
//! builders of dynamic statements (placeholder lists, multi-row `VALUES`, memory filters), the
//! memory columns, and the `memories` statements the API and extraction commits both run.
//!
//! Only portable SQL: `INSERT … ON CONFLICT`, `RETURNING`, `CASE` (no `GREATEST`).

use std::borrow::Cow;

use sqlx::AssertSqlSafe;

use crate::MemoryFilter;

/// Rewrites `$N` placeholders into SQLite's numbered `?N` form.
pub fn to_sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(ch);
        }
    }
    out
}

/// The memory columns every memory query selects, from table alias `m`.
macro_rules! memory_columns {
    () => {
        "m.id, m.user_id, m.content, m.kind, m.sector, m.salience, m.decay_per_day, m.state, \
         m.last_seen_at, m.source_conversation, m.source_turns, m.superseded_by, \
         m.superseded_at, m.created_at, m.updated_at"
    };
}
pub(crate) use memory_columns;

/// The ids of user `$1`'s memories that have lexical tokens or a vector, from the two per-user
/// indexes (a token or vector row carries its memory's user): the rows a user's index loads.
macro_rules! user_index_ids {
    () => {
        "m.id IN (SELECT memory_id FROM memory_terms WHERE user_id = $1 \
         UNION SELECT memory_id FROM memory_embeddings WHERE user_id = $1)"
    };
}
pub(crate) use user_index_ids;

/// The same columns unqualified, for `RETURNING` clauses.
macro_rules! returned_memory_columns {
    () => {
        "id, user_id, content, kind, sector, salience, decay_per_day, state, last_seen_at, \
         source_conversation, source_turns, superseded_by, superseded_at, created_at, updated_at"
    };
}

/// Rows per multi-row insert (and ids per `IN` list): keeps every statement under SQLite's
/// bound-parameter limit.
pub const INSERT_CHUNK: usize = 500;

/// A value bound to a dynamically built query.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// A text value.
    Text(String),
    /// An integer value.
    Int(i64),
}

/// Appends `AND …` conditions for a memory filter on alias `m`, numbering placeholders from
/// `next`, and returns the binds in placeholder order.
pub fn filter_conditions(filter: &MemoryFilter, next: &mut usize) -> (String, Vec<Bind>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let mut placeholder = |bind: Bind, binds: &mut Vec<Bind>| {
        binds.push(bind);
        let text = format!("${next}");
        *next += 1;
        text
    };
    let kinds: Vec<String> = filter
        .effective_kinds()
        .iter()
        .map(|k| placeholder(Bind::Text(k.as_str().to_owned()), &mut binds))
        .collect();
    sql.push_str(&format!(" AND m.kind IN ({})", kinds.join(", ")));
    if !filter.sectors.is_empty() {
        let list: Vec<String> = filter
            .sectors
            .iter()
            .map(|s| placeholder(Bind::Text(s.as_str().to_owned()), &mut binds))
            .collect();
        sql.push_str(&format!(" AND m.sector IN ({})", list.join(", ")));
    }
    let states = filter.effective_states();
    let list: Vec<String> = states
        .iter()
        .map(|s| placeholder(Bind::Text(s.as_str().to_owned()), &mut binds))
        .collect();
    sql.push_str(&format!(" AND m.state IN ({})", list.join(", ")));
    if !filter.include_superseded {
        sql.push_str(" AND m.superseded_by IS NULL");
    }
    if let Some(after) = filter.created_after {
        let p = placeholder(Bind::Int(after), &mut binds);
        sql.push_str(&format!(" AND m.created_at >= {p}"));
    }
    if let Some(before) = filter.created_before {
        let p = placeholder(Bind::Int(before), &mut binds);
        sql.push_str(&format!(" AND m.created_at < {p}"));
    }
    (sql, binds)
}

/// `$first, $first+1, …` for an `IN (…)` list of `count` values.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Multi-row `VALUES` list: `count` rows of `width` placeholders each, numbered from 1.
pub fn values_rows(count: usize, width: usize) -> String {
    (0..count)
        .map(|row| format!("({})", placeholders(1 + row * width, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Shared SQL as PostgreSQL runs it. Every statement passed here is built from this module's
/// constants and numbered placeholders only, never from input values, hence the assertion.
pub fn for_postgres(sql: impl Into<Cow<'static, str>>) -> AssertSqlSafe<Cow<'static, str>> {
    AssertSqlSafe(sql.into())
}

/// Shared SQL as SQLite runs it (`?N` placeholders); same provenance rule as [`for_postgres`].
pub fn for_sqlite(sql: impl Into<Cow<'static, str>>) -> AssertSqlSafe<Cow<'static, str>> {
    AssertSqlSafe(Cow::Owned(to_sqlite(&sql.into())))
}

/// One of a user's memories.
pub const SELECT_MEMORY: &str = concat!(
    "SELECT ",
    memory_columns!(),
    " FROM memories m WHERE m.id = $1 AND m.user_id = $2"
);

/// Replaces a memory's text, sector, salience, decay and state; returns it.
pub const UPDATE_MEMORY: &str = concat!(
    "UPDATE memories SET content = $1, content_fingerprint = $2, sector = $3, salience = $4, \
     decay_per_day = $5, state = $6, updated_at = $7 WHERE id = $8 AND user_id = $9 RETURNING ",
    returned_memory_columns!()
);

/// Marks memory `$3` superseded by `$1` at `$2`, both user `$4`'s.
pub const SUPERSEDE_MEMORY: &str = "UPDATE memories SET superseded_by = $1, superseded_at = $2, \
     updated_at = $2 WHERE id = $3 AND user_id = $4 \
     AND EXISTS (SELECT 1 FROM memories n WHERE n.id = $1 AND n.user_id = $4)";

/// Deletes one of a user's memories.
pub const DELETE_MEMORY: &str = "DELETE FROM memories WHERE id = $1 AND user_id = $2";

/// `$5` is the earlier text, encrypted for `memory_history.content`.
pub const INSERT_HISTORY: &str = "INSERT INTO memory_history \
     (memory_id, user_id, content, salience, reason, conversation_id, changed_at) \
     SELECT id, user_id, $5, salience, $1, $2, $3 FROM memories WHERE id = $4";

/// Reinforce `count` memories of user `$3` in one statement: salience `+ $1` capped at 1, seen
/// at `$2` (never moved back); their ids bind from `$4` on.
pub fn reinforce_memories(count: usize) -> String {
    format!(
        "UPDATE memories SET \
         salience = CASE WHEN salience + $1 > 1.0 THEN 1.0 ELSE salience + $1 END, \
         last_seen_at = CASE WHEN last_seen_at > $2 THEN last_seen_at ELSE $2 END \
         WHERE user_id = $3 AND id IN ({})",
        placeholders(4, count)
    )
}

/// Upserts `rows` memories' vectors in one statement: `$1` model, `$2` dimension, `$3` time,
/// then a memory id and its vector per row (`$4`, `$5`, …), each written as
/// `$N{id_cast}, $M{vector_cast}` (PostgreSQL needs the types inside `VALUES`).
pub fn upsert_embeddings(rows: usize, id_cast: &str, vector_cast: &str) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| format!("(${}{id_cast}, ${}{vector_cast})", 4 + 2 * i, 5 + 2 * i))
        .collect();
    format!(
        "WITH v(id, embedding) AS (VALUES {}) INSERT INTO memory_embeddings \
         (memory_id, user_id, model, dimension, embedding, created_at) \
         SELECT m.id, m.user_id, $1, $2, v.embedding, $3 FROM v \
         JOIN memories m ON m.id = v.id WHERE true \
         ON CONFLICT (memory_id) DO UPDATE SET model = excluded.model, \
         dimension = excluded.dimension, embedding = excluded.embedding, \
         created_at = excluded.created_at",
        values.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use memvox_core::Sector;

    use super::*;

    #[test]
    fn sqlite_placeholders_are_numbered() {
        assert_eq!(
            to_sqlite("a = $1 AND b = $12 AND c = '$'"),
            "a = ?1 AND b = ?12 AND c = '$'"
        );
    }

    #[test]
    fn filter_numbers_placeholders_in_bind_order() {
        let filter = MemoryFilter {
            sectors: vec![Sector::Semantic, Sector::Emotional],
            created_after: Some(5),
            ..MemoryFilter::default()
        };
        let mut next = 3;
        let (sql, binds) = filter_conditions(&filter, &mut next);
        assert_eq!(
            sql,
            " AND m.kind IN ($3) AND m.sector IN ($4, $5) AND m.state IN ($6) \
             AND m.superseded_by IS NULL AND m.created_at >= $7"
        );
        assert_eq!(binds.len(), 5);
        assert_eq!(binds[0], Bind::Text("fact".into()));
        assert_eq!(binds[4], Bind::Int(5));
        assert_eq!(next, 8);
    }

    #[test]
    fn values_rows_number_across_rows() {
        assert_eq!(values_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
