//! Reading rows back: memories and raw events decoded (and decrypted) from any backend's row,
//! and the small conversions of JSON and optional encrypted columns.

use memvox_core::{Memory, MemoryId, Provenance, Sector, UnixMillis};
use memvox_crypto::{Context, Keyring};

use crate::{
    EventStatus, StoreError, StoreResult, StoredEvent, dialect::Record, encryption::columns,
};

/// Turn indexes as stored (`source_turns`, `turn_indexes`): a JSON array, read back by
/// [`memory_from_row`].
pub(crate) fn turns_json(turns: &[u32]) -> String {
    serde_json::json!(turns).to_string()
}

/// Decodes a memory from a row selected with `memory_columns!()`, decrypting its content.
pub(crate) fn memory_from_row<R: Record>(keyring: &Keyring, row: &R) -> StoreResult<Memory> {
    let kind: String = row.value("kind")?;
    let sector: String = row.value("sector")?;
    let state: String = row.value("state")?;
    let source_conversation: Option<String> = row.value("source_conversation")?;
    let source_turns: Option<String> = row.value("source_turns")?;
    let provenance = match source_conversation {
        Some(conversation_id) => Some(Provenance {
            conversation_id,
            turn_indexes: match source_turns {
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("memories.source_turns: {e}")))?,
                None => Vec::new(),
            },
        }),
        None => None,
    };
    let user_id: String = row.value("user_id")?;
    let stored: String = row.value("content")?;
    let content = keyring.decrypt(&stored, columns::MEMORY_CONTENT.at(&user_id))?;
    Ok(Memory {
        id: row.value("id")?,
        user_id,
        content,
        kind: kind
            .parse()
            .map_err(|e: memvox_core::UnknownVariant| StoreError::Corrupt(e.to_string()))?,
        sector: sector
            .parse::<Sector>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        salience: row.value("salience")?,
        decay_per_day: row.value("decay_per_day")?,
        state: state
            .parse()
            .map_err(|e: memvox_core::UnknownVariant| StoreError::Corrupt(e.to_string()))?,
        last_seen_at: row.value("last_seen_at")?,
        created_at: row.value("created_at")?,
        updated_at: row.value("updated_at")?,
        provenance,
        superseded_by: row.value("superseded_by")?,
        superseded_at: row.value::<Option<UnixMillis>>("superseded_at")?,
    })
}

/// Decodes a raw event row, decrypting its payload.
pub(crate) fn event_from_row<R: Record>(keyring: &Keyring, row: &R) -> StoreResult<StoredEvent> {
    let status: String = row.value("status")?;
    let conversation_id: String = row.value("conversation_id")?;
    let stored: String = row.value("payload")?;
    let payload = keyring.decrypt(&stored, columns::EVENT_PAYLOAD.at(&conversation_id))?;
    Ok(StoredEvent {
        id: row.value("id")?,
        event_type: row.value("event_type")?,
        conversation_id,
        event_timestamp: row.value("event_timestamp")?,
        payload,
        status: status
            .parse::<EventStatus>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        attempts: row.value("attempts")?,
        error_message: row.value("error_message")?,
        received_at: row.value("received_at")?,
        published_at: row.value("published_at")?,
        traceparent: row.value("traceparent")?,
    })
}

/// Serialises an optional JSON value for a TEXT column.
pub(crate) fn json_text(value: Option<&serde_json::Value>) -> Option<String> {
    value.map(serde_json::Value::to_string)
}

/// Encrypts an optional value (`None` stays `None`).
pub(crate) fn encrypt_optional(
    keyring: &Keyring,
    value: Option<String>,
    context: Context<'_>,
) -> StoreResult<Option<String>> {
    Ok(value.map(|v| keyring.encrypt(&v, context)).transpose()?)
}

/// Decrypts an optional stored value (`None` stays `None`).
pub(crate) fn decrypt_optional(
    keyring: &Keyring,
    value: Option<String>,
    context: Context<'_>,
) -> StoreResult<Option<String>> {
    Ok(value.map(|v| keyring.decrypt(&v, context)).transpose()?)
}

/// Parses an optional TEXT column holding JSON.
pub(crate) fn parse_json_text(
    column: &str,
    text: Option<String>,
) -> StoreResult<Option<serde_json::Value>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
}

/// Parses the stored JSON list of an event's result memory ids.
pub(crate) fn parse_result_ids(text: Option<String>) -> StoreResult<Vec<MemoryId>> {
    match text {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("webhook_events.result_memory_ids: {e}"))),
        None => Ok(Vec::new()),
    }
}
