//! From an extractor's candidates to the memory changes the store commits.
//!
//! The extractor proposes an op per candidate; this module adds the one dedupe rule that needs
//! no judgement: a candidate whose normalised text equals one of the user's memories confirms
//! that memory instead of adding a copy. Near-duplicates are never merged on similarity alone.
//! Before that, [`screen`] applies the memory-content redaction policy to the candidates.

use memvox_core::redact::{FieldPolicy, PiiKind};
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

/// The candidates under the memory-content redaction `policy`: their content masked as it says,
/// and those holding a kind it drops left out (their kinds are returned, in order). A candidate
/// that only confirms an existing memory (`Noop`) writes no content and passes as it is.
pub fn screen(
    policy: FieldPolicy,
    candidates: Vec<MemoryCandidate>,
) -> (Vec<MemoryCandidate>, Vec<PiiKind>) {
    let mut kept = Vec::with_capacity(candidates.len());
    let mut dropped = Vec::new();
    for mut candidate in candidates {
        if matches!(candidate.op, MemoryOp::Noop { .. }) {
            kept.push(candidate);
            continue;
        }
        match policy.screen(&candidate.content) {
            Ok(content) => {
                if let std::borrow::Cow::Owned(content) = content {
                    candidate.content = content;
                }
                kept.push(candidate);
            }
            Err(kind) => dropped.push(kind),
        }
    }
    (kept, dropped)
}
