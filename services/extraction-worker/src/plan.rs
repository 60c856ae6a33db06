//! From an extractor's candidates to the memory changes the store commits.
//!
//! The extractor proposes an op per candidate; this module adds the one dedupe rule that needs
//! no judgement: a candidate whose normalised text equals one of the user's memories confirms
//! that memory instead of adding a copy. Near-duplicates are never merged on similarity alone.

use memvox_core::{MemoryCandidate, MemoryOp, NewMemory, Provenance};
use memvox_store::{PlannedMemory, Store, StoreResult};

/// Builds the plan for `user_id`'s candidates from `conversation_id`.
pub async fn plan(
    store: &dyn Store,
    user_id: &str,
    conversation_id: &str,
    candidates: Vec<MemoryCandidate>,
) -> StoreResult<Vec<PlannedMemory>> {
    let added: Vec<&str> = candidates
        .iter()
        .filter(|c| matches!(c.op, MemoryOp::Add))
        .map(|c| c.content.as_str())
        .collect();
    let mut duplicates = if added.is_empty() {
        Vec::new()
    } else {
        store.find_exact_duplicates_of(user_id, &added).await?
    }
    .into_iter();
    let mut plans = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let provenance = Provenance {
            conversation_id: conversation_id.to_owned(),
            turn_indexes: candidate.turn_indexes.clone(),
        };
        let memory = NewMemory {
            user_id: user_id.to_owned(),
            content: candidate.content,
            sector: candidate.sector,
            salience: candidate.salience,
            provenance: Some(provenance.clone()),
        };
        plans.push(match candidate.op {
            MemoryOp::Add => {
                let duplicates = duplicates.next().unwrap_or_default();
                match duplicates.iter().find(|m| m.is_searchable()) {
                    Some(existing) => PlannedMemory::Reinforce {
                        user_id: user_id.to_owned(),
                        target: existing.id,
                        provenance: Some(provenance),
                    },
                    None => PlannedMemory::Add(memory),
                }
            }
            MemoryOp::Update { target } => PlannedMemory::Update { target, memory },
            MemoryOp::Supersede { target } => PlannedMemory::Supersede {
                target,
                replacement: memory,
            },
            MemoryOp::Noop { target } => PlannedMemory::Reinforce {
                user_id: user_id.to_owned(),
                target,
                provenance: Some(provenance),
            },
        });
    }
    Ok(plans)
}
