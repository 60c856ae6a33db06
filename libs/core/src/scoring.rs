//! Ranking: the composite score, recency decay by sector, and single-waypoint graph expansion.
//!
//! A memory's score is its *relevance* to the query, scaled by a bounded *prior*:
//!
//! `relevance = w_sim·max(similarity, 0) + w_lex·lexical` (the dense cosine and the lexical
//! score, BM25 normalised by the query's best candidate — see [`crate::fusion`]), and
//! `total = relevance · (1 − p + w_sal·salience + w_rec·recency + w_link·link)` with
//! `p = w_sal + w_rec + w_link`. Salience, recency (`e^(−λ·days since last seen)`, λ the
//! sector's decay rate) and the mean link weight can lift a memory by at most the factor
//! `1/(1 − p)`: they order matches of similar relevance, but a weak match never outranks a
//! strong one (additive terms let a fact with similarity 0.25 outrank better matches because
//! salience and links swamped the ~0.2 spread of similarities). Graph expansion follows at
//! most a few links from each match (one hop, the "single waypoint") and adds the linked
//! memories with the parent's score times the link weight.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::{MILLIS_PER_DAY, MemoryId, UnixMillis};

/// Weights of the composite score's terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreWeights {
    /// Weight of the query–memory cosine similarity in the relevance.
    pub similarity: f64,
    /// Weight of the normalised lexical score in the relevance (0 turns lexical search off).
    pub lexical: f64,
    /// Weight of the memory's salience in the prior.
    pub salience: f64,
    /// Weight of the recency factor in the prior.
    pub recency: f64,
    /// Weight of the mean weight of the memory's links in the prior.
    pub link: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            similarity: 0.7,
            lexical: 0.3,
            salience: 0.06,
            recency: 0.06,
            link: 0.03,
        }
    }
}

impl ScoreWeights {
    /// The largest share of a memory's relevance the prior can take away (`p`).
    pub fn prior_span(&self) -> f64 {
        (self.salience + self.recency + self.link).clamp(0.0, 1.0)
    }
}

/// The terms of one memory's score and their weighted total, returned with every result so a
/// caller can see why a memory ranked where it did.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreBreakdown {
    /// Cosine similarity to the query, in `[-1, 1]`.
    pub similarity: f64,
    /// Lexical score in `[0, 1]`: the memory's BM25 for the query's words over the best
    /// candidate's (see [`crate::fusion`]).
    pub lexical: f64,
    /// Salience in `[0, 1]`.
    pub salience: f64,
    /// Recency factor in `(0, 1]`.
    pub recency: f64,
    /// Mean weight of the memory's links in `[0, 1]`; for a memory reached through a link,
    /// the weight of that link.
    pub link: f64,
    /// Weighted total used for ranking.
    pub total: f64,
}

/// A ranked memory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The memory.
    pub memory_id: MemoryId,
    /// Why it scored what it did.
    pub breakdown: ScoreBreakdown,
    /// For a memory added by graph expansion, the match whose link led to it.
    pub via: Option<MemoryId>,
}

/// Recency factor `e^(−λ·days)` for a memory last seen at `last_seen_at`, at time `now`.
///
/// A last-seen time in the future (clock skew between processes) counts as "just now".
pub fn recency(last_seen_at: UnixMillis, now: UnixMillis, decay_per_day: f64) -> f64 {
    let days = ((now - last_seen_at) as f64 / MILLIS_PER_DAY).max(0.0);
    (-decay_per_day.max(0.0) * days).exp()
}

/// Mean of link weights; `0` for a memory with no links.
pub fn mean_link_weight(weights: &[f64]) -> f64 {
    if weights.is_empty() {
        0.0
    } else {
        weights.iter().sum::<f64>() / weights.len() as f64
    }
}

/// The composite score of one memory (see the module documentation).
pub fn composite(
    weights: &ScoreWeights,
    similarity: f64,
    lexical: f64,
    salience: f64,
    recency: f64,
    link: f64,
) -> ScoreBreakdown {
    let relevance = weights.similarity * similarity.max(0.0) + weights.lexical * lexical;
    let prior = 1.0 - weights.prior_span()
        + weights.salience * salience.clamp(0.0, 1.0)
        + weights.recency * recency.clamp(0.0, 1.0)
        + weights.link * link.clamp(0.0, 1.0);
    ScoreBreakdown {
        similarity,
        lexical,
        salience,
        recency,
        link,
        total: relevance * prior,
    }
}

/// Sorts results by total score, best first; ties go to the lower (older) id so order is stable.
pub fn sort_by_score(results: &mut [Scored]) {
    results.sort_by(|a, b| {
        b.breakdown
            .total
            .total_cmp(&a.breakdown.total)
            .then(a.memory_id.cmp(&b.memory_id))
    });
}

/// Limits of single-waypoint graph expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpansionLimits {
    /// Links followed from each match, strongest first.
    pub per_match: usize,
    /// Memories added in total.
    pub max_added: usize,
}

impl Default for ExpansionLimits {
    fn default() -> Self {
        Self {
            per_match: 2,
            max_added: 5,
        }
    }
}

