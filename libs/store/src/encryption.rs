//! Encryption at rest in the store: which columns are encrypted and with what context, what the
//! database records about its keys (`store_meta`), and the records of key status and rotation.
//!
//! Encrypted columns: `users.summary`, `webhook_events.payload`, `conversation_turns.message`,
//! `conversation_analysis.summary`, `.evaluation_json` and `.data_collection`,
//! `memories.content`, `memory_history.content`, `tool_invocations.request_params` and
//! `.response_data`, and `caller_identities.phone_number` (looked up by its blind index, see
//! `callers`). Each value is bound to its column and owner (the user id, or the conversation id
//! for call data).

use std::collections::BTreeMap;

use memvox_crypto::{CryptoError, Keyring};

use crate::{StoreError, StoreResult};

/// An encrypted column and the owner its values are bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// `table.column`.
    pub name: &'static str,
}

impl Column {
    /// The encryption context of this column's value owned by `owner`.
    pub fn at<'a>(&'a self, owner: &'a str) -> memvox_crypto::Context<'a> {
        memvox_crypto::Context {
            column: self.name,
            owner,
        }
    }
}

/// The encrypted columns.
pub(crate) mod columns {
    use super::Column;

    /// A user's summary, owned by the user.
    pub const USER_SUMMARY: Column = Column {
        name: "users.summary",
    };
    /// A raw webhook payload, owned by its conversation.
    pub const EVENT_PAYLOAD: Column = Column {
        name: "webhook_events.payload",
    };
    /// A transcript turn, owned by its conversation.
    pub const TURN_MESSAGE: Column = Column {
        name: "conversation_turns.message",
    };
    /// A call analysis summary, owned by its conversation.
    pub const ANALYSIS_SUMMARY: Column = Column {
        name: "conversation_analysis.summary",
    };
    /// A call analysis's evaluation results (JSON), owned by its conversation.
    pub const ANALYSIS_EVALUATION: Column = Column {
        name: "conversation_analysis.evaluation_json",
    };
    /// A call analysis's collected data (JSON), owned by its conversation.
    pub const ANALYSIS_DATA_COLLECTION: Column = Column {
        name: "conversation_analysis.data_collection",
    };
    /// A logged tool call's parameters (JSON), owned by its user (else its conversation).
    pub const TOOL_REQUEST: Column = Column {
        name: "tool_invocations.request_params",
    };
    /// A logged tool call's response (JSON), owned by its user (else its conversation).
    pub const TOOL_RESPONSE: Column = Column {
        name: "tool_invocations.response_data",
    };
    /// A memory's text, owned by its user.
    pub const MEMORY_CONTENT: Column = Column {
        name: "memories.content",
    };
    /// An earlier text of a memory, owned by its user.
    pub const HISTORY_CONTENT: Column = Column {
        name: "memory_history.content",
    };
    /// A caller number's binding key, owned by the bound user.
    pub const CALLER_NUMBER: Column = Column {
        name: "caller_identities.phone_number",
    };
}

/// One encrypted column as rotation and status walk it: keyset pagination by primary key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnWalk {
    /// The column and its context.
    pub column: Column,
    /// `$1` cursor (primary key after which to read), `$2` page size; selects `k` (primary
    /// key), `owner` and `v` (stored value) of non-null values in key order.
    pub select_page: &'static str,
    /// Compare-and-swap: `$1` new value, `$2` primary key, `$3` the value read (and, for
    /// memories, `$4` the new fingerprint). Touches nothing if a concurrent write changed it.
    pub swap: &'static str,
    /// Whether the primary key is text (`users.user_id`) rather than an integer.
    pub text_key: bool,
}

/// The owner a logged tool call's values are bound to: its user, else its conversation (the
/// same expression as the rotation walk's `COALESCE(user_id, conversation_id, '')`).
pub(crate) fn tool_owner(call: &crate::ToolInvocation) -> &str {
    call.user_id
        .as_deref()
        .or(call.conversation_id.as_deref())
        .unwrap_or("")
}

