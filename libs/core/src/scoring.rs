//! Ranking: the composite score, recency decay by sector, and single-waypoint graph expansion.
//!
//! `score = 0.6·similarity + 0.15·lexical + 0.2·salience + 0.1·recency + 0.1·mean link weight`
//! (weights configurable), where recency is `e^(−λ·days since last seen)` with the memory's
//! sector decay rate λ and `lexical` is the share of the query's rare words the memory contains
//! ([`lexical_coverage`]; 0 for a memory sharing no word with the query, so the lexical term
//! only ever lifts exact matches of names, numbers and products). Graph expansion follows at most a few links from each match (one hop, the "single
//! waypoint") and adds the linked memories with the parent's score times the link weight.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::{MILLIS_PER_DAY, MemoryId, UnixMillis};

/// Weights of the composite score's terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreWeights {
    /// Weight of the query–memory cosine similarity.
    pub similarity: f64,
    /// Weight of the lexical coverage of the query by the memory (0 turns lexical search off).
    pub lexical: f64,
    /// Weight of the memory's salience.
    pub salience: f64,
    /// Weight of the recency factor.
    pub recency: f64,
    /// Weight of the mean weight of the memory's links.
    pub link: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            similarity: 0.6,
            lexical: 0.15,
            salience: 0.2,
            recency: 0.1,
            link: 0.1,
        }
    }
}

/// The terms of one memory's score and their weighted total, returned with every result so a
/// caller can see why a memory ranked where it did.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreBreakdown {
    /// Cosine similarity to the query, in `[-1, 1]`.
    pub similarity: f64,
    /// Lexical coverage of the query's words, in `[0, 1]` (see [`lexical_coverage`]).
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

/// Lexical coverage of a query by one memory: the inverse-document-frequency-weighted share of
/// the query's distinct terms the memory contains, in `[0, 1]`.
///
/// `memories` is how many memories the user has, `document_frequency[i]` how many of them
/// contain query term `i`, and `matched` the indexes of the query terms this memory contains.
/// Term weights are BM25's `ln(1 + (N − df + ½)/(df + ½))`, so a product code found in one
/// memory counts far more than a word most memories share, and a query term no memory contains
/// still counts in the denominator (a memory matching one word of a long question covers
/// little of it).
pub fn lexical_coverage(memories: usize, document_frequency: &[usize], matched: &[usize]) -> f64 {
    let n = memories as f64;
    let weight = |df: usize| {
        let df = (df as f64).min(n);
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    };
    let total: f64 = document_frequency.iter().map(|&df| weight(df)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let covered: f64 = matched
        .iter()
        .filter_map(|&i| document_frequency.get(i))
        .map(|&df| weight(df))
        .sum();
    (covered / total).clamp(0.0, 1.0)
}

/// The composite score of one memory.
pub fn composite(
    weights: &ScoreWeights,
    similarity: f64,
    lexical: f64,
    salience: f64,
    recency: f64,
    link: f64,
) -> ScoreBreakdown {
    let total = weights.similarity * similarity
        + weights.lexical * lexical
        + weights.salience * salience
        + weights.recency * recency
        + weights.link * link;
    ScoreBreakdown {
        similarity,
        lexical,
        salience,
        recency,
        link,
        total,
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
    fn composite_matches_the_seed_plan_example() {
        let score = composite(&ScoreWeights::default(), 0.9, 0.0, 0.8, 0.7, 0.6);
        let expected = 0.6 * 0.9 + 0.2 * 0.8 + 0.1 * 0.7 + 0.1 * 0.6;
        assert!((score.total - expected).abs() < 1e-12);
        assert!((score.total - 0.83).abs() < 1e-12);
        assert_eq!(score.similarity, 0.9);
        assert_eq!(score.link, 0.6);
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
    fn the_lexical_term_adds_its_weighted_coverage() {
        let with = composite(&ScoreWeights::default(), 0.5, 0.8, 0.0, 0.0, 0.0);
        let without = composite(&ScoreWeights::default(), 0.5, 0.0, 0.0, 0.0, 0.0);
        assert!((with.total - without.total - 0.15 * 0.8).abs() < 1e-12);
        assert_eq!(with.lexical, 0.8);
    }

    #[test]
    fn lexical_coverage_weighs_rare_terms_by_bm25_idf() {
        // 100 memories; term 0 (a product code) is in 1 of them, term 1 (a common word) in 50.
        let idf = |df: f64| (1.0 + (100.0 - df + 0.5) / (df + 0.5)).ln();
        let rare = lexical_coverage(100, &[1, 50], &[0]);
        assert!((rare - idf(1.0) / (idf(1.0) + idf(50.0))).abs() < 1e-12);
        let common = lexical_coverage(100, &[1, 50], &[1]);
        assert!(rare > 0.8 && common < 0.2 && rare > common);
        assert!((lexical_coverage(100, &[1, 50], &[0, 1]) - 1.0).abs() < 1e-12);
        assert_eq!(lexical_coverage(100, &[1, 50], &[]), 0.0);
    }

    #[test]
    fn lexical_coverage_is_zero_without_terms_and_ignores_bad_indexes() {
        assert_eq!(lexical_coverage(10, &[], &[]), 0.0);
        assert_eq!(lexical_coverage(0, &[0], &[0]), 1.0);
        assert_eq!(lexical_coverage(10, &[2], &[7]), 0.0);
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
