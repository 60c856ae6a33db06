//! One memory query, shared by the `memory_query` tool, `POST /v1/users/{id}/memories/search`
//! and MCP ([`search`]) and by the custom-LLM proxy ([`search_for_context`], without the
//! summary and the recall announcement): validate, embed, rank, summarise, announce the recall.
//!
//! Limits are clamped, not refused: 0 becomes 1 and anything above `max_limit` becomes
//! `max_limit`, so an agent's constant never turns a lookup into an error. An unknown sector
//! or an empty query is a 400. A user with no memories (or unknown) gets an empty answer.
//!
//! A query reads the user's memories once (`Search::user_view`: one primary-key read of the
//! user's versions when their index is warm) and ranks in process.
//!
//! Answers are cached per (user, user cache version, store version, query, limit, sectors) when
//! the cache is on, in process and in Redis (see `memvox-cache`); a hit is still announced as a
//! recall, and reports its own `query_time_ms`. The store version (the view's version, moved by
//! triggers in the transaction of every write an answer could show) is read before computing,
//! so no process serves an answer older than the last committed change even when a cache
//! invalidation was lost, and a user with no row — an erased one — is never served from the
//! cache. Recall reinforcement (salience drift) moves neither version.

use std::time::Instant;

use memvox_ai::SummaryMemory;
use memvox_core::Sector;
use memvox_store::{MemoryFilter, UserVersion, UserView};
use serde::{Deserialize, Serialize};

use crate::present::{self, MemoryView};
use crate::question::Question;
use crate::{ApiError, QueryState, retrieval};

/// What to look up.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SearchParams {
    /// The question, in words.
    pub query: String,
    /// Memories to return (default `default_limit`, clamped to `1..=max_limit`; an integral
    /// float such as `3.0` counts).
    #[serde(
        default,
        deserialize_with = "memvox_elevenlabs::serde_util::opt_whole_u32"
    )]
    pub limit: Option<u32>,
    /// Only these sectors (names as in `memvox-core`).
    #[serde(default)]
    pub sectors: Option<Vec<String>>,
    /// Also return each memory's sector, salience, time and score breakdown.
    #[serde(default)]
    pub explain: bool,
}

/// A query's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchAnswer {
    /// Ranked memories, best first.
    pub memories: Vec<MemoryView>,
    /// One or two sentences restating the top memories; empty when there are none.
    pub summary: String,
    /// Time spent answering, in ms.
    pub query_time_ms: u64,
}

impl SearchAnswer {
    /// The answer for a user with nothing to recall.
    pub fn empty(started: Instant) -> Self {
        Self {
            memories: Vec::new(),
            summary: String::new(),
            query_time_ms: elapsed_ms(started),
        }
    }
}

/// What a cached answer is keyed by, besides the user and their cache version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct QueryKey {
    /// The trimmed query text.
    pub query: String,
    /// The effective limit.
    pub limit: usize,
    /// The sector filter, sorted.
    pub sectors: Vec<Sector>,
    /// Whether score breakdowns were asked for.
    pub explain: bool,
    /// Whether someone asked (summarised, announced as recalled) or the answer is context for
    /// a model ([`search_for_context`]: neither).
    pub asked: bool,
    /// What the user's memories stood at in the store when the answer was computed: an answer
    /// is never served past a committed change, whether or not its cache invalidation arrived.
    pub store_version: UserVersion,
}

/// The effective limit: `requested` (or the default) clamped to `1..=max_limit`.
pub fn clamp_limit(state: &QueryState, requested: Option<u32>) -> usize {
    let max = state.settings.max_limit.max(1);
    requested
        .unwrap_or(state.settings.default_limit)
        .clamp(1, max) as usize
}

/// Parses sector names.
///
/// # Errors
/// [`ApiError::Invalid`] naming the first unknown sector.
pub fn parse_sectors(names: Option<&[String]>) -> Result<Vec<Sector>, ApiError> {
    names
        .unwrap_or_default()
        .iter()
        .map(|name| {
            name.trim()
                .parse::<Sector>()
                .map_err(|e| ApiError::Invalid(e.to_string()))
        })
        .collect()
}

/// Whether a search recalls what it finds: an agent's or the API's search does, reinforcing
/// the memories; an operator looking at them in the inspector does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recall {
    /// The memories found are recalled (salience and recency reinforced).
    Reinforce,
    /// Nothing changes.
    Inspect,
}

/// Answers `params` over `user_id`'s memories (`None`: nobody to recall, an empty answer),
/// announcing the recall of what it found unless `recall` is [`Recall::Inspect`].
///
/// # Errors
/// [`ApiError::Invalid`] for an empty query or unknown sector; store and embedder failures.
pub async fn search(
    state: &QueryState,
    user_id: Option<&str>,
    params: &SearchParams,
    started: Instant,
    recall: Recall,
) -> Result<SearchAnswer, ApiError> {
    let found = find(state, user_id, params, started).await?;
    if let (Recall::Reinforce, Some(user_id)) = (recall, user_id) {
        announce_recall(state, user_id, &found.memories);
    }
    Ok(found)
}

/// The answer to `params` over `user_id`'s memories, from the answer cache when it holds it.
async fn find(
    state: &QueryState,
    user_id: Option<&str>,
    params: &SearchParams,
    started: Instant,
) -> Result<SearchAnswer, ApiError> {
    run(state, user_id, params, true, started).await
}

