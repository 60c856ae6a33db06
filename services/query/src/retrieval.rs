//! Ranking a user's memories for a query, over both layers — facts and episodes — with one
//! ranker: dense and lexical candidates, fused scores, one piece of evidence per slot, then
//! single-waypoint graph expansion, never more than `limit` results.
//!
//! Everything is read from the user's view (`memvox_store::UserView`): a warm query reads no
//! memory, link or posting from the database.
//!
//! 1. The view returns the `candidates` nearest active, non-superseded facts and episodes by
//!    vector and as many sharing the query's rarest words (names, numbers, product codes an
//!    embedding can miss).
//! 2. Each candidate's lexical score is its BM25 for the query's words, divided by the best
//!    candidate's; with its links, each scores
//!    [`composite`]: relevance `0.7·cosine + 0.3·lexical` scaled by a bounded prior of
//!    salience, recency (decaying with the sector's rate since last seen, i.e. since the call
//!    it came from) and mean link weight (see `memvox_core::scoring`).
//!    An episode whose caller turn other candidates repeat word for word is routine talk
//!    and scores less for each copy (see `crate::routine`). A question naming a month favours
//!    what was said in it, one about the present what was said last, one about the past what
//!    was said first (see [`crate::temporal`]); such questions also follow their best match to
//!    its other mentions (see [`crate::follow_up`]).
//! 3. Best first, a result that does not match at all (no positive cosine, no query word) or
//!    cites a turn an earlier one cites (a fact and the episode it was drawn from), or repeats
//!    what an earlier one says (the same exchange in another call), is dropped, so the top
//!    `limit` hold distinct evidence.
//! 4. Expansion follows the strongest links of each kept fact (`expansion_per_match`, at most
//!    `expansion_max`), scoring an added memory `parent total × link weight`; added memories
//!    pass the same filter as search. Everything is ranked again and cut to `limit`.

use std::collections::HashMap;

use memvox_core::episode::searchable_text;
use memvox_core::fusion::{TermCounts, bm25, normalise_by_best, overlaps};
use memvox_core::scoring::{
    ExpansionLimits, composite, expand_waypoints, mean_link_weight, recency, sort_by_score,
};
use memvox_core::text::normalize_for_dedupe;
use memvox_core::{Memory, MemoryId, MemoryKind, ScoreBreakdown, Scored};
use memvox_store::{LexicalSearch, MAX_QUERY_TERMS, MemoryFilter, StoreResult, UserView};

use crate::question::Question;
use crate::{QueryState, follow_up, routine};

/// Fewest candidates fetched from each search, whatever the limit: fusion needs a pool.
const MIN_CANDIDATES: usize = 20;

/// The best matches among which a followed question picks the one it follows.
const SEEDS: usize = 3;

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

/// What a search is asked with: whose memories, the question read and embedded, the filter.
#[derive(Clone, Copy)]
pub(crate) struct Lookup<'a> {
    /// The service.
    pub state: &'a QueryState,
    /// The user's memories, as read for this query.
    pub view: &'a UserView,
    /// The question, read.
    pub question: &'a Question,
    /// Its embedding.
    pub vector: &'a [f32],
    /// Which memories may answer.
    pub filter: &'a MemoryFilter,
}

/// A candidate before scoring: the memory, its cosine similarity and its raw BM25.
struct Candidate {
    memory: Memory,
    similarity: f64,
    bm25: f64,
}

