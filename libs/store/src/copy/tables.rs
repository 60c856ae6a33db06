//! What a copy copies: every table of the schema with its key and columns, in an order that
//! satisfies the foreign keys, and the passes that write columns again once every row is in.
//!
//! Not copied: migration bookkeeping (each side migrates itself), `vectors_clock` (a counter,
//! advanced instead, see `counters`) and `store_copy_progress` (the copy's own).

/// How a column's values are read, written and rendered for a checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `INTEGER` / `BIGINT`.
    Int,
    /// `REAL` / `DOUBLE PRECISION`.
    Real,
    /// `TEXT`.
    Text,
    /// SQLite `INTEGER` 0/1, PostgreSQL `BOOLEAN`.
    Bool,
    /// SQLite little-endian `f32` blob, PostgreSQL pgvector `vector`.
    Vector,
}

/// A column: name and kind.
pub(crate) type Col = (&'static str, Kind);

/// Columns written once every table is in: a row's value may name a row copied later
/// (`memories.superseded_by`), or triggers move it as later tables arrive (the users'
/// versions). `only` limits the pass to the rows that need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Later {
    /// The columns.
    pub(crate) columns: &'static [Col],
    /// A condition on the source rows the pass writes, if not all.
    pub(crate) only: Option<&'static str>,
}

/// A table of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    /// Its name.
    pub(crate) name: &'static str,
    /// Its primary key, in copy (and checksum) order.
    pub(crate) key: &'static [Col],
    /// The other columns written with the row.
    pub(crate) columns: &'static [Col],
    /// Columns written in a pass after every table (see [`Later`]).
    pub(crate) later: Option<Later>,
}

impl Table {
    /// Every column: key, row columns, later columns.
    pub(crate) fn all_columns(&self) -> Vec<Col> {
        let later = self.later.map_or(&[][..], |l| l.columns);
        [self.key, self.columns, later].concat()
    }
}

use Kind::{Bool, Int, Real, Text, Vector};

/// Every copied table, parents before children.
pub(crate) const TABLES: [Table; 17] = [
    Table {
        name: "store_meta",
        key: &[("key", Text)],
        columns: &[("value", Text)],
        later: None,
    },
    Table {
        name: "users",
        key: &[("user_id", Text)],
        columns: &[
            ("display_name", Text),
            ("summary", Text),
            ("last_interaction", Int),
            ("metadata", Text),
            ("created_at", Int),
            ("scope", Text),
        ],
        later: Some(Later {
            columns: &[
                ("vectors_version", Int),
                ("answers_version", Int),
                ("recall_version", Int),
            ],
            only: None,
        }),
    },
    Table {
        name: "caller_identities",
        key: &[("number_index", Text)],
        columns: &[
            ("phone_number", Text),
            ("user_id", Text),
            ("created_at", Int),
        ],
        later: None,
    },
    Table {
        name: "webhook_events",
        key: &[("id", Int)],
        columns: &[
            ("event_type", Text),
            ("conversation_id", Text),
            ("event_timestamp", Int),
            ("payload", Text),
            ("status", Text),
            ("attempts", Int),
            ("error_message", Text),
            ("received_at", Int),
            ("published_at", Int),
            ("processed_at", Int),
            ("traceparent", Text),
            ("result_memory_ids", Text),
        ],
        later: None,
    },
    Table {
        name: "conversations",
        key: &[("id", Int)],
        columns: &[
            ("conversation_id", Text),
            ("agent_id", Text),
            ("user_id", Text),
            ("started_at", Int),
            ("duration_secs", Int),
            ("status", Text),
            ("failure_reason", Text),
            ("created_at", Int),
        ],
        later: None,
    },
    Table {
        name: "conversation_turns",
        key: &[("id", Int)],
        columns: &[
            ("conversation_fk", Int),
            ("turn_index", Int),
            ("role", Text),
            ("message", Text),
            ("time_in_call_secs", Int),
        ],
        later: None,
    },
    Table {
        name: "conversation_analysis",
        key: &[("id", Int)],
        columns: &[
            ("conversation_fk", Int),
            ("summary", Text),
            ("call_successful", Text),
            ("evaluation_json", Text),
            ("data_collection", Text),
        ],
        later: None,
    },
    Table {
        name: "tool_invocations",
        key: &[("id", Int)],
        columns: &[
            ("tool_name", Text),
            ("conversation_id", Text),
            ("user_id", Text),
            ("request_params", Text),
            ("response_data", Text),
            ("latency_ms", Int),
            ("success", Bool),
            ("error_message", Text),
            ("created_at", Int),
        ],
        later: None,
    },
    Table {
        name: "memories",
        key: &[("id", Int)],
        columns: &[
            ("user_id", Text),
            ("content", Text),
            ("content_fingerprint", Text),
            ("kind", Text),
            ("sector", Text),
            ("salience", Real),
            ("decay_per_day", Real),
            ("state", Text),
            ("last_seen_at", Int),
            ("source_conversation", Text),
            ("source_turns", Text),
            ("superseded_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        later: Some(Later {
            columns: &[("superseded_by", Int)],
            only: Some("superseded_by IS NOT NULL"),
        }),
    },
    Table {
        name: "memory_embeddings",
        key: &[("memory_id", Int)],
        columns: &[
            ("user_id", Text),
            ("model", Text),
            ("dimension", Int),
            ("embedding", Vector),
            ("created_at", Int),
        ],
        later: None,
    },
    Table {
        name: "memory_links",
        key: &[("source_memory_id", Int), ("target_memory_id", Int)],
        columns: &[
            ("weight", Real),
            ("kind", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        later: None,
    },
    Table {
        name: "conversation_memories",
        key: &[("id", Int)],
        columns: &[
            ("conversation_fk", Int),
            ("memory_id", Int),
            ("extraction_type", Text),
            ("turn_indexes", Text),
            ("confidence", Real),
            ("created_at", Int),
        ],
        later: None,
    },
    Table {
        name: "memory_history",
        key: &[("id", Int)],
        columns: &[
            ("memory_id", Int),
            ("user_id", Text),
            ("content", Text),
            ("salience", Real),
            ("reason", Text),
            ("conversation_id", Text),
            ("changed_at", Int),
        ],
        later: None,
    },
    Table {
        name: "memory_terms",
        key: &[("memory_id", Int)],
        columns: &[("user_id", Text), ("terms", Text)],
        later: None,
    },
    Table {
        name: "erasure_tombstones",
        key: &[("digest", Text)],
        columns: &[("created_at", Int), ("expires_at", Int)],
        later: None,
    },
    Table {
        name: "elevenlabs_imports",
        key: &[("name", Text)],
        columns: &[
            ("window_after", Int),
            ("window_before", Int),
            ("cursor", Text),
            ("imported_until", Int),
            ("lease_until", Int),
            ("updated_at", Int),
        ],
        later: None,
    },
    Table {
        name: "elevenlabs_pending_conversations",
        key: &[("conversation_id", Text)],
        columns: &[("agent_id", Text), ("first_seen_at", Int)],
        later: None,
    },
];

/// Tables whose integer `id` comes from `AUTOINCREMENT` (SQLite) or a serial sequence
/// (PostgreSQL): the destination's counter is moved past the source's.
pub(crate) const COUNTED: [&str; 8] = [
    "webhook_events",
    "conversations",
    "conversation_turns",
    "conversation_analysis",
    "tool_invocations",
    "memories",
    "conversation_memories",
    "memory_history",
];

/// The names of the copied tables, parents first.
pub fn copied_tables() -> Vec<&'static str> {
    TABLES.iter().map(|t| t.name).collect()
}