/// [`search`] for context put before a model on every turn (the custom-LLM proxy): the
/// memories alone — no summary (`summary` is empty: a model summary would not fit the turn's
/// budget, and the caller presents the memories itself) — and not announced as recalled: a
/// memory shown on every turn is not one anyone chose to look up, and reinforcing it would make
/// whatever matches small talk ever more salient (and move the caller's recall version every
/// second of a call, re-reading their recall values on the next turn).
///
/// # Errors
/// As [`search`].
pub async fn search_for_context(
    state: &QueryState,
    user_id: Option<&str>,
    params: &SearchParams,
    started: Instant,
) -> Result<SearchAnswer, ApiError> {
    run(state, user_id, params, false, started).await
}

async fn run(
    state: &QueryState,
    user_id: Option<&str>,
    params: &SearchParams,
    asked: bool,
    started: Instant,
) -> Result<SearchAnswer, ApiError> {
    let query = params.query.trim();
    if query.is_empty() {
        return Err(ApiError::Invalid("query must not be empty".to_owned()));
    }
    let filter = MemoryFilter {
        sectors: parse_sectors(params.sectors.as_deref())?,
        ..MemoryFilter::both_layers()
    };
    let limit = clamp_limit(state, params.limit);
    let Some(user_id) = user_id else {
        return Ok(SearchAnswer::empty(started));
    };
    let lookup = Lookup {
        query,
        filter: &filter,
        limit,
        explain: params.explain,
        asked,
    };
    let view = state.store.user_view(user_id).await?;
    let Some(cache) = &state.answers else {
        return answer(state, &view, user_id, &lookup, started).await;
    };
    let Some(store_version) = view.version() else {
        // No such user (never created, or erased): nothing cached may be about them.
        return answer(state, &view, user_id, &lookup, started).await;
    };
    let mut sectors = filter.sectors.clone();
    sectors.sort();
    let key = QueryKey {
        query: query.to_owned(),
        limit,
        sectors,
        explain: params.explain,
        asked,
        store_version,
    };
    let version = cache.version(user_id).await;
    if let Some(hit) = cache.get(user_id, version, &key).await {
        return Ok(SearchAnswer {
            query_time_ms: elapsed_ms(started),
            ..(*hit).clone()
        });
    }
    let fresh = answer(state, &view, user_id, &lookup, started).await?;
    cache.insert(user_id, version, key, fresh.clone()).await;
    Ok(fresh)
}

/// One validated lookup: the trimmed query, its filter, the effective limit, whether to explain
/// and whether someone asked (to summarise and announce).
#[derive(Clone, Copy)]
struct Lookup<'a> {
    query: &'a str,
    filter: &'a MemoryFilter,
    limit: usize,
    explain: bool,
    asked: bool,
}

/// Computes the answer (no cache).
async fn answer(
    state: &QueryState,
    view: &UserView,
    user_id: &str,
    lookup: &Lookup<'_>,
    started: Instant,
) -> Result<SearchAnswer, ApiError> {
    let Lookup {
        query,
        filter,
        limit,
        explain,
        asked,
    } = *lookup;
    let question = Question::read(query);
    let vector = embed_query(state, &question.embedded).await?;
    let ranked = retrieval::rank(state, view, user_id, &question, &vector, filter, limit).await?;
    if ranked.is_empty() {
        return Ok(SearchAnswer::empty(started));
    }
    let memories = present::views(&ranked, &question.terms, explain);
    let summary = if asked {
        summary(state, query, &ranked, &memories).await
    } else {
        String::new()
    };
    Ok(SearchAnswer {
        memories,
        summary,
        query_time_ms: elapsed_ms(started),
    })
}

/// The summary of an answer: the configured summarizer's, or the extractive one when it fails.
async fn summary(
    state: &QueryState,
    query: &str,
    ranked: &[retrieval::Ranked],
    memories: &[MemoryView],
) -> String {
    let inputs: Vec<SummaryMemory> = ranked
        .iter()
        .zip(memories)
        .map(|(r, view)| SummaryMemory {
            content: view.content.clone(),
            sector: r.memory.sector,
        })
        .collect();
    match state.summarizer.summarize_for_query(query, &inputs).await {
        Ok(summary) => summary.text,
        Err(error) => {
            tracing::warn!(%error, "summary failed; answering with the extractive one");
            memvox_ai::ExtractiveSummarizer::default()
                .for_query(&inputs)
                .text
        }
    }
}

/// The vector of a question's `embedded` text: from the shared query-vector cache when it is
/// on, else the embedder (which keeps its own in-process cache).
async fn embed_query(state: &QueryState, query: &str) -> Result<Vec<f32>, ApiError> {
    let Some(vectors) = &state.query_vectors else {
        return Ok(state.embedder.embed_one(query).await?);
    };
    if let Some(hit) = vectors.get(query).await {
        return Ok(hit.to_vec());
    }
    let vector = state.embedder.embed_one(query).await?;
    vectors.insert(query, &vector).await;
    Ok(vector)
}

/// Notes that `memories` were recalled, for reinforcement (announced with the caller's other
/// recalls of the interval).
fn announce_recall(state: &QueryState, user_id: &str, memories: &[MemoryView]) {
    state.recalls.record(user_id, memories.iter().map(|m| m.id));
}

/// Milliseconds since `started`.
pub fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
