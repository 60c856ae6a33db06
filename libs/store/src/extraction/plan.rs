//! One planned memory change of an extraction commit: add, update (merge), supersede or
//! reinforce, applied inside the commit's transaction.

use std::collections::HashSet;

use memvox_core::{MemoryId, NewMemory, Provenance};
use memvox_crypto::Keyring;

use crate::{
    LexicalKey, PlannedMemory, StoreResult,
    dialect::{Conn, Dialect, Record, query},
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
/// none). Consecutive additions are inserted together, and consecutive confirmations of
/// distinct memories of one user reinforced together, with one statement each.
pub(super) async fn apply_plans_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    plans: &[PlannedMemory],
    at: Times,
) -> StoreResult<Vec<MemoryId>> {
    let mut ids = Vec::with_capacity(plans.len());
    let mut rest = plans;
    while !rest.is_empty() {
        let (run, after) = rest.split_at(run_len(rest));
        ids.extend(apply_run_in::<D>(conn, keyring, lexical, written, run, at).await?);
        rest = after;
    }
    Ok(ids)
}

/// How many plans from the start of `plans` one statement applies: consecutive additions, or
/// consecutive reinforcements of one user's distinct memories (up to a chunk); otherwise one.
fn run_len(plans: &[PlannedMemory]) -> usize {
    if as_addition(&plans[0]).is_some() {
        return plans
            .iter()
            .take_while(|p| as_addition(p).is_some())
            .count();
    }
    let Some((user_id, _, _)) = as_reinforcement(&plans[0]) else {
        return 1;
    };
    let mut targets = HashSet::new();
    plans
        .iter()
        .take(sql::INSERT_CHUNK)
        .map_while(as_reinforcement)
        .take_while(|(user, target, _)| *user == user_id && targets.insert(*target))
        .count()
}

/// The memory a plan adds, if it is an addition.
fn as_addition(plan: &PlannedMemory) -> Option<&NewMemory> {
    match plan {
        PlannedMemory::Add(memory) => Some(memory),
        _ => None,
    }
}

/// The user, memory and provenance of a plan that confirms a memory unchanged.
fn as_reinforcement(plan: &PlannedMemory) -> Option<(&str, MemoryId, Option<&Provenance>)> {
    match plan {
        PlannedMemory::Reinforce {
            user_id,
            target,
            provenance,
        } => Some((user_id, *target, provenance.as_ref())),
        _ => None,
    }
}

/// Applies one run of plans (see [`run_len`]) inside the extraction transaction; returns the
/// memories it produced or touched.
async fn apply_run_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lexical: &LexicalKey,
    written: &mut Written,
    run: &[PlannedMemory],
    at: Times,
) -> StoreResult<Vec<MemoryId>> {
    match &run[0] {
        PlannedMemory::Add(_) => {
            let additions: Vec<&NewMemory> = run.iter().filter_map(as_addition).collect();
            insert_memories_in::<D>(conn, keyring, lexical, written, &additions, at, "auto").await
        }
        PlannedMemory::Reinforce { .. } => {
            let confirmed: Vec<_> = run.iter().filter_map(as_reinforcement).collect();
            reinforce_in::<D>(conn, written, &confirmed, at).await
        }
        PlannedMemory::Update { target, memory } => {
            update_in::<D>(conn, keyring, lexical, written, *target, memory, at)
                .await
                .map(|id| vec![id])
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
            Ok(vec![new[0]])
        }
    }
}

/// Reinforces distinct memories of one user with one statement, each cited to its call;
/// returns those that still exist, in order.
async fn reinforce_in<D: Dialect>(
    conn: &mut Conn<D>,
    written: &mut Written,
    confirmed: &[(&str, MemoryId, Option<&Provenance>)],
    at: Times,
) -> StoreResult<Vec<MemoryId>> {
    let Some((user_id, _, _)) = confirmed.first() else {
        return Ok(Vec::new());
    };
    let statement = format!("{} RETURNING id", sql::reinforce_memories(confirmed.len()));
    let rows = confirmed
        .iter()
        .fold(
            query::<D>(statement)
                .bind(REINFORCE_SALIENCE_BUMP)
                .bind(at.said)
                .bind(*user_id),
            |q, (_, target, _)| q.bind(*target),
        )
        .fetch_all(&mut *conn)
        .await?;
    let mut touched = HashSet::with_capacity(rows.len());
    for row in &rows {
        touched.insert(row.value::<MemoryId>("id")?);
    }
    let mut ids = Vec::with_capacity(touched.len());
    for (_, target, provenance) in confirmed {
        if touched.contains(target) {
            cite_in::<D>(conn, written, *target, "reinforced", *provenance, at.said).await?;
            ids.push(*target);
        }
    }
    Ok(ids)
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