/// Every encrypted column, in rotation order.
pub(crate) const WALKS: [ColumnWalk; 11] = [
    ColumnWalk {
        column: columns::USER_SUMMARY,
        select_page: "SELECT user_id AS k, user_id AS owner, summary AS v FROM users \
             WHERE user_id > $1 AND summary IS NOT NULL ORDER BY user_id LIMIT $2",
        swap: "UPDATE users SET summary = $1 WHERE user_id = $2 AND summary = $3",
        text_key: true,
    },
    ColumnWalk {
        column: columns::EVENT_PAYLOAD,
        select_page: "SELECT id AS k, conversation_id AS owner, payload AS v FROM webhook_events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        swap: "UPDATE webhook_events SET payload = $1 WHERE id = $2 AND payload = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::TURN_MESSAGE,
        select_page: "SELECT t.id AS k, c.conversation_id AS owner, t.message AS v \
             FROM conversation_turns t JOIN conversations c ON c.id = t.conversation_fk \
             WHERE t.id > $1 AND t.message IS NOT NULL ORDER BY t.id LIMIT $2",
        swap: "UPDATE conversation_turns SET message = $1 WHERE id = $2 AND message = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::ANALYSIS_SUMMARY,
        select_page: "SELECT a.id AS k, c.conversation_id AS owner, a.summary AS v \
             FROM conversation_analysis a JOIN conversations c ON c.id = a.conversation_fk \
             WHERE a.id > $1 AND a.summary IS NOT NULL ORDER BY a.id LIMIT $2",
        swap: "UPDATE conversation_analysis SET summary = $1 WHERE id = $2 AND summary = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::ANALYSIS_EVALUATION,
        select_page: "SELECT a.id AS k, c.conversation_id AS owner, a.evaluation_json AS v \
             FROM conversation_analysis a JOIN conversations c ON c.id = a.conversation_fk \
             WHERE a.id > $1 AND a.evaluation_json IS NOT NULL ORDER BY a.id LIMIT $2",
        swap: "UPDATE conversation_analysis SET evaluation_json = $1 \
             WHERE id = $2 AND evaluation_json = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::ANALYSIS_DATA_COLLECTION,
        select_page: "SELECT a.id AS k, c.conversation_id AS owner, a.data_collection AS v \
             FROM conversation_analysis a JOIN conversations c ON c.id = a.conversation_fk \
             WHERE a.id > $1 AND a.data_collection IS NOT NULL ORDER BY a.id LIMIT $2",
        swap: "UPDATE conversation_analysis SET data_collection = $1 \
             WHERE id = $2 AND data_collection = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::TOOL_REQUEST,
        select_page: "SELECT id AS k, COALESCE(user_id, conversation_id, '') AS owner, \
             request_params AS v FROM tool_invocations WHERE id > $1 ORDER BY id LIMIT $2",
        swap: "UPDATE tool_invocations SET request_params = $1 WHERE id = $2 AND request_params = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::TOOL_RESPONSE,
        select_page: "SELECT id AS k, COALESCE(user_id, conversation_id, '') AS owner, \
             response_data AS v FROM tool_invocations \
             WHERE id > $1 AND response_data IS NOT NULL ORDER BY id LIMIT $2",
        swap: "UPDATE tool_invocations SET response_data = $1 WHERE id = $2 AND response_data = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::MEMORY_CONTENT,
        select_page: "SELECT id AS k, user_id AS owner, content AS v FROM memories \
             WHERE id > $1 ORDER BY id LIMIT $2",
        swap: "UPDATE memories SET content = $1, content_fingerprint = $4 \
             WHERE id = $2 AND content = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::HISTORY_CONTENT,
        select_page: "SELECT id AS k, user_id AS owner, content AS v FROM memory_history \
             WHERE id > $1 ORDER BY id LIMIT $2",
        swap: "UPDATE memory_history SET content = $1 WHERE id = $2 AND content = $3",
        text_key: false,
    },
    ColumnWalk {
        column: columns::CALLER_NUMBER,
        select_page: crate::callers::SELECT_CALLER_PAGE,
        swap: "UPDATE caller_identities SET phone_number = $1 \
             WHERE number_index = $2 AND phone_number = $3",
        text_key: true,
    },
];

/// Where a column walk stands: the primary key of the last row seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Integer primary key (start at 0).
    Int(i64),
    /// Text primary key (start at the empty string).
    Text(String),
}

/// How one encrypted column's values are stored: count per key id (`None`: plaintext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnStatus {
    /// `table.column`.
    pub column: &'static str,
    /// Values per key id; the `None` entry counts plaintext values.
    pub by_key: BTreeMap<Option<String>, u64>,
}

