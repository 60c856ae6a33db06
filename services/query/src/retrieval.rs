//! Ranking a user's memories for a query: vector and lexical search for candidates, the
//! composite score, then single-waypoint graph expansion.
//!
//! 1. The store returns the `limit × candidate_factor` active, non-superseded memories most
//!    similar to the query (passing the sector filter) and, at the same time, as many that
//!    share most of the query's words (names, numbers, product codes an embedding can miss).
//! 2. One `links_from` call fetches their outgoing links; each candidate scores
//!    `0.6·similarity + 0.15·lexical + 0.2·salience + 0.1·recency + 0.1·mean link weight`,
//!    lexical being the BM25-weighted share of the query's words the memory holds and recency
//!    decaying with the configured rate of the memory's sector (`query.decay`) since it was last
//!    seen.
//! 3. The best `limit` are kept, and expansion follows the strongest links of each
//!    (`expansion_per_match`, at most `expansion_max` added), scoring an added memory
//!    `parent total × link weight`. Added memories pass the same filter as search (a link to a
//!    paused, superseded or other-sector memory adds nothing).
//!
//! A result therefore holds at most `limit + expansion_max` memories, best first.

use std::collections::HashMap;

use memvox_core::scoring::{
    ExpansionLimits, composite, expand_waypoints, lexical_coverage, mean_link_weight, recency,
    sort_by_score,
};
use memvox_core::{Memory, MemoryId, ScoreBreakdown, Scored};
use memvox_store::{LexicalSearch, MemoryFilter, StoreResult};

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

/// A candidate before scoring: the memory, its cosine similarity and its lexical coverage.
struct Candidate {
    memory: Memory,
    similarity: f64,
    lexical: f64,
}

/// The user's memories best matching `query` (its text and its embedding), ranked.
pub async fn rank(
    state: &QueryState,
    user_id: &str,
    query: &str,
    vector: &[f32],
    filter: &MemoryFilter,
    limit: usize,
) -> StoreResult<Vec<Ranked>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let candidates = limit.saturating_mul(state.settings.candidate_factor.max(1));
    let mut pool = gather(state, user_id, query, vector, filter, candidates).await?;
    if pool.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<MemoryId> = pool.iter().map(|c| c.memory.id).collect();
    let mut links: HashMap<MemoryId, Vec<(MemoryId, f64)>> = HashMap::new();
    for link in state.store.links_from(&ids).await? {
        links
            .entry(link.source)
            .or_default()
            .push((link.target, link.weight));
    }
    let now = state.clock.now();
    let mut scored: Vec<Scored> = pool
        .iter()
        .map(|candidate| {
            let memory = &candidate.memory;
            let weights: Vec<f64> = links
                .get(&memory.id)
                .map(|out| out.iter().map(|(_, weight)| *weight).collect())
                .unwrap_or_default();
            Scored {
                memory_id: memory.id,
                breakdown: composite(
                    &state.weights,
                    candidate.similarity,
                    candidate.lexical,
                    memory.salience,
                    recency(
                        memory.last_seen_at,
                        now,
                        state.settings.decay.rate(memory.sector),
                    ),
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

    let mut memories: HashMap<MemoryId, Memory> = pool
        .drain(..)
        .map(|candidate| (candidate.memory.id, candidate.memory))
        .collect();
    let linked: Vec<MemoryId> = expanded
        .iter()
        .map(|entry| entry.memory_id)
        .filter(|id| !memories.contains_key(id))
        .collect();
    if !linked.is_empty() {
        for memory in state.store.get_memories(user_id, &linked).await? {
            memories.insert(memory.id, memory);
        }
    }
    let mut ranked = Vec::with_capacity(expanded.len());
    for entry in expanded {
        let Some(memory) = memories.remove(&entry.memory_id) else {
            continue;
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

/// The candidates: the `candidates` nearest memories by vector and, when lexical search is on,
/// the `candidates` memories sharing most of the query's words, run concurrently and merged
/// (a memory found both ways appears once). A vector match outside the lexical results counts
/// as sharing no word.
async fn gather(
    state: &QueryState,
    user_id: &str,
    query: &str,
    vector: &[f32],
    filter: &MemoryFilter,
    candidates: usize,
) -> StoreResult<Vec<Candidate>> {
    let dense = state
        .store
        .search_memories(user_id, vector, filter, candidates);
    let (hits, lexical) = if state.weights.lexical > 0.0 {
        let lexical = state.store.search_lexical(
            user_id,
            query,
            vector,
            filter,
            candidates,
            state.settings.lexical_min_memories,
        );
        let (hits, lexical) = tokio::try_join!(dense, lexical)?;
        (hits, lexical)
    } else {
        (dense.await?, LexicalSearch::default())
    };
    let mut pool: Vec<Candidate> = Vec::with_capacity(hits.len() + lexical.hits.len());
    let mut coverage: HashMap<MemoryId, f64> = lexical
        .hits
        .iter()
        .map(|hit| {
            let covered =
                lexical_coverage(lexical.memories, &lexical.document_frequency, &hit.matched);
            (hit.memory.id, covered)
        })
        .collect();
    for hit in hits {
        pool.push(Candidate {
            lexical: coverage.remove(&hit.memory.id).unwrap_or(0.0),
            similarity: hit.similarity,
            memory: hit.memory,
        });
    }
    for hit in lexical.hits {
        if let Some(lexical) = coverage.remove(&hit.memory.id) {
            pool.push(Candidate {
                lexical,
                similarity: hit.similarity,
                memory: hit.memory,
            });
        }
    }
    Ok(pool)
}
