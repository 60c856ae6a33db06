//! The rows of a bulk load: multi-row inserts of users, caller bindings and memories, each
//! statement within the backend's parameter budget.

use memvox_core::{MemoryId, MemoryState, scope_of};
use memvox_crypto::Keyring;

use super::BulkUser;
use crate::{
    StoreResult,
    callers::sealed_caller,
    dialect::{Conn, Dialect, Record, query},
    encryption::columns,
    rows::turns_json,
    sql,
};

/// Rows of `width` columns per statement within `params` bound parameters.
fn rows_per_statement(width: usize, params: usize) -> usize {
    (params / width).max(1)
}

/// The ids a [`crate::backend::Backend::MEMORY_IDS`] query returned, in order.
pub(super) fn ids<R: Record>(rows: &[R]) -> StoreResult<Vec<MemoryId>> {
    rows.iter().map(|row| row.value_at(0)).collect()
}

/// Inserts the users (their summaries sealed, their scope the one their id names).
pub(super) async fn insert_users<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    users: &[BulkUser],
    params: usize,
) -> StoreResult<()> {
    for chunk in users.chunks(rows_per_statement(6, params)) {
        let statement = format!(
            "INSERT INTO users (user_id, display_name, summary, last_interaction, created_at, \
             scope) VALUES {}",
            sql::values_rows(chunk.len(), 6)
        );
        let mut insert = query::<D>(statement);
        for user in chunk {
            let summary = user
                .summary
                .as_deref()
                .map(|s| keyring.encrypt(s, columns::USER_SUMMARY.at(&user.user_id)))
                .transpose()?;
            insert = insert
                .bind(user.user_id.as_str())
                .bind(user.display_name.as_deref())
                .bind(summary)
                .bind(user.last_interaction)
                .bind(user.created_at)
                .bind(scope_of(&user.user_id));
        }
        insert.execute(conn).await?;
    }
    Ok(())
}

/// Binds each user's caller number (sealed, under its blind index) from the user's creation;
/// the first binding of a number wins.
pub(super) async fn insert_callers<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    users: &[BulkUser],
    params: usize,
) -> StoreResult<()> {
    let mut bindings = Vec::new();
    for user in users {
        if let Some(number) = &user.caller_number {
            let (index, sealed) = sealed_caller(keyring, number, &user.user_id)?;
            bindings.push((index, sealed, user.user_id.as_str(), user.created_at));
        }
    }
    for chunk in bindings.chunks(rows_per_statement(4, params)) {
        let statement = format!(
            "INSERT INTO caller_identities (number_index, phone_number, user_id, created_at) \
             VALUES {} ON CONFLICT (number_index) DO NOTHING",
            sql::values_rows(chunk.len(), 4)
        );
        chunk
            .iter()
            .fold(query::<D>(statement), |q, (index, sealed, user, at)| {
                q.bind(index.as_str())
                    .bind(sealed.as_str())
                    .bind(*user)
                    .bind(*at)
            })
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Inserts every user's memories under `ids` (user after user), content sealed and
/// fingerprinted, each with its sector's decay rate, active.
pub(super) async fn insert_memories<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    users: &[BulkUser],
    ids: &[MemoryId],
    params: usize,
) -> StoreResult<()> {
    let memories: Vec<_> = users
        .iter()
        .flat_map(|user| {
            user.memories
                .iter()
                .map(move |m| (user.user_id.as_str(), m))
        })
        .zip(ids)
        .collect();
    for chunk in memories.chunks(rows_per_statement(14, params)) {
        let statement = format!(
            "INSERT INTO memories (id, user_id, content, content_fingerprint, kind, sector, \
             salience, decay_per_day, state, last_seen_at, source_conversation, source_turns, \
             created_at, updated_at) VALUES {}",
            sql::values_rows(chunk.len(), 14)
        );
        let mut insert = query::<D>(statement);
        for ((user_id, memory), id) in chunk {
            let (conversation, turns) = memory
                .source
                .as_ref()
                .map(|s| (s.conversation_id.clone(), turns_json(&s.turn_indexes)))
                .unzip();
            insert = insert
                .bind(**id)
                .bind(*user_id)
                .bind(keyring.encrypt(&memory.content, columns::MEMORY_CONTENT.at(user_id))?)
                .bind(keyring.fingerprint(&memory.content))
                .bind(memory.kind.as_str())
                .bind(memory.sector.as_str())
                .bind(memory.salience.clamp(0.0, 1.0))
                .bind(memory.sector.default_decay_per_day())
                .bind(MemoryState::Active.as_str())
                .bind(memory.last_seen_at)
                .bind(conversation)
                .bind(turns)
                .bind(memory.created_at)
                .bind(memory.updated_at);
        }
        insert.execute(conn).await?;
    }
    Ok(())
}
