//! Scoring rules of the probes, kept apart from the HTTP code so they can be tested on
//! hand-made answers.
//!
//! - Conversational probe: an item is evidence when its `source.conversation_id` is an
//!   evidence call and its `source.turns` contain that call's evidence turn. A question is a
//!   hit at k when one of the first k items is evidence (an item without a source never is).
//! - Fact probes: an item is the gold fact when it has the gold memory's id or, failing an
//!   id, its exact text.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::client::Item;
use super::corpus::Evidence;

/// The cut-offs recall is reported at.
pub const CUTOFFS: [usize; 3] = [1, 5, 10];

/// Whether `item` is one of the `evidence` turns.
pub fn is_evidence(item: &Item, evidence: &[Evidence]) -> bool {
    let Some(source) = &item.source else {
        return false;
    };
    evidence
        .iter()
        .any(|e| e.conversation_id == source.conversation_id && source.turns.contains(&e.turn))
}

/// Position of the first evidence item, if any.
pub fn first_evidence(items: &[Item], evidence: &[Evidence]) -> Option<usize> {
    items.iter().position(|item| is_evidence(item, evidence))
}

/// Position of the gold fact, if returned.
pub fn first_gold(items: &[Item], gold_id: &Value, gold_text: &str) -> Option<usize> {
    items
        .iter()
        .position(|item| item.id == *gold_id || item.content == gold_text)
}

/// Recall at [`CUTOFFS`] over a group of questions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recall {
    /// Questions asked.
    pub questions: usize,
    /// Share of questions with a hit in the first item.
    pub recall_at_1: f64,
    /// Share with a hit in the first five.
    pub recall_at_5: f64,
    /// Share with a hit in the first ten.
    pub recall_at_10: f64,
    #[serde(skip)]
    hits: [usize; 3],
}

impl Recall {
    /// Counts one question whose first hit is at `position` (or none).
    pub fn record(&mut self, position: Option<usize>) {
        self.questions += 1;
        for (slot, k) in CUTOFFS.iter().enumerate() {
            if position.is_some_and(|p| p < *k) {
                self.hits[slot] += 1;
            }
        }
        let n = self.questions as f64;
        self.recall_at_1 = self.hits[0] as f64 / n;
        self.recall_at_5 = self.hits[1] as f64 / n;
        self.recall_at_10 = self.hits[2] as f64 / n;
    }
}

/// Client-measured latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Requests measured.
    pub requests: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

impl Latency {
    /// Nearest-rank percentiles of `samples`.
    pub fn of(samples: &[Duration]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let at = |p: f64| {
            if sorted.is_empty() {
                return 0.0;
            }
            let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            sorted[rank - 1].as_secs_f64() * 1000.0
        };
        Self {
            requests: sorted.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::client::Source;
    use serde_json::json;

    fn item(id: u64, source: Option<(&str, &[u32])>) -> Item {
        Item {
            id: json!(id),
            content: format!("memory {id}"),
            source: source.map(|(c, t)| Source {
                conversation_id: c.to_owned(),
                turns: t.to_vec(),
            }),
        }
    }

    fn evidence(pairs: &[(&str, u32)]) -> Vec<Evidence> {
        pairs
            .iter()
            .map(|(c, t)| Evidence {
                conversation_id: (*c).to_owned(),
                turn: *t,
            })
            .collect()
    }

    #[test]
    fn an_item_is_evidence_only_with_the_right_call_and_one_of_its_turns() {
        let wanted = evidence(&[("conv_a", 7), ("conv_b", 3)]);
        assert!(is_evidence(&item(1, Some(("conv_a", &[6, 7]))), &wanted));
        assert!(is_evidence(&item(2, Some(("conv_b", &[3]))), &wanted));
        // the right turn of the wrong call, the right call without the turn, no source
        assert!(!is_evidence(&item(3, Some(("conv_b", &[7]))), &wanted));
        assert!(!is_evidence(&item(4, Some(("conv_a", &[5, 6]))), &wanted));
        assert!(!is_evidence(&item(5, None), &wanted));
        assert!(!is_evidence(&item(6, Some(("conv_a", &[]))), &wanted));
    }

    #[test]
    fn any_evidence_turn_counts_and_the_first_hit_is_what_is_ranked() {
        let wanted = evidence(&[("conv_a", 7), ("conv_b", 3)]);
        let items = vec![
            item(1, None),
            item(2, Some(("conv_c", &[7]))),
            item(3, Some(("conv_b", &[2, 3]))),
            item(4, Some(("conv_a", &[7]))),
        ];
        assert_eq!(first_evidence(&items, &wanted), Some(2));
        assert_eq!(first_evidence(&items[..2], &wanted), None);
    }

    #[test]
    fn recall_counts_a_hit_at_every_cutoff_at_or_past_its_position() {
        let mut recall = Recall::default();
        for position in [Some(0), Some(3), Some(9), Some(10), None] {
            recall.record(position);
        }
        assert_eq!(recall.questions, 5);
        assert!((recall.recall_at_1 - 0.2).abs() < 1e-9);
        assert!((recall.recall_at_5 - 0.4).abs() < 1e-9);
        assert!((recall.recall_at_10 - 0.6).abs() < 1e-9);
    }

    #[test]
    fn the_gold_fact_is_found_by_id_or_by_exact_text() {
        let items = vec![item(1, None), item(2, None), item(3, None)];
        assert_eq!(first_gold(&items, &json!(2), "elsewhere"), Some(1));
        assert_eq!(first_gold(&items, &json!(99), "memory 3"), Some(2));
        assert_eq!(first_gold(&items, &json!(99), "memory 33"), None);
    }

    #[test]
    fn latency_percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let latency = Latency::of(&samples);
        assert_eq!(latency.requests, 100);
        assert!((latency.p50_ms - 50.0).abs() < 1e-9);
        assert!((latency.p99_ms - 99.0).abs() < 1e-9);
        assert_eq!(Latency::of(&[]).p99_ms, 0.0);
    }
}