/// The user's memories best matching `query` (its text and its embedding), ranked; at most
/// `limit`.
pub async fn rank(
    state: &QueryState,
    view: &UserView,
    user_id: &str,
    question: &Question,
    vector: &[f32],
    filter: &MemoryFilter,
    limit: usize,
) -> StoreResult<Vec<Ranked>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let candidates = limit
        .saturating_mul(state.settings.candidate_factor.max(1))
        .max(MIN_CANDIDATES);
    let lookup = Lookup {
        state,
        view,
        question,
        vector,
        filter,
    };
    let mut pool = gather(&lookup, candidates)?;
    if pool.is_empty() {
        return Ok(Vec::new());
    }
    let links: HashMap<MemoryId, Vec<(MemoryId, f64)>> = pool
        .iter()
        .map(|c| (c.memory.id, view.links_from(c.memory.id).to_vec()))
        .filter(|(_, out)| !out.is_empty())
        .collect();
    let lexical = normalise_by_best(&pool.iter().map(|c| c.bm25).collect::<Vec<_>>());
    let now = state.clock.now();
    let mut scored: Vec<Scored> = pool
        .iter()
        .zip(lexical)
        .map(|(candidate, lexical)| {
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
                    lexical,
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
    routine::discount(&mut scored, pool.iter().map(|c| &c.memory));
    let cues = &question.cues;
    let said = |c: &Candidate| c.memory.created_at;
    let oldest = pool.iter().map(said).min().unwrap_or_default();
    let newest = pool.iter().map(said).max().unwrap_or_default();
    if !cues.is_empty() {
        for (entry, candidate) in scored.iter_mut().zip(&pool) {
            entry.breakdown.total *= cues.boost(said(candidate), oldest, newest);
        }
    }
    sort_by_score(&mut scored);
    let mut memories: HashMap<MemoryId, Memory> = pool
        .drain(..)
        .map(|candidate| (candidate.memory.id, candidate.memory))
        .collect();
    if follow_up::follows(question) {
        let leading = distinct_evidence(scored.iter().copied(), &memories, SEEDS);
        if let Some(best) = follow_up::seed(&leading, &memories) {
            follow_up::join(&lookup, best, (oldest, newest), &mut scored, &mut memories)?;
        }
    }
    sort_by_score(&mut scored);
    let kept = distinct_evidence(scored, &memories, limit);
    let limits = ExpansionLimits {
        per_match: state.settings.expansion_per_match,
        max_added: state.settings.expansion_max,
    };
    let mut expanded = expand_waypoints(kept, &links, limits);
    let linked: Vec<MemoryId> = expanded
        .iter()
        .map(|entry| entry.memory_id)
        .filter(|id| !memories.contains_key(id))
        .collect();
    if !linked.is_empty() {
        let held = view.memories(&linked);
        let missing: Vec<MemoryId> = linked
            .iter()
            .copied()
            .filter(|id| !held.iter().any(|memory| memory.id == *id))
            .collect();
        memories.extend(held.into_iter().map(|memory| (memory.id, memory)));
        // A link to a memory outside the index (one with neither vector nor words): read it.
        if !missing.is_empty() {
            for memory in state.store.get_memories(user_id, &missing).await? {
                memories.insert(memory.id, memory);
            }
        }
    }
    expanded.retain(|entry| {
        memories
            .get(&entry.memory_id)
            .is_some_and(|memory| entry.via.is_none() || filter.matches(memory))
    });
    expanded.truncate(limit);
    Ok(expanded
        .into_iter()
        .filter_map(|entry| {
            Some(Ranked {
                memory: memories.remove(&entry.memory_id)?,
                score: entry.breakdown,
                via: entry.via,
            })
        })
        .collect())
}

/// The best `keep` of `memories` for a moment with no question — conversation-init's context:
/// the ranker's prior alone (salience, recency since the call they came from; every one
/// equally relevant), best first, ties to the lower id.
pub fn by_prior(state: &QueryState, memories: Vec<Memory>, keep: usize) -> Vec<Memory> {
    let now = state.clock.now();
    let mut scored: Vec<(f64, Memory)> = memories
        .into_iter()
        .map(|memory| {
            let decay = state.settings.decay.rate(memory.sector);
            let recency = recency(memory.last_seen_at, now, decay);
            let prior = composite(&state.weights, 1.0, 0.0, memory.salience, recency, 0.0);
            (prior.total, memory)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    scored.into_iter().take(keep).map(|(_, m)| m).collect()
}

/// The best `limit` of `scored` (sorted, best first) that match at all (a positive score),
/// cite no turn a better one cites (a fact and its episode; episodes share context turns, so
/// two are never compared) and do not repeat what a better one says ([`gist`]).
fn distinct_evidence(
    scored: impl IntoIterator<Item = Scored>,
    memories: &HashMap<MemoryId, Memory>,
    limit: usize,
) -> Vec<Scored> {
    let mut kept: Vec<Scored> = Vec::with_capacity(limit);
    let mut said = std::collections::HashSet::new();
    for entry in scored.into_iter().filter(|e| e.breakdown.total > 0.0) {
        if kept.len() >= limit {
            break;
        }
        let memory = memories.get(&entry.memory_id);
        if memory.is_some_and(|m| !said.insert(gist(m))) {
            continue;
        }
        let provenance = memory.and_then(|m| m.provenance.as_ref());
        let episode = memory.is_some_and(|m| m.kind == MemoryKind::Episode);
        let repeats = kept.iter().any(|better| {
            let earlier = memories.get(&better.memory_id);
            // Episodes share turns (a reply is the next one's context), never their caller
            // turn: two of them are two pieces of evidence.
            let both_episodes = episode && earlier.is_some_and(|m| m.kind == MemoryKind::Episode);
            !both_episodes && overlaps(provenance, earlier.and_then(|m| m.provenance.as_ref()))
        });
        if !repeats {
            kept.push(entry);
        }
    }
    kept
}

/// What a memory says, for telling repeats apart: a fact's normalised text, an episode's caller
/// turn and the one before it (: the same exchange, "The clinic is closed on the
/// bank holiday Monday." — "Right, good to know.", recurs in call after call).
pub(crate) fn gist(memory: &Memory) -> String {
    let text = match memory.kind {
        MemoryKind::Fact => memory.content.as_str(),
        MemoryKind::Episode => {
            let searched = searchable_text(&memory.content);
            let cut = searched
                .rmatch_indices('\n')
                .nth(1)
                .map_or(0, |(i, _)| i + 1);
            &searched[cut..]
        }
    };
    format!("{}:{}", memory.kind, normalize_for_dedupe(text))
}

/// The candidates: the `candidates` nearest memories by vector and, when lexical search is on,
/// the `candidates` memories sharing the query's rarest words, merged (a memory found both ways
/// appears once), each with its BM25 for the query.
fn gather(lookup: &Lookup<'_>, candidates: usize) -> StoreResult<Vec<Candidate>> {
    let Lookup {
        state,
        view,
        question,
        vector,
        filter,
        ..
    } = *lookup;
    let hits = view.search(vector, filter, candidates)?;
    let mut lexical = if state.weights.lexical > 0.0 {
        view.search_lexical(
            &question.topic,
            vector,
            filter,
            candidates,
            state.settings.lexical_min_memories,
        )?
    } else {
        LexicalSearch::default()
    };
    let lexical_hits = std::mem::take(&mut lexical.hits);
    let mut pool: Vec<(Memory, f64)> = Vec::with_capacity(hits.len() + lexical_hits.len());
    let mut seen = std::collections::HashSet::with_capacity(pool.capacity());
    for (memory, similarity) in hits
        .into_iter()
        .map(|hit| (hit.memory, hit.similarity))
        .chain(
            lexical_hits
                .into_iter()
                .map(|hit| (hit.memory, hit.similarity)),
        )
    {
        if seen.insert(memory.id) {
            pool.push((memory, similarity));
        }
    }
    let memories: Vec<&Memory> = pool.iter().map(|(memory, _)| memory).collect();
    let scores = lexical_scores(&memories, &question.terms, &lexical);
    Ok(pool
        .into_iter()
        .zip(scores)
        .map(|((memory, similarity), bm25)| Candidate {
            bm25,
            similarity,
            memory,
        })
        .collect())
}

/// Each of `memories`' BM25 for `terms` (a query's lexical terms, the first
/// [`MAX_QUERY_TERMS`] counted), with the user's document frequencies from `search` (the
/// lexical search of those terms) and lengths averaged over `memories`.
pub(crate) fn lexical_scores(
    memories: &[&Memory],
    terms: &[String],
    search: &LexicalSearch,
) -> Vec<f64> {
    let terms = &terms[..terms.len().min(MAX_QUERY_TERMS)];
    let counts: Vec<TermCounts> = memories
        .iter()
        .map(|m| TermCounts::of(searchable_text(&m.content)))
        .collect();
    let average =
        counts.iter().map(TermCounts::len).sum::<usize>() as f64 / counts.len().max(1) as f64;
    counts
        .iter()
        .map(|words| {
            bm25(
                terms,
                &search.document_frequency,
                search.memories,
                words,
                average,
            )
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use memvox_core::{MemoryState, Provenance, Sector};

    use super::*;

    /// A memory of user `u` said in `call` at `turns`, for ranking tests.
    pub(crate) fn memory(
        id: MemoryId,
        kind: MemoryKind,
        call: &str,
        turns: &[u32],
        content: &str,
    ) -> Memory {
        Memory {
            id,
            user_id: "u".into(),
            content: content.into(),
            kind,
            sector: Sector::Episodic,
            salience: 0.5,
            decay_per_day: 0.015,
            state: MemoryState::Active,
            last_seen_at: 0,
            created_at: 0,
            updated_at: 0,
            provenance: Some(Provenance {
                conversation_id: call.into(),
                turn_indexes: turns.to_vec(),
            }),
            superseded_by: None,
            superseded_at: None,
        }
    }

    /// `distinct_evidence` over `memories` scored in the order given (best first).
    fn kept(memories: Vec<Memory>, limit: usize) -> Vec<MemoryId> {
        let scored: Vec<Scored> = memories
            .iter()
            .enumerate()
            .map(|(rank, m)| Scored {
                memory_id: m.id,
                breakdown: ScoreBreakdown {
                    total: 1.0 - rank as f64 * 0.1,
                    ..ScoreBreakdown::default()
                },
                via: None,
            })
            .collect();
        let by_id = memories.into_iter().map(|m| (m.id, m)).collect();
        distinct_evidence(scored, &by_id, limit)
            .into_iter()
            .map(|s| s.memory_id)
            .collect()
    }

    #[test]
    fn a_fact_and_the_episode_it_came_from_take_one_slot() {
        let fact = memory(1, MemoryKind::Fact, "c1", &[5], "Allergic to penicillin");
        let episode = memory(
            2,
            MemoryKind::Episode,
            "c1",
            &[4, 5, 6],
            "agent: Any allergies?\ncaller: Only penicillin.\nagent: Noted.",
        );
        assert_eq!(kept(vec![fact, episode], 10), [1]);
    }

    #[test]
    fn episodes_sharing_a_context_turn_are_two_pieces_of_evidence() {
        let first = memory(
            1,
            MemoryKind::Episode,
            "c1",
            &[4, 5, 6],
            "agent: a\ncaller: b\nagent: c",
        );
        let next = memory(
            2,
            MemoryKind::Episode,
            "c1",
            &[6, 7, 8],
            "agent: c\ncaller: d\nagent: e",
        );
        assert_eq!(kept(vec![first, next], 10), [1, 2]);
    }

    #[test]
    fn the_same_exchange_in_another_call_is_a_repeat_and_limit_holds() {
        let exchange = "agent: The clinic is closed on Monday.\ncaller: Right, good to know.";
        let a = memory(1, MemoryKind::Episode, "c1", &[3, 4], exchange);
        let b = memory(2, MemoryKind::Episode, "c2", &[9, 10], exchange);
        let c = memory(3, MemoryKind::Episode, "c3", &[1, 2], "agent: x\ncaller: y");
        let d = memory(4, MemoryKind::Episode, "c4", &[1, 2], "agent: z\ncaller: w");
        assert_eq!(kept(vec![a, b, c, d], 2), [1, 3]);
    }
}
