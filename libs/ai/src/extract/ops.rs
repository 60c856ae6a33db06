//! Decides a candidate's op against the user's existing memories, without a model.
//!
//! Owns [`assign_op`] and the in-call tidy-up of the rule extractor. Rules, strongest first:
//! - `Noop` when the normalised text equals an existing memory's;
//! - `Update` when both read as the same slot with the same value and polarity
//!   ("Lives in Austin" after "Moved to Austin");
//! - `Supersede` when both read as the same single-valued slot with a contradicting value
//!   ("Lives in Austin" after "Lives in Denver", "Prefers text messages" after "Prefers email"),
//!   or as the same value with the opposite polarity ("Not allergic to shellfish");
//! - `Add` otherwise. Nothing is ever merged on similarity alone, so distinct facts (peanut and
//!   shellfish allergies, email and phone) stay distinct.
//!
//! When several existing memories qualify, the strongest relation wins, then the first in the
//! order given (most similar first).

use memvox_core::text::normalize_for_dedupe;
use memvox_core::{MemoryCandidate, MemoryOp};

use super::ExistingMemory;
use super::claims::{Claim, claim_of};

/// The op for a new memory text given the user's existing memories.
pub fn assign_op(content: &str, existing: &[ExistingMemory]) -> MemoryOp {
    let normalised = normalize_for_dedupe(content);
    if let Some(same) = existing
        .iter()
        .find(|m| normalize_for_dedupe(&m.content) == normalised)
    {
        return MemoryOp::Noop { target: same.id };
    }
    let Some(claim) = claim_of(content) else {
        return MemoryOp::Add;
    };
    let relations: Vec<(Relation, i64)> = existing
        .iter()
        .filter_map(|m| {
            let old = claim_of(&m.content)?;
            relation(&claim, &old).map(|r| (r, m.id))
        })
        .collect();
    let best = [Relation::Same, Relation::Contradicts]
        .into_iter()
        .find_map(|wanted| relations.iter().find(|(r, _)| *r == wanted));
    match best {
        Some((Relation::Same, target)) => MemoryOp::Update { target: *target },
        Some((Relation::Contradicts, target)) => MemoryOp::Supersede { target: *target },
        None => MemoryOp::Add,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Same,
    Contradicts,
}

/// How a new claim relates to an old one, if at all.
fn relation(new: &Claim, old: &Claim) -> Option<Relation> {
    if new.slot != old.slot {
        return None;
    }
    let same_value = new.same_value(old);
    match (same_value, new.negated == old.negated) {
        (true, true) => Some(Relation::Same),
        (true, false) => Some(Relation::Contradicts),
        // Two positive values of a one-value slot contradict; a negative claim about another
        // value ("no longer lives in Denver" against "lives in Austin") does not.
        (false, _) if new.single && !new.negated && !old.negated => Some(Relation::Contradicts),
        (false, _) => None,
    }
}

/// Tidies one call's candidates before ops are assigned: merges repeats of the same text
/// (uniting their turns, keeping the highest salience), and when the caller gave two values for
/// one single-valued slot in the same call, keeps only the later (a self-correction).
pub(crate) fn tidy(candidates: Vec<MemoryCandidate>) -> Vec<MemoryCandidate> {
    let mut out: Vec<MemoryCandidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let key = normalize_for_dedupe(&candidate.content);
        if let Some(twin) = out
            .iter_mut()
            .find(|c| normalize_for_dedupe(&c.content) == key)
        {
            twin.turn_indexes.extend(candidate.turn_indexes);
            twin.turn_indexes.sort_unstable();
            twin.turn_indexes.dedup();
            twin.salience = twin.salience.max(candidate.salience);
            continue;
        }
        if let Some(claim) = claim_of(&candidate.content).filter(|c| c.single) {
            out.retain(|earlier| {
                claim_of(&earlier.content).is_none_or(|old| {
                    old.slot != claim.slot || relation(&claim, &old) != Some(Relation::Contradicts)
                })
            });
        }
        out.push(candidate);
    }
    out
}
