//! The summarizer that is always available: it quotes memories, it does not write.
//!
//! Owns [`ExtractiveSummarizer`]. It takes memory texts in rank order, skips repeats, and joins
//! as many as fit in a character budget, each as a sentence; a memory too long for what is left
//! is skipped for a shorter one further down. For a user summary, facts and preferences come
//! before patterns, feelings and events, each group keeping its rank order. Invariants:
//! deterministic, never fails, never exceeds its budget (a lone memory longer than the budget is
//! cut at a word with "…"), never says anything no memory says.

use async_trait::async_trait;
use memvox_core::Sector;
use memvox_core::text::normalize_for_dedupe;

use super::{SummarizeError, Summarizer, Summary, SummaryMemory, SummarySource};

/// Default budget of a memory-query summary, in characters (about 60 tokens).
pub const DEFAULT_QUERY_CHARS: usize = 240;
/// Default budget of a user summary, in characters.
pub const DEFAULT_USER_CHARS: usize = 400;

/// Joins the highest-ranked memory texts within a character budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractiveSummarizer {
    query_chars: usize,
    user_chars: usize,
}

impl Default for ExtractiveSummarizer {
    fn default() -> Self {
        Self::new(DEFAULT_QUERY_CHARS, DEFAULT_USER_CHARS)
    }
}

impl ExtractiveSummarizer {
    /// A summarizer with these budgets, in characters (at least 1 each).
    pub fn new(query_chars: usize, user_chars: usize) -> Self {
        Self {
            query_chars: query_chars.max(1),
            user_chars: user_chars.max(1),
        }
    }

    /// The query summary, synchronously.
    pub fn for_query(&self, memories: &[SummaryMemory]) -> Summary {
        let texts = memories.iter().map(|m| m.content.as_str());
        extractive(pack(texts, self.query_chars))
    }

    /// The user summary, synchronously.
    pub fn for_user(&self, memories: &[SummaryMemory]) -> Summary {
        let mut ordered: Vec<&SummaryMemory> = memories.iter().collect();
        ordered.sort_by_key(|m| sector_order(m.sector));
        let texts = ordered.into_iter().map(|m| m.content.as_str());
        extractive(pack(texts, self.user_chars))
    }
}

fn extractive(text: String) -> Summary {
    Summary {
        text,
        source: SummarySource::Extractive,
        fallback_reason: None,
    }
}

/// Who the caller is first: facts, then how to treat them, then patterns, feelings, events.
fn sector_order(sector: Sector) -> u8 {
    match sector {
        Sector::Semantic => 0,
        Sector::Procedural => 1,
        Sector::Reflective => 2,
        Sector::Emotional => 3,
        Sector::Episodic => 4,
    }
}

/// Sentences from `texts`, in order, without repeats, within `budget` characters.
fn pack<'a>(texts: impl Iterator<Item = &'a str>, budget: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    let mut seen: Vec<String> = Vec::new();
    let mut first_too_long: Option<String> = None;
    for text in texts {
        let sentence = as_sentence(text);
        let key = normalize_for_dedupe(&sentence);
        if key.is_empty() || seen.contains(&key) {
            continue;
        }
        let len = sentence.chars().count();
        let needed = if out.is_empty() { len } else { len + 1 };
        if used + needed > budget {
            if out.is_empty() && first_too_long.is_none() {
                first_too_long = Some(sentence);
            }
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&sentence);
        used += needed;
        seen.push(key);
    }
    match (out.is_empty(), first_too_long) {
        (true, Some(long)) => cut(&long, budget),
        _ => out,
    }
}

/// "Allergic to peanuts" → "Allergic to peanuts."
fn as_sentence(text: &str) -> String {
    let trimmed = text.trim().trim_end_matches([',', ';', ':']);
    if trimmed.is_empty() || trimmed.ends_with(['.', '!', '?', '…']) {
        trimmed.to_owned()
    } else {
        format!("{trimmed}.")
    }
}

/// `text` cut at a word to at most `budget` characters, ending with "…".
fn cut(text: &str, budget: usize) -> String {
    let mut kept: String = text.chars().take(budget.saturating_sub(1)).collect();
    if let Some(space) = kept.rfind(' ') {
        kept.truncate(space);
    }
    format!("{}…", kept.trim_end_matches([',', '.', ';', ':', ' ']))
}

#[async_trait]
impl Summarizer for ExtractiveSummarizer {
    fn name(&self) -> &'static str {
        "extractive"
    }

    async fn summarize_for_query(
        &self,
        _query: &str,
        memories: &[SummaryMemory],
    ) -> Result<Summary, SummarizeError> {
        Ok(self.for_query(memories))
    }

    async fn summarize_user(&self, memories: &[SummaryMemory]) -> Result<Summary, SummarizeError> {
        Ok(self.for_user(memories))
    }
}
