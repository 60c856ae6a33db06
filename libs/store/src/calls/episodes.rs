//! Episodes: what a call's caller said, in their words, stored among their memories (kind
//! `episode`, episodic sector) so recall can find the moment as well as the facts.

use std::collections::HashMap;

use memvox_core::{MemoryId, MemoryKind, MemoryState, NewEpisode, Sector, UnixMillis};
use memvox_crypto::Keyring;

use crate::{
    LexicalKey, StoreError, StoreResult,
    dialect::{Conn, Dialect, Record, query},
    encryption::columns,
    sql::{self, INSERT_CHUNK},
    written::Written,
};

/// Removes the episodes a conversation's earlier recording wrote (`$1` user, `$2` conversation).
const DELETE_CONVERSATION_EPISODES: &str = "DELETE FROM memories WHERE kind = 'episode' \
     AND source_conversation = $2 AND user_id = $1";

/// The salience an episode is stored with: below an extracted fact's usual 0.5–0.9, so that of
/// a fact and an episode matching a query equally, the compact fact ranks first.
pub const EPISODE_SALIENCE: f64 = 0.3;

/// The episodes of one call to store, and for whom.
pub(crate) struct CallEpisodes<'a> {
    /// The caller.
    pub(crate) user_id: &'a str,
    /// The call.
    pub(crate) conversation_id: &'a str,
    /// What was said.
    pub(crate) episodes: &'a [NewEpisode],
}

/// Stores a call's episodes inside an open transaction, replacing any an earlier recording of
/// the conversation wrote, with one multi-row insert per chunk; returns their ids in
/// `episodes` order. Each gets lexical tokens like a memory.
pub(crate) async fn write_episodes_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    call: CallEpisodes<'_>,
    now: UnixMillis,
) -> StoreResult<Vec<MemoryId>> {
    let CallEpisodes {
        user_id,
        conversation_id,
        episodes,
    } = call;
    query::<D>(DELETE_CONVERSATION_EPISODES)
        .bind(user_id)
        .bind(conversation_id)
        .execute(conn)
        .await?;
    let sector = Sector::Episodic;
    let context = columns::MEMORY_CONTENT.at(user_id);
    let mut ids = Vec::with_capacity(episodes.len());
    for chunk in episodes.chunks(INSERT_CHUNK) {
        let statement = format!(
            "INSERT INTO memories (user_id, content, content_fingerprint, kind, sector, \
             salience, decay_per_day, state, last_seen_at, source_conversation, \
             source_turns, created_at, updated_at) VALUES {} RETURNING id, source_turns",
            sql::values_rows(chunk.len(), 13)
        );
        let mut insert = query::<D>(statement);
        let turns: Vec<String> = chunk
            .iter()
            .map(|e| crate::rows::turns_json(&e.turn_indexes))
            .collect();
        for (episode, turns) in chunk.iter().zip(&turns) {
            insert = insert
                .bind(user_id)
                .bind(keyring.encrypt(&episode.content, context)?)
                .bind(keyring.fingerprint(&episode.content))
                .bind(MemoryKind::Episode.as_str())
                .bind(sector.as_str())
                .bind(EPISODE_SALIENCE)
                .bind(sector.default_decay_per_day())
                .bind(MemoryState::Active.as_str())
                .bind(episode.said_at)
                .bind(conversation_id)
                .bind(turns)
                .bind(episode.said_at)
                .bind(now);
        }
        let mut by_turns: HashMap<String, MemoryId> = HashMap::with_capacity(chunk.len());
        for row in insert.fetch_all(conn).await? {
            by_turns.insert(row.value("source_turns")?, row.value("id")?);
        }
        for (episode, turns) in chunk.iter().zip(&turns) {
            let id = by_turns.get(turns).copied().ok_or_else(|| {
                StoreError::Corrupt(format!("episode at turns {turns} was not returned"))
            })?;
            written.index_terms(id, user_id, lexical.memory_terms(user_id, &episode.content));
            ids.push(id);
        }
    }
    Ok(ids)
}
