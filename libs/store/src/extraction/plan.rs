//! One planned memory change of an extraction commit: add, update (merge), supersede or
//! reinforce, applied inside the commit's transaction.

use memvox_core::{MemoryId, NewMemory};
use memvox_crypto::Keyring;

use crate::{
    LexicalKey, PlannedMemory, StoreResult,
    dialect::{Conn, Dialect, query},
    encryption::columns,
    memory_edits::insert_memories_in,
    rows::memory_from_row,
    sql,
    written::{Times, Written, cite_in},
};

/// Merge an update: new text, salience `max(old, new) + $3` capped at 1, seen at `$5` (the
/// call's time; an older call does not move `last_seen_at` back), modified at `$8`.
const MERGE_MEMORY: &str = "UPDATE memories SET content = $1, content_fingerprint = $2, \
     salience = CASE WHEN (CASE WHEN salience > $4 THEN salience ELSE $4 END) + $3 > 1.0 THEN 1.0 \
     ELSE (CASE WHEN salience > $4 THEN salience ELSE $4 END) + $3 END, \
     last_seen_at = CASE WHEN last_seen_at > $5 THEN last_seen_at ELSE $5 END, updated_at = $8 \
     WHERE id = $6 AND user_id = $7";

/// Salience added when a call repeats or refines a memory (on top of the larger of the two).
const UPDATE_SALIENCE_BUMP: f64 = 0.05;

/// Salience added when a call confirms a memory unchanged.
const REINFORCE_SALIENCE_BUMP: f64 = 0.05;

/// Applies an event's planned memory changes, in order, inside the extraction transaction;
/// returns the memories they produced or touched (a change whose target no longer exists gives
/// none). Consecutive additions are inserted together, with one statement.
pub(super) async fn apply_plans_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    plans: &[PlannedMemory],
    at: Times,
) -> StoreResult<Vec<MemoryId>> {
    let mut ids = Vec::with_capacity(plans.len());
    let mut additions = Vec::new();
    for plan in plans {
        if let PlannedMemory::Add(memory) = plan {
            additions.push(memory);
            continue;
        }
        ids.extend(
            insert_memories_in::<D>(conn, keyring, lexical, written, &additions, at, "auto")
                .await?,
        );
        additions.clear();
        ids.extend(apply_plan_in::<D>(conn, keyring, lexical, written, plan, at).await?);
    }
    ids.extend(
        insert_memories_in::<D>(conn, keyring, lexical, written, &additions, at, "auto").await?,
    );
    Ok(ids)
}

/// Applies one planned memory change inside the extraction transaction; returns the memory it
/// produced or touched (`None` when its target no longer exists).
async fn apply_plan_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    plan: &PlannedMemory,
    at: Times,
) -> StoreResult<Option<MemoryId>> {
    match plan {
        PlannedMemory::Add(memory) => {
            let added =
                insert_memories_in::<D>(conn, keyring, lexical, written, &[memory], at, "auto")
                    .await?;
            Ok(added.first().copied())
        }
        PlannedMemory::Update { target, memory } => {
            update_in::<D>(conn, keyring, lexical, written, *target, memory, at)
                .await
                .map(Some)
        }
        PlannedMemory::Supersede {
            target,
            replacement,
        } => {
            let new = insert_memories_in::<D>(
                conn,
                keyring,
                lexical,
                written,
                &[replacement],
                at,
                "auto",
            )
            .await?;
            query::<D>(sql::SUPERSEDE_MEMORY)
                .bind(new[0])
                .bind(at.said)
                .bind(*target)
                .bind(&replacement.user_id)
                .execute(conn)
                .await?;
            Ok(Some(new[0]))
        }
        PlannedMemory::Reinforce {
            user_id,
            target,
            provenance,
        } => {
            let touched = query::<D>(sql::reinforce_memories(1))
                .bind(REINFORCE_SALIENCE_BUMP)
                .bind(at.said)
                .bind(user_id)
                .bind(*target)
                .execute(conn)
                .await?;
            if touched == 0 {
                return Ok(None);
            }
            cite_in::<D>(
                conn,
                written,
                *target,
                "reinforced",
                provenance.as_ref(),
                at.said,
            )
            .await?;
            Ok(Some(*target))
        }
    }
}

/// Merges `memory` into memory `target` (its earlier text kept in the history); a target that
/// no longer exists is added as a new memory instead.
async fn update_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    target: MemoryId,
    memory: &NewMemory,
    at: Times,
) -> StoreResult<MemoryId> {
    let user_id = &memory.user_id;
    let current = query::<D>(sql::SELECT_MEMORY)
        .bind(target)
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    let Some(current) = current
        .as_ref()
        .map(|r| memory_from_row(keyring, r))
        .transpose()?
    else {
        let added =
            insert_memories_in::<D>(conn, keyring, lexical, written, &[memory], at, "auto").await?;
        return Ok(added[0]);
    };
    let conversation_id = memory
        .provenance
        .as_ref()
        .map(|p| p.conversation_id.clone());
    if current.content != memory.content {
        query::<D>(sql::INSERT_HISTORY)
            .bind("update")
            .bind(&conversation_id)
            .bind(at.said)
            .bind(current.id)
            .bind(keyring.encrypt(&current.content, columns::HISTORY_CONTENT.at(user_id))?)
            .execute(conn)
            .await?;
    }
    query::<D>(MERGE_MEMORY)
        .bind(keyring.encrypt(&memory.content, columns::MEMORY_CONTENT.at(user_id))?)
        .bind(keyring.fingerprint(&memory.content))
        .bind(UPDATE_SALIENCE_BUMP)
        .bind(memory.salience.clamp(0.0, 1.0))
        .bind(at.said)
        .bind(current.id)
        .bind(user_id)
        .bind(at.now)
        .execute(conn)
        .await?;
    written.index_terms(
        current.id,
        user_id,
        lexical.memory_terms(user_id, &memory.content),
    );
    let provenance = memory.provenance.as_ref();
    cite_in::<D>(conn, written, current.id, "reinforced", provenance, at.said).await?;
    Ok(current.id)
}
