//! Ranking a user's memories for a query: vector search for candidates, the composite score,
//! then single-waypoint graph expansion.
//!
//! 1. The store returns the `limit × candidate_factor` active, non-superseded memories most
//!    similar to the query (passing the sector filter).
//! 2. One `links_from` call fetches their outgoing links; each candidate scores
//!    `0.6·similarity + 0.2·salience + 0.1·recency + 0.1·mean link weight`, recency decaying
//!    with the memory's sector rate since it was last seen.
//! 3. The best `limit` are kept, and expansion follows the strongest links of each
//!    (`expansion_per_match`, at most `expansion_max` added), scoring an added memory
//!    `parent total × link weight`. Added memories pass the same filter as search (a link to a
//!    paused, superseded or other-sector memory adds nothing).
//!
//! A result therefore holds at most `limit + expansion_max` memories, best first.

use std::collections::HashMap;

use memvox_core::scoring::{
    ExpansionLimits, composite, expand_waypoints, mean_link_weight, recency, sort_by_score,
};
use memvox_core::{Memory, MemoryId, ScoreBreakdown, Scored};
use memvox_store::{MemoryFilter, StoreResult};

use crate::QueryState;

/// One ranked memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The memory.
    pub memory: Memory,
    /// Why it ranked where it did.
    pub score: ScoreBreakdown,
    /// For a memory added by graph expansion, the match whose link led to it.
    pub via: Option<MemoryId>,
}

/// The user's memories best matching `query` (an embedded query), ranked.
pub async fn rank(
    state: &QueryState,
    user_id: &str,
    query: &[f32],
    filter: &MemoryFilter,
    limit: usize,
) -> StoreResult<Vec<Ranked>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let candidates = limit.saturating_mul(state.settings.candidate_factor.max(1));
    let hits = state
        .store
        .search_memories(user_id, query, filter, candidates)
        .await?;
    if hits.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<MemoryId> = hits.iter().map(|hit| hit.memory.id).collect();
    let mut links: HashMap<MemoryId, Vec<(MemoryId, f64)>> = HashMap::new();
    for link in state.store.links_from(&ids).await? {
        links
            .entry(link.source)
            .or_default()
            .push((link.target, link.weight));
    }
    let now = state.clock.now();
    let mut scored: Vec<Scored> = hits
        .iter()
        .map(|hit| {
            let memory = &hit.memory;
            let weights: Vec<f64> = links
                .get(&memory.id)
                .map(|out| out.iter().map(|(_, weight)| *weight).collect())
                .unwrap_or_default();
            Scored {
                memory_id: memory.id,
                breakdown: composite(
                    &state.weights,
                    hit.similarity,
                    memory.salience,
                    recency(memory.last_seen_at, now, memory.decay_per_day),
                    mean_link_weight(&weights),
                ),
                via: None,
            }
        })
        .collect();
    sort_by_score(&mut scored);
    scored.truncate(limit);
    let limits = ExpansionLimits {
        per_match: state.settings.expansion_per_match,
        max_added: state.settings.expansion_max,
    };
    let expanded = expand_waypoints(scored, &links, limits);

    let mut memories: HashMap<MemoryId, Memory> = hits
        .into_iter()
        .map(|hit| (hit.memory.id, hit.memory))
        .collect();
    let mut ranked = Vec::with_capacity(expanded.len());
    for entry in expanded {
        let memory = match memories.remove(&entry.memory_id) {
            Some(memory) => memory,
            None => match state.store.get_memory(user_id, entry.memory_id).await? {
                Some(memory) => memory,
                None => continue,
            },
        };
        if entry.via.is_some() && !filter.matches(&memory) {
            continue;
        }
        ranked.push(Ranked {
            memory,
            score: entry.breakdown,
            via: entry.via,
        });
    }
    Ok(ranked)
}
