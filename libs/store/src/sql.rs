//! SQL shared by both backends, written with PostgreSQL's `$N` placeholders. SQLite gets the
//! same text with `?N` placeholders (numbered, so a placeholder may appear in any order), made
//! by [`to_sqlite`].
//!
//! Only portable SQL lives here: `INSERT … ON CONFLICT`, `RETURNING`, `CASE` (no `GREATEST`).

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

/// `$3` is the user's scope (`memvox_core::scope_of` the id).
pub const INSERT_USER_IF_MISSING: &str = "INSERT INTO users (user_id, created_at, scope) \
     VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING";

pub const SELECT_USER: &str = "SELECT u.user_id, u.display_name, u.summary, u.last_interaction, \
     u.created_at, (SELECT COUNT(*) FROM memories m WHERE m.user_id = u.user_id \
     AND m.kind = 'fact' AND m.state = 'active' AND m.superseded_by IS NULL) AS total_memories \
     FROM users u WHERE u.user_id = $1";

pub const UPDATE_USER_PROFILE: &str = "UPDATE users SET display_name = COALESCE($1, display_name), \
     summary = COALESCE($2, summary) WHERE user_id = $3";

pub const TOUCH_USER: &str = "UPDATE users SET last_interaction = $1 WHERE user_id = $2 \
     AND (last_interaction IS NULL OR last_interaction < $1)";

pub const INSERT_CALLER: &str = "INSERT INTO caller_identities (phone_number, user_id, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (phone_number) DO NOTHING";

pub const SELECT_CALLER: &str =
    "SELECT phone_number, user_id, created_at FROM caller_identities WHERE phone_number = $1";

/// Erasure, child rows first so every count is exact; `$1` is the user id.
pub const ERASE_USER: [(&str, &str); 13] = [
    (
        "memory_links",
        "DELETE FROM memory_links WHERE source_memory_id IN (SELECT id FROM memories WHERE user_id = $1) \
         OR target_memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    (
        "memory_embeddings",
        "DELETE FROM memory_embeddings WHERE user_id = $1 \
         OR memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    (
        "conversation_memories",
        "DELETE FROM conversation_memories WHERE memory_id IN (SELECT id FROM memories WHERE user_id = $1) \
         OR conversation_fk IN (SELECT id FROM conversations WHERE user_id = $1)",
    ),
    (
        "memory_history",
        "DELETE FROM memory_history WHERE user_id = $1 \
         OR memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    (
        "memory_terms",
        "DELETE FROM memory_terms WHERE user_id = $1 \
         OR memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    ("memories", "DELETE FROM memories WHERE user_id = $1"),
    (
        "conversation_turns",
        "DELETE FROM conversation_turns WHERE conversation_fk IN (SELECT id FROM conversations WHERE user_id = $1)",
    ),
    (
        "conversation_analysis",
        "DELETE FROM conversation_analysis WHERE conversation_fk IN (SELECT id FROM conversations WHERE user_id = $1)",
    ),
    (
        "webhook_events",
        "DELETE FROM webhook_events WHERE conversation_id IN (SELECT conversation_id FROM conversations WHERE user_id = $1)",
    ),
    (
        "tool_invocations",
        "DELETE FROM tool_invocations WHERE user_id = $1 \
         OR conversation_id IN (SELECT conversation_id FROM conversations WHERE user_id = $1)",
    ),
    (
        "conversations",
        "DELETE FROM conversations WHERE user_id = $1",
    ),
    (
        "caller_identities",
        "DELETE FROM caller_identities WHERE user_id = $1",
    ),
    ("users", "DELETE FROM users WHERE user_id = $1"),
];

/// `$6` is the conversation's tombstone digest: a live tombstone inserts nothing.
pub const INSERT_EVENT: &str = "INSERT INTO webhook_events \
     (event_type, conversation_id, event_timestamp, payload, received_at) \
     SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM erasure_tombstones \
     WHERE digest = $6 AND (expires_at IS NULL OR expires_at > $5)) \
     ON CONFLICT (event_type, conversation_id) DO NOTHING RETURNING id";

pub const SELECT_EVENT_ID: &str =
    "SELECT id FROM webhook_events WHERE event_type = $1 AND conversation_id = $2";

macro_rules! event_columns {
    () => {
        "id, event_type, conversation_id, event_timestamp, payload, status, attempts, \
         error_message, received_at, published_at"
    };
}

pub const SELECT_EVENT: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM webhook_events WHERE id = $1"
);

