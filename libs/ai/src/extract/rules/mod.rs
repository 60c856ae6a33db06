//! The offline rule extractor, tuned for phone calls.
//!
//! Owns [`RuleExtractor`]: it reads each caller turn clause by clause (see `speech`) against
//! ordered rule tables (preferences, facts, feelings and events), each agent turn against the
//! confirmed-action table only, then adds the call's episodic memory, its follow-ups and
//! reflective patterns (see `analysis`), tidies repeats and self-corrections, and assigns each
//! candidate its op against the existing memories ([`assign_op`]).
//!
//! Invariants: deterministic (the same call gives the same candidates in the same order); every
//! memory points at the turns whose words it came from; questions, hypotheticals and small talk
//! produce nothing; first person becomes third ("I'm allergic to peanuts" → "Allergic to
//! peanuts"); it never fails and needs no network.

mod agent;
mod analysis;
mod facts;
mod feelings;
mod pattern;
mod prefs;
mod render;
mod speech;
mod tokens;

use std::sync::LazyLock;

use async_trait::async_trait;
use memvox_core::{MemoryCandidate, Role};

use super::calendar::LocalTime;
use super::ops::{assign_op, tidy};
use super::{CallTranscript, ExtractError, Extractor};
use pattern::{Draft, Rule, first_match};

static CALLER_RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let mut rules = prefs::rules();
    rules.extend(facts::rules());
    rules.extend(feelings::rules());
    rules
});
static AGENT_RULES: LazyLock<Vec<Rule>> = LazyLock::new(agent::rules);

/// Extracts memories with hand-written rules: offline, deterministic, instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleExtractor;

impl RuleExtractor {
    /// A rule extractor.
    pub fn new() -> Self {
        Self
    }

    /// The candidates for `call`, synchronously (the trait method wraps this).
    pub fn extract_now(&self, call: &CallTranscript) -> Vec<MemoryCandidate> {
        let offset = call.utc_offset_minutes.unwrap_or(0);
        let date = LocalTime::of(call.started_at, offset).date();
        let mut candidates = Vec::new();
        for turn in &call.turns {
            let Some(message) = turn.message.as_deref() else {
                continue;
            };
            let rules: &[Rule] = match turn.role {
                Role::User => &CALLER_RULES,
                Role::Agent => &AGENT_RULES,
            };
            for clause in speech::clauses(message) {
                if clause.question {
                    continue;
                }
                for draft in first_match(rules, &clause, &date) {
                    candidates.push(candidate(draft, vec![turn.index]));
                }
            }
        }
        let caller_turns = call.caller_turn_indexes();
        if !caller_turns.is_empty() {
            let analysed = analysis::episode(call, &date)
                .into_iter()
                .chain(analysis::follow_ups(call));
            for draft in analysed {
                candidates.push(candidate(draft, caller_turns.clone()));
            }
        }
        for draft in analysis::patterns(call) {
            candidates.push(candidate(draft, Vec::new()));
        }
        let mut candidates = tidy(candidates);
        for c in &mut candidates {
            c.op = assign_op(&c.content, &call.existing);
        }
        candidates
    }
}

fn candidate(draft: Draft, turn_indexes: Vec<u32>) -> MemoryCandidate {
    MemoryCandidate {
        content: draft.content,
        sector: draft.sector,
        salience: draft.salience.clamp(0.0, 1.0),
        turn_indexes,
        op: memvox_core::MemoryOp::Add,
    }
}

#[async_trait]
impl Extractor for RuleExtractor {
    fn name(&self) -> &'static str {
        "rules"
    }

    async fn extract(&self, call: &CallTranscript) -> Result<Vec<MemoryCandidate>, ExtractError> {
        Ok(crate::cpu_bound(|| self.extract_now(call)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_table_builds() {
        assert!(CALLER_RULES.len() > 40);
        assert_eq!(AGENT_RULES.len(), 2);
    }
}
