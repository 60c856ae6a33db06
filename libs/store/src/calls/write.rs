//! Recording a call inside an open transaction: the conversation row (upserted), its turns
//! (replaced) and its analysis, sensitive text encrypted.

use memvox_core::UnixMillis;
use memvox_crypto::Keyring;

use crate::{
    CallRecord, StoreResult,
    dialect::{Conn, Dialect, Record, query},
    encryption::columns,
    rows::{encrypt_optional, json_text},
    sql::{self, INSERT_CHUNK},
    users::ensure_user_in,
    written::Written,
};

/// Records a conversation's header, replacing an earlier recording's; returns its row id.
const UPSERT_CONVERSATION: &str = "INSERT INTO conversations \
     (conversation_id, agent_id, user_id, started_at, duration_secs, status, failure_reason, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (conversation_id) DO UPDATE SET \
     agent_id = excluded.agent_id, user_id = excluded.user_id, started_at = excluded.started_at, \
     duration_secs = excluded.duration_secs, status = excluded.status, \
     failure_reason = excluded.failure_reason RETURNING id";

/// Removes a conversation's turns (before they are written again).
const DELETE_TURNS: &str = "DELETE FROM conversation_turns WHERE conversation_fk = $1";

/// Records (or replaces) a conversation's analysis.
const UPSERT_ANALYSIS: &str = "INSERT INTO conversation_analysis \
     (conversation_fk, summary, call_successful, evaluation_json, data_collection) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_fk) DO UPDATE SET \
     summary = excluded.summary, call_successful = excluded.call_successful, \
     evaluation_json = excluded.evaluation_json, data_collection = excluded.data_collection";

/// Records a call inside an open transaction, replacing what an earlier recording of the same
/// conversation wrote.
pub(crate) async fn record_call_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    written: &mut Written,
    call: &CallRecord,
    now: UnixMillis,
) -> StoreResult<()> {
    let conversation = &call.conversation;
    let conversation_id = &conversation.conversation_id;
    if let Some(user_id) = &conversation.user_id {
        ensure_user_in::<D>(conn, written, user_id, now).await?;
    }
    let row = query::<D>(UPSERT_CONVERSATION)
        .bind(conversation_id)
        .bind(&conversation.agent_id)
        .bind(&conversation.user_id)
        .bind(conversation.started_at)
        .bind(conversation.duration_secs)
        .bind(conversation.status.as_str())
        .bind(&conversation.failure_reason)
        .bind(now)
        .fetch_one(conn)
        .await?;
    let fk: i64 = row.value("id")?;
    written.remember_conversation(conversation_id, fk);
    let turn_context = columns::TURN_MESSAGE.at(conversation_id);
    query::<D>(DELETE_TURNS).bind(fk).execute(conn).await?;
    for chunk in call.turns.chunks(INSERT_CHUNK) {
        let statement = format!(
            "INSERT INTO conversation_turns \
             (conversation_fk, turn_index, role, message, time_in_call_secs) VALUES {}",
            sql::values_rows(chunk.len(), 5)
        );
        let mut insert = query::<D>(statement);
        for turn in chunk {
            let message = turn
                .message
                .as_deref()
                .map(|m| keyring.encrypt(m, turn_context))
                .transpose()?;
            insert = insert
                .bind(fk)
                .bind(i64::from(turn.index))
                .bind(turn.role.as_str())
                .bind(message)
                .bind(turn.time_in_call_secs);
        }
        insert.execute(conn).await?;
    }
    if let Some(analysis) = &call.analysis {
        let summary = analysis
            .summary
            .as_deref()
            .map(|s| keyring.encrypt(s, columns::ANALYSIS_SUMMARY.at(conversation_id)))
            .transpose()?;
        query::<D>(UPSERT_ANALYSIS)
            .bind(fk)
            .bind(summary)
            .bind(analysis.outcome.as_str())
            .bind(encrypt_optional(
                keyring,
                json_text(analysis.evaluation.as_ref()),
                columns::ANALYSIS_EVALUATION.at(conversation_id),
            )?)
            .bind(encrypt_optional(
                keyring,
                json_text(analysis.data_collection.as_ref()),
                columns::ANALYSIS_DATA_COLLECTION.at(conversation_id),
            )?)
            .execute(conn)
            .await?;
    }
    Ok(())
}