/// Adds, for each match in rank order, its strongest linked memories not already present, with
/// score `parent total × link weight`; then re-sorts everything by score.
///
/// `links` maps a memory to its outgoing `(target, weight)` links (any order). Memories already
/// in `results` are not added twice, and expansion never follows links from added memories
/// (one hop only).
pub fn expand_waypoints(
    mut results: Vec<Scored>,
    links: &HashMap<MemoryId, Vec<(MemoryId, f64)>>,
    limits: ExpansionLimits,
) -> Vec<Scored> {
    let mut present: HashSet<MemoryId> = results.iter().map(|r| r.memory_id).collect();
    let mut added = Vec::new();
    for parent in &results {
        if added.len() >= limits.max_added {
            break;
        }
        let Some(outgoing) = links.get(&parent.memory_id) else {
            continue;
        };
        let mut strongest: Vec<_> = outgoing
            .iter()
            .filter(|(target, _)| !present.contains(target))
            .copied()
            .collect();
        strongest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (target, weight) in strongest.into_iter().take(limits.per_match) {
            if added.len() >= limits.max_added {
                break;
            }
            present.insert(target);
            added.push(Scored {
                memory_id: target,
                breakdown: ScoreBreakdown {
                    link: weight,
                    total: parent.breakdown.total * weight,
                    ..ScoreBreakdown::default()
                },
                via: Some(parent.memory_id),
            });
        }
    }
    results.extend(added);
    sort_by_score(&mut results);
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(id: MemoryId, total: f64) -> Scored {
        Scored {
            memory_id: id,
            breakdown: ScoreBreakdown {
                total,
                ..ScoreBreakdown::default()
            },
            via: None,
        }
    }

    #[test]
    fn relevance_is_scaled_by_a_bounded_prior() {
        let weights = ScoreWeights::default();
        let best = composite(&weights, 0.8, 0.5, 1.0, 1.0, 1.0);
        assert!((best.total - (0.7 * 0.8 + 0.3 * 0.5)).abs() < 1e-12);
        let worst = composite(&weights, 0.8, 0.5, 0.0, 0.0, 0.0);
        assert!((worst.total - best.total * (1.0 - weights.prior_span())).abs() < 1e-12);
        assert_eq!(composite(&weights, -0.3, 0.0, 1.0, 1.0, 1.0).total, 0.0);
    }

    #[test]
    fn a_weak_match_with_every_prior_does_not_outrank_a_strong_one() {
        let weights = ScoreWeights::default();
        let weak = composite(&weights, 0.25, 0.0, 1.0, 1.0, 0.81);
        let strong = composite(&weights, 0.45, 0.0, 0.3, 0.2, 0.0);
        assert!(strong.total > weak.total, "{strong:?} vs {weak:?}");
    }

    #[test]
    fn composite_uses_custom_weights() {
        let weights = ScoreWeights {
            similarity: 1.0,
            lexical: 0.0,
            salience: 0.0,
            recency: 0.0,
            link: 0.0,
        };
        assert_eq!(composite(&weights, 0.42, 1.0, 1.0, 1.0, 1.0).total, 0.42);
    }

    #[test]
    fn recency_is_one_now_and_halves_at_the_half_life() {
        let now = 1_000 * MILLIS_PER_DAY as i64;
        assert_eq!(recency(now, now, 0.02), 1.0);
        let lambda = 0.02;
        let half_life_days = std::f64::consts::LN_2 / lambda;
        let then = now - (half_life_days * MILLIS_PER_DAY) as i64;
        assert!((recency(then, now, lambda) - 0.5).abs() < 1e-6);
        let ten_days = now - 10 * MILLIS_PER_DAY as i64;
        assert!((recency(ten_days, now, 0.1) - (-1.0f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn recency_treats_future_times_as_now_and_faster_decay_as_lower() {
        let now = 10 * MILLIS_PER_DAY as i64;
        assert_eq!(recency(now + 5_000, now, 0.02), 1.0);
        let week_ago = now - 7 * MILLIS_PER_DAY as i64;
        assert!(recency(week_ago, now, 0.02) < recency(week_ago, now, 0.005));
    }

    #[test]
    fn mean_link_weight_is_zero_without_links() {
        assert_eq!(mean_link_weight(&[]), 0.0);
        assert!((mean_link_weight(&[0.8, 0.9, 1.0]) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn sort_is_by_total_then_id() {
        let mut results = vec![scored(3, 0.5), scored(1, 0.9), scored(2, 0.5)];
        sort_by_score(&mut results);
        let ids: Vec<_> = results.iter().map(|r| r.memory_id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
    }

    #[test]
    fn expansion_follows_the_two_strongest_links_of_each_match() {
        let results = vec![scored(1, 0.8), scored(2, 0.5)];
        let links = HashMap::from([
            (1, vec![(10, 0.81), (11, 0.95), (12, 0.9)]),
            (2, vec![(1, 0.99), (20, 0.85)]),
        ]);
        let expanded = expand_waypoints(results, &links, ExpansionLimits::default());
        let ids: Vec<_> = expanded.iter().map(|r| r.memory_id).collect();
        // 11: 0.8·0.95=0.76, 12: 0.8·0.9=0.72, 20: 0.5·0.85=0.425; 10 is the third link of 1
        // and 1 is already present when reached from 2.
        assert_eq!(ids, vec![1, 11, 12, 2, 20]);
        let eleven = expanded.iter().find(|r| r.memory_id == 11).unwrap();
        assert_eq!(eleven.via, Some(1));
        assert!((eleven.breakdown.total - 0.76).abs() < 1e-12);
        assert_eq!(eleven.breakdown.link, 0.95);
    }

    #[test]
    fn expansion_respects_the_total_cap_and_stays_one_hop() {
        let results = vec![scored(1, 1.0), scored(2, 0.9)];
        let links = HashMap::from([
            (1, vec![(10, 0.9), (11, 0.9)]),
            (2, vec![(20, 0.9), (21, 0.9)]),
            (10, vec![(100, 1.0)]),
        ]);
        let limits = ExpansionLimits {
            per_match: 2,
            max_added: 3,
        };
        let expanded = expand_waypoints(results, &links, limits);
        assert_eq!(expanded.len(), 5);
        assert!(expanded.iter().all(|r| r.memory_id != 100));
        assert_eq!(expanded.iter().filter(|r| r.via.is_some()).count(), 3);
    }
}
