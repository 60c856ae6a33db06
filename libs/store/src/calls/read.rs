//! Reading a recorded call back: the conversation row, its turns and its analysis, decrypted.

use memvox_core::{CallOutcome, Conversation, Turn, UnknownVariant};
use memvox_crypto::Keyring;

use crate::{
    CallAnalysis, CallRecord, StoreError, StoreResult,
    backend::Backend,
    dialect::{Record, query},
    encryption::columns,
    rows::{decrypt_optional, parse_json_text},
};

/// A conversation's header.
const SELECT_CONVERSATION: &str = "SELECT id, conversation_id, agent_id, user_id, started_at, \
     duration_secs, status, failure_reason FROM conversations WHERE conversation_id = $1";

/// A conversation's turns, in order.
const SELECT_TURNS: &str = "SELECT turn_index, role, message, time_in_call_secs \
     FROM conversation_turns WHERE conversation_fk = $1 ORDER BY turn_index";

/// A conversation's analysis.
const SELECT_ANALYSIS: &str = "SELECT summary, call_successful, evaluation_json, data_collection \
     FROM conversation_analysis WHERE conversation_fk = $1";

/// Reads a call back (see `Calls::get_call`).
pub(super) async fn get_call<B: Backend>(
    store: &B,
    conversation_id: &str,
) -> StoreResult<Option<CallRecord>> {
    let keyring = &store.core().keyring;
    let mut conn = store.read().await?;
    let Some(row) = query::<B::Sql>(SELECT_CONVERSATION)
        .bind(conversation_id)
        .fetch_optional(&mut conn)
        .await?
    else {
        return Ok(None);
    };
    let fk: i64 = row.value("id")?;
    let status: String = row.value("status")?;
    let conversation_id: String = row.value("conversation_id")?;
    let conversation = Conversation {
        conversation_id: conversation_id.clone(),
        agent_id: row.value("agent_id")?,
        user_id: row.value("user_id")?,
        started_at: row.value("started_at")?,
        duration_secs: row.value("duration_secs")?,
        status: status.parse().map_err(corrupt)?,
        failure_reason: row.value("failure_reason")?,
    };
    let turn_rows = query::<B::Sql>(SELECT_TURNS)
        .bind(fk)
        .fetch_all(&mut conn)
        .await?;
    let turns = turn_rows
        .iter()
        .map(|row| turn_from_row(keyring, &conversation_id, row))
        .collect::<StoreResult<_>>()?;
    let analysis = query::<B::Sql>(SELECT_ANALYSIS)
        .bind(fk)
        .fetch_optional(&mut conn)
        .await?
        .map(|row| analysis_from_row(keyring, &conversation_id, &row))
        .transpose()?;
    Ok(Some(CallRecord {
        conversation,
        turns,
        analysis,
    }))
}

/// A transcript turn, its message decrypted.
fn turn_from_row<R: Record>(
    keyring: &Keyring,
    conversation_id: &str,
    row: &R,
) -> StoreResult<Turn> {
    let role: String = row.value("role")?;
    let index: i64 = row.value("turn_index")?;
    let message: Option<String> = row.value("message")?;
    Ok(Turn {
        index: u32::try_from(index)
            .map_err(|_| StoreError::Corrupt(format!("turn index {index}")))?,
        role: role.parse().map_err(corrupt)?,
        message: message
            .map(|m| keyring.decrypt(&m, columns::TURN_MESSAGE.at(conversation_id)))
            .transpose()?,
        time_in_call_secs: row.value("time_in_call_secs")?,
    })
}

/// A call's analysis, its summary and JSON columns decrypted.
fn analysis_from_row<R: Record>(
    keyring: &Keyring,
    conversation_id: &str,
    row: &R,
) -> StoreResult<CallAnalysis> {
    let outcome: String = row.value("call_successful")?;
    let summary: Option<String> = row.value("summary")?;
    Ok(CallAnalysis {
        summary: summary
            .map(|s| keyring.decrypt(&s, columns::ANALYSIS_SUMMARY.at(conversation_id)))
            .transpose()?,
        outcome: CallOutcome::from_wire(&outcome),
        evaluation: parse_json_text(
            "evaluation_json",
            decrypt_optional(
                keyring,
                row.value("evaluation_json")?,
                columns::ANALYSIS_EVALUATION.at(conversation_id),
            )?,
        )?,
        data_collection: parse_json_text(
            "data_collection",
            decrypt_optional(
                keyring,
                row.value("data_collection")?,
                columns::ANALYSIS_DATA_COLLECTION.at(conversation_id),
            )?,
        )?,
    })
}

/// A stored variant that no longer parses.
fn corrupt(e: UnknownVariant) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
