//! The memories a proxy request gets: looked up for the latest user message within the budget,
//! fail-open, and written as one compact block.
//!
//! The lookup (caller, embedding, ranking: [`crate::search::search_for_context`], the memory-query
//! tool's path without its summary and recall announcement) runs in the request's task, at most
//! `max_lookups` at once, for `budget_ms` at most; a late lookup is not cancelled but moved to a
//! task of its own to finish, so the caller's index and the answer cache are warm for the next turn
//! instead of every turn restarting a load the budget cannot fit. A late, failed or unstarted
//! lookup sends the request upstream unchanged, counted in
//! `memvox_llm_proxy_failed_open_total{reason}`.
//!
//! The block lists each memory on one line with the day it was said, best first; an episode's
//! turns are joined on that line. What the LLM reads delays the caller's answer, so there is no
//! summary and no metadata beyond the date.

use std::sync::Arc;
use std::time::{Duration, Instant};

use memvox_elevenlabs::MemoryQueryRequest;
use tokio::sync::Semaphore;

use crate::llm_proxy::metrics::{ContextOutcome, FailOpen};
use crate::present::MemoryView;
use crate::search::{SearchAnswer, SearchParams, search_for_context};
use crate::{ApiError, QueryState};

/// Longest query looked up, in characters: the end of a longer message is kept (where a
/// spoken question usually is).
const MAX_QUERY_CHARS: usize = 1_000;

/// The first line of the block.
pub const BLOCK_HEADER: &str = "What this caller said in earlier calls (memvox memory, most relevant first; use it when it helps, do not recite it):";

/// What a lookup found.
#[derive(Debug)]
pub struct Found {
    /// How it went.
    pub outcome: ContextOutcome,
    /// The user it was about.
    pub user_id: Option<String>,
    /// The memories (present when some were found).
    pub answer: Option<SearchAnswer>,
}

impl Found {
    fn without(outcome: ContextOutcome) -> Self {
        Self {
            outcome,
            user_id: None,
            answer: None,
        }
    }

    /// The block to add, when there are memories.
    pub fn block(&self) -> Option<String> {
        self.answer
            .as_ref()
            .filter(|answer| !answer.memories.is_empty())
            .map(|answer| block(&answer.memories))
    }
}

/// Looks up memories for `text` (the latest user message) of the caller `claims` resolve to,
/// waiting at most `budget`; never fails.
pub async fn look_up(
    state: &QueryState,
    lookups: &Arc<Semaphore>,
    claims: MemoryQueryRequest,
    text: Option<String>,
    budget: Duration,
) -> Found {
    let Some(text) = text else {
        return Found::without(ContextOutcome::NoUserMessage);
    };
    let Ok(permit) = lookups.clone().try_acquire_owned() else {
        return Found::without(ContextOutcome::FailedOpen(FailOpen::Busy));
    };
    let lookup = {
        let state = state.clone();
        async move {
            let started = Instant::now();
            let found = find(&state, &claims, &text, started).await;
            state.metrics.llm_proxy.looked_up(started.elapsed());
            drop(permit);
            found
        }
    };
    // Polled in the request's own task (no hop to another one on the common path); only a late
    // lookup is handed to a task of its own to finish.
    let mut lookup = Box::pin(lookup);
    match tokio::time::timeout(budget, &mut lookup).await {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => {
            tracing::warn!(%error, "proxy memory lookup failed; forwarding without memories");
            Found::without(ContextOutcome::FailedOpen(FailOpen::Error))
        }
        Err(_) => {
            tokio::spawn(lookup);
            tracing::info!(
                budget_ms = budget.as_millis() as u64,
                "proxy memory lookup missed its budget; forwarding without memories"
            );
            Found::without(ContextOutcome::FailedOpen(FailOpen::Timeout))
        }
    }
}

/// The caller's memories for `text`.
async fn find(
    state: &QueryState,
    claims: &MemoryQueryRequest,
    text: &str,
    started: Instant,
) -> Result<Found, ApiError> {
    let Some(user_id) = crate::routes::tool::caller(state, claims).await? else {
        return Ok(Found::without(ContextOutcome::UnknownCaller));
    };
    let params = SearchParams {
        query: tail(text, MAX_QUERY_CHARS).to_owned(),
        limit: Some(state.settings.llm_proxy.memories),
        ..SearchParams::default()
    };
    let answer = search_for_context(state, Some(&user_id), &params, started).await?;
    let outcome = if answer.memories.is_empty() {
        ContextOutcome::NoMemories
    } else {
        ContextOutcome::Added
    };
    Ok(Found {
        outcome,
        user_id: Some(user_id),
        answer: Some(answer),
    })
}

/// The last `max` characters of `text`.
fn tail(text: &str, max: usize) -> &str {
    let skip = text.chars().count().saturating_sub(max);
    text.char_indices()
        .nth(skip)
        .map_or(text, |(start, _)| &text[start..])
}

/// The block for `memories`: the header, then `- <date>: <content>` per memory, an episode's
/// lines joined with ` / `.
pub fn block(memories: &[MemoryView]) -> String {
    let mut block = BLOCK_HEADER.to_owned();
    for memory in memories {
        let content: Vec<&str> = memory
            .content
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        block.push_str(&format!("\n- {}: {}", memory.date, content.join(" / ")));
    }
    block
}

#[cfg(test)]
mod tests {
    use memvox_core::MemoryKind;

    use super::*;

    fn view(content: &str, date: &str) -> MemoryView {
        MemoryView {
            id: 1,
            kind: MemoryKind::Fact,
            content: content.to_owned(),
            date: date.to_owned(),
            source: None,
            via: None,
            explain: None,
        }
    }

    #[test]
    fn the_block_is_one_line_per_memory() {
        let block = block(&[
            view("Has a dog named Rex", "2026-03-02"),
            view("caller: I moved to Lyon\nagent: Noted!", "2026-03-04"),
        ]);
        assert_eq!(
            block,
            format!(
                "{BLOCK_HEADER}\n- 2026-03-02: Has a dog named Rex\n- 2026-03-04: caller: I moved to Lyon / agent: Noted!"
            )
        );
    }

    #[test]
    fn long_messages_keep_their_end() {
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 3), "ab");
        assert_eq!(tail("héllo wörld", 5), "wörld");
    }
}