pub const SELECT_STALE_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM webhook_events WHERE status = 'pending' AND COALESCE(published_at, received_at) < $1 \
     ORDER BY id LIMIT $2"
);

pub const FINISH_EVENT: &str = "UPDATE webhook_events SET status = $1, error_message = $2, \
     processed_at = $3, attempts = attempts + 1 WHERE id = $4";

pub const REOPEN_EVENT: &str = "UPDATE webhook_events SET status = 'pending', error_message = NULL, \
     published_at = NULL WHERE id = $1";

pub const SELECT_CALL_TIMES: &str = "SELECT started_at FROM conversations WHERE user_id = $1 \
     AND status = 'completed' ORDER BY started_at DESC LIMIT $2";

pub const UPSERT_CONVERSATION: &str = "INSERT INTO conversations \
     (conversation_id, agent_id, user_id, started_at, duration_secs, status, failure_reason, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (conversation_id) DO UPDATE SET \
     agent_id = excluded.agent_id, user_id = excluded.user_id, started_at = excluded.started_at, \
     duration_secs = excluded.duration_secs, status = excluded.status, \
     failure_reason = excluded.failure_reason RETURNING id";

pub const DELETE_TURNS: &str = "DELETE FROM conversation_turns WHERE conversation_fk = $1";

pub const UPSERT_ANALYSIS: &str = "INSERT INTO conversation_analysis \
     (conversation_fk, summary, call_successful, evaluation_json, data_collection) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_fk) DO UPDATE SET \
     summary = excluded.summary, call_successful = excluded.call_successful, \
     evaluation_json = excluded.evaluation_json, data_collection = excluded.data_collection";

pub const SELECT_CONVERSATION: &str = "SELECT id, conversation_id, agent_id, user_id, started_at, \
     duration_secs, status, failure_reason FROM conversations WHERE conversation_id = $1";

pub const SELECT_TURNS: &str = "SELECT turn_index, role, message, time_in_call_secs \
     FROM conversation_turns WHERE conversation_fk = $1 ORDER BY turn_index";

pub const SELECT_ANALYSIS: &str = "SELECT summary, call_successful, evaluation_json, data_collection \
     FROM conversation_analysis WHERE conversation_fk = $1";

pub const SELECT_CONVERSATION_FK: &str = "SELECT id FROM conversations WHERE conversation_id = $1";

pub const INSERT_MEMORY: &str = concat!(
    "INSERT INTO memories (user_id, content, content_fingerprint, sector, salience, \
     decay_per_day, state, last_seen_at, source_conversation, source_turns, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $7, $10) RETURNING ",
    returned_memory_columns!()
);

pub const SELECT_MEMORY: &str = concat!(
    "SELECT ",
    memory_columns!(),
    " FROM memories m WHERE m.id = $1 AND m.user_id = $2"
);

pub const UPDATE_MEMORY: &str = concat!(
    "UPDATE memories SET content = $1, content_fingerprint = $2, sector = $3, salience = $4, \
     decay_per_day = $5, state = $6, updated_at = $7 WHERE id = $8 AND user_id = $9 RETURNING ",
    returned_memory_columns!()
);

pub const SUPERSEDE_MEMORY: &str = "UPDATE memories SET superseded_by = $1, superseded_at = $2, \
     updated_at = $2 WHERE id = $3 AND user_id = $4 \
     AND EXISTS (SELECT 1 FROM memories n WHERE n.id = $1 AND n.user_id = $4)";

pub const DELETE_MEMORY: &str = "DELETE FROM memories WHERE id = $1 AND user_id = $2";

pub const UPSERT_LINK_ON_CONFLICT: &str = " ON CONFLICT (source_memory_id, target_memory_id) DO UPDATE SET \
     weight = CASE WHEN excluded.weight > memory_links.weight THEN excluded.weight ELSE memory_links.weight END, \
     kind = CASE WHEN memory_links.kind = 'manual' THEN 'manual' ELSE 'reinforced' END, \
     updated_at = excluded.updated_at";

