//! Routine talk: what a caller says in call after call in the same words ("Morning, I'll try
//! to be quick, I'm on my lunch break", "sorry, is that better? I've moved rooms") answers
//! nothing, yet matches many questions on a word or two. Among a question's candidates, an
//! episode whose caller turn others repeat word for word (normalised) scores less for each
//! copy. Measured on the conversational probe (R@1/5/10), dividing by `1 + d × (copies − 1)`:
//! d = 0 0.532/0.809/0.877, 0.15 0.540/0.839/0.905, 0.3 0.543/0.847/0.905, 0.5
//! 0.549/0.856/0.908, 0.6 0.552/0.856/0.913, 1.0 0.552/0.862/0.914; 0.5 keeps most of the gain
//! without burying a fact a caller genuinely repeats in the same words (an identity check).

use std::collections::HashMap;

use memvox_core::episode;
use memvox_core::text::normalize_for_dedupe;
use memvox_core::{Memory, MemoryKind, Scored};

/// How much each further copy among the candidates discounts an episode's score.
pub const ROUTINE_DISCOUNT: f64 = 0.5;

/// The caller turn of an episode, normalised (`None` for a fact or an episode without one).
fn normalised_caller_turn(memory: &Memory) -> Option<String> {
    if memory.kind != MemoryKind::Episode {
        return None;
    }
    episode::caller_turn(&memory.content).map(normalize_for_dedupe)
}

/// Divides each episode's score (`scored[i]` is `pool[i]`'s) by `1 + ROUTINE_DISCOUNT × (n −
/// 1)`, where `n` is how many candidates have the same caller turn.
pub fn discount<'a>(scored: &mut [Scored], pool: impl Iterator<Item = &'a Memory>) {
    let turns: Vec<Option<String>> = pool.map(normalised_caller_turn).collect();
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for turn in turns.iter().flatten() {
        *copies.entry(turn.as_str()).or_default() += 1;
    }
    for (entry, turn) in scored.iter_mut().zip(&turns) {
        if let Some(n) = turn.as_deref().and_then(|t| copies.get(t)) {
            entry.breakdown.total /= 1.0 + ROUTINE_DISCOUNT * (*n as f64 - 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use memvox_core::ScoreBreakdown;

    use super::*;

    fn memory(kind: MemoryKind, content: &str) -> Memory {
        crate::retrieval::tests::memory(0, kind, "c1", &[1], content)
    }

    fn scored() -> Scored {
        Scored {
            memory_id: 0,
            breakdown: ScoreBreakdown {
                total: 1.0,
                ..ScoreBreakdown::default()
            },
            via: None,
        }
    }

    #[test]
    fn a_caller_turn_said_in_several_calls_is_discounted_by_its_copies() {
        let routine = |context: &str| {
            memory(
                MemoryKind::Episode,
                &format!(
                    "agent: {context}\ncaller: Sorry, is that better? I've moved rooms.\nagent: Fine."
                ),
            )
        };
        let pool = [
            routine("You're breaking up."),
            routine("Hello?"),
            routine("Can you hear me?"),
            memory(
                MemoryKind::Episode,
                "agent: Any changes?\ncaller: We've moved! New address is 90 Foundry Walk.",
            ),
            memory(MemoryKind::Fact, "Moved to 90 Foundry Walk"),
            memory(MemoryKind::Fact, "Moved to 90 Foundry Walk"),
        ];
        let mut entries = vec![scored(); pool.len()];
        discount(&mut entries, pool.iter());
        let totals: Vec<f64> = entries.iter().map(|e| e.breakdown.total).collect();
        let three = 1.0 / (1.0 + 2.0 * ROUTINE_DISCOUNT);
        assert_eq!(totals, [three, three, three, 1.0, 1.0, 1.0]);
    }
}