/// What one re-encryption batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReencryptBatch {
    /// Where the next batch starts; `None` when the column is done.
    pub next: Option<Cursor>,
    /// Values rewritten under the active key.
    pub rewritten: u64,
    /// Values a concurrent write changed between read and rewrite (left as written).
    pub raced: u64,
}

/// The walk of a column named `table.column`.
pub(crate) fn walk(column: &str) -> StoreResult<&'static ColumnWalk> {
    WALKS
        .iter()
        .find(|w| w.column.name == column)
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "`{column}` is not an encrypted column (one of {})",
                encrypted_columns().join(", ")
            ))
        })
}

/// Names of the encrypted columns, in rotation order.
pub fn encrypted_columns() -> Vec<&'static str> {
    WALKS.iter().map(|w| w.column.name).collect()
}

/// `store_meta` keys.
pub(crate) mod meta {
    /// `on` once encrypted values may exist.
    pub const MARK: &str = "encryption";
    /// Comma-separated key ids the data needs.
    pub const KEYS: &str = "encryption_keys";
    /// Prefix of a key's check value.
    pub const KEY_CHECK: &str = "encryption_key_check.";
    /// The index key's check value.
    pub const INDEX_CHECK: &str = "encryption_index_check";

    /// Whether the recorded `store_meta` rows mark the data as encrypted.
    pub fn marked(recorded: &std::collections::BTreeMap<String, String>) -> bool {
        recorded.get(MARK).is_some_and(|v| v == "on")
    }

    /// The key ids the recorded `store_meta` rows say the data needs.
    pub fn key_ids(recorded: &std::collections::BTreeMap<String, String>) -> Vec<String> {
        recorded
            .get(KEYS)
            .map(|ids| {
                ids.split(',')
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The `store_meta` rows to write after checking the keyring against what the database records.
/// `recorded(key)` reads a `store_meta` value. Fails, with what to do, when encryption is off
/// for an encrypted database, when a key the data needs is missing or different, or when the
/// index key changed.
pub(crate) fn check_keys(
    keyring: &Keyring,
    recorded: &BTreeMap<String, String>,
) -> StoreResult<Vec<(String, String)>> {
    let marked = meta::marked(recorded);
    let needed = meta::key_ids(recorded);
    if !keyring.is_enabled() {
        if marked {
            return Err(StoreError::Config(format!(
                "this database holds encrypted data (keys {}): it cannot be opened with encryption.enabled = false; configure its keys instead",
                needed.join(", ")
            )));
        }
        return Ok(Vec::new());
    }
    for id in &needed {
        let check = recorded
            .get(&format!("{}{id}", meta::KEY_CHECK))
            .ok_or_else(|| StoreError::Corrupt(format!("no check value for key `{id}`")))?;
        keyring.verify_key_check(id, check).map_err(|e| match e {
            CryptoError::UnknownKey(_) => StoreError::Config(format!(
                "this database needs encryption key `{id}`, which the configured key source does not hold: add it to the key file or secret"
            )),
            CryptoError::Authentication { .. } => StoreError::Config(format!(
                "encryption key `{id}` in the key source is not the key this database was encrypted with"
            )),
            other => StoreError::Crypto(other),
        })?;
    }
    let index_check = keyring.index_check().unwrap_or_default();
    if let Some(recorded_index) = recorded.get(meta::INDEX_CHECK)
        && *recorded_index != index_check
    {
        return Err(StoreError::Config(
            "the configured encryption index key is not the one this database was written with (duplicate detection depends on it): restore the original index_key".into(),
        ));
    }
    let active = keyring.active_key_id().unwrap_or_default();
    let mut ids = needed;
    if !ids.contains(&active) {
        ids.push(active);
    }
    key_rows(keyring, &ids, index_check)
}

/// The `store_meta` rows that record `ids` as the keys the data needs.
pub(crate) fn key_rows(
    keyring: &Keyring,
    ids: &[String],
    index_check: String,
) -> StoreResult<Vec<(String, String)>> {
    let mut rows = vec![
        (meta::MARK.to_owned(), "on".to_owned()),
        (meta::KEYS.to_owned(), ids.join(",")),
        (meta::INDEX_CHECK.to_owned(), index_check),
    ];
    for id in ids {
        let check = keyring
            .key_check(id)
            .ok_or_else(|| StoreError::Crypto(CryptoError::UnknownKey(id.clone())))?;
        rows.push((format!("{}{id}", meta::KEY_CHECK), check));
    }
    Ok(rows)
}