/// Claims an event for processing: only one transaction can move it out of `pending`.
pub const CLAIM_EVENT: &str = "UPDATE webhook_events SET status = 'completed', processed_at = $1, \
     attempts = attempts + 1, error_message = NULL WHERE id = $2 AND status = 'pending'";

pub const SELECT_EVENT_RESULT: &str =
    "SELECT status, result_memory_ids FROM webhook_events WHERE id = $1";

pub const SAVE_EVENT_RESULT: &str =
    "UPDATE webhook_events SET result_memory_ids = $1 WHERE id = $2";

/// `$5` is the earlier text, encrypted for `memory_history.content`.
pub const INSERT_HISTORY: &str = "INSERT INTO memory_history \
     (memory_id, user_id, content, salience, reason, conversation_id, changed_at) \
     SELECT id, user_id, $5, salience, $1, $2, $3 FROM memories WHERE id = $4";

pub const SELECT_HISTORY: &str = "SELECT content, changed_at FROM memory_history \
     WHERE memory_id = $1 AND user_id = $2 ORDER BY changed_at, id";

/// Merge an update: new text, salience `max(old, new) + $3` capped at 1, seen at `$5` (the
/// call's time; an older call does not move `last_seen_at` back), modified at `$8`.
pub const MERGE_MEMORY: &str = "UPDATE memories SET content = $1, content_fingerprint = $2, \
     salience = CASE WHEN (CASE WHEN salience > $4 THEN salience ELSE $4 END) + $3 > 1.0 THEN 1.0 \
     ELSE (CASE WHEN salience > $4 THEN salience ELSE $4 END) + $3 END, \
     last_seen_at = CASE WHEN last_seen_at > $5 THEN last_seen_at ELSE $5 END, updated_at = $8 \
     WHERE id = $6 AND user_id = $7";

/// Reinforce: salience `+ $1` capped at 1, seen at `$2` (never moved back).
pub const REINFORCE_MEMORY: &str = "UPDATE memories SET \
     salience = CASE WHEN salience + $1 > 1.0 THEN 1.0 ELSE salience + $1 END, \
     last_seen_at = CASE WHEN last_seen_at > $2 THEN last_seen_at ELSE $2 END \
     WHERE id = $3 AND user_id = $4";

/// Removes the episodes a conversation's earlier recording wrote (`$1` user, `$2` conversation).
pub const DELETE_CONVERSATION_EPISODES: &str = "DELETE FROM memories WHERE kind = 'episode' \
     AND source_conversation = $2 AND user_id = $1";

pub const SELECT_ALL_META: &str = "SELECT key, value FROM store_meta";

pub const SELECT_META: &str = "SELECT value FROM store_meta WHERE key = $1";

pub const UPSERT_META: &str = "INSERT INTO store_meta (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

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

/// The version of a user's vectors (moved by triggers on every write the index depends on).
pub const SELECT_USER_VERSION: &str =
    "SELECT vectors_version, answers_version FROM users WHERE user_id = $1";

pub const SELECT_VECTORS_VERSION: &str = "SELECT vectors_version FROM users WHERE user_id = $1";

/// A user's vectors with the attributes search filters on (the in-memory index).
pub const SELECT_USER_VECTORS: &str = "SELECT m.id, m.kind, m.sector, m.state, m.superseded_by, \
     m.created_at, e.embedding FROM memory_embeddings e JOIN memories m ON m.id = e.memory_id \
     WHERE e.user_id = $1 AND e.model = $2 ORDER BY m.id";

/// Memories without lexical tokens (written before the index existed), a batch at a time.
pub const SELECT_UNINDEXED_MEMORIES: &str = concat!(
    "SELECT ",
    memory_columns!(),
    " FROM memories m WHERE NOT EXISTS \
     (SELECT 1 FROM memory_terms t WHERE t.memory_id = m.id) ORDER BY m.id LIMIT $1"
);

pub const COUNT_EMBEDDINGS: &str = "SELECT COUNT(*) FROM memory_embeddings";

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
