//! What callers read: the compact memory view of a query result, and times as RFC 3339.
//!
//! The memory-query answer is read by the agent's LLM while the caller waits, so by default it
//! carries only what the agent uses — id, kind, text, the date it was said, where from — and
//! omits empty fields; an episode's text is trimmed to its caller turn and the context turns
//! that share the query's words (all of its turns when none does), each speaker-labelled and
//! at most
//! [`MAX_TURN_CHARS`] long. With `explain`, each memory also carries its sector, salience,
//! exact time and the terms of its score, rounded to three decimals.

use memvox_core::episode::episode_lines;
use memvox_core::text::lexical_terms;
use memvox_core::{Memory, MemoryId, MemoryKind, Sector, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::retrieval::Ranked;

/// Longest turn text shown in an episode, in characters (longer turns are cut at a word).
pub const MAX_TURN_CHARS: usize = 220;

/// One memory in a query answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryView {
    /// Memory id (for the REST API).
    pub id: MemoryId,
    /// `fact` or `episode` (what the caller said on a call, as said).
    pub kind: MemoryKind,
    /// The fact, or the episode's matching turns (`caller: …`, `agent: …` lines).
    pub content: String,
    /// The day it was said (the call's date, UTC, `YYYY-MM-DD`).
    pub date: String,
    /// The call and transcript turns it came from; absent for memories added by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceView>,
    /// For a memory reached through a link, the memory whose link led to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<MemoryId>,
    /// Why it ranked where it did (only when asked to explain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// Where a memory came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceView {
    /// ElevenLabs conversation id.
    pub conversation_id: String,
    /// Transcript turn indexes (0-based) of what is shown.
    pub turns: Vec<u32>,
}

/// A memory's ranking inputs and score, for debugging and the REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Its sector.
    pub sector: Sector,
    /// Importance in `[0, 1]`.
    pub salience: f64,
    /// When it was said (RFC 3339, UTC).
    pub timestamp: String,
    /// The terms of its score.
    pub score: ScoreView,
}

/// Score terms, rounded to three decimals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreView {
    /// Cosine similarity to the query.
    pub similarity: f64,
    /// BM25 of the query's words, over the best candidate's.
    pub lexical: f64,
    /// Salience term.
    pub salience: f64,
    /// Recency factor.
    pub recency: f64,
    /// Mean link weight (or the weight of the link followed).
    pub link: f64,
    /// Weighted total.
    pub total: f64,
}

impl MemoryView {
    /// The view of `ranked` for a query whose content words are `query_terms`.
    pub fn new(ranked: &Ranked, query_terms: &[String], explain: bool) -> Self {
        let memory = &ranked.memory;
        let (content, turns) = match memory.kind {
            MemoryKind::Fact => (
                memory.content.clone(),
                memory.provenance.as_ref().map(|p| p.turn_indexes.clone()),
            ),
            MemoryKind::Episode => {
                let (content, turns) = trim_episode(memory, query_terms);
                (content, Some(turns))
            }
        };
        Self {
            id: memory.id,
            kind: memory.kind,
            content,
            date: date(memory.created_at),
            source: memory.provenance.as_ref().map(|p| SourceView {
                conversation_id: p.conversation_id.clone(),
                turns: turns.unwrap_or_default(),
            }),
            via: ranked.via,
            explain: explain.then(|| Explanation {
                sector: memory.sector,
                salience: round3(memory.salience),
                timestamp: rfc3339(memory.created_at),
                score: ScoreView {
                    similarity: round3(ranked.score.similarity),
                    lexical: round3(ranked.score.lexical),
                    salience: round3(ranked.score.salience),
                    recency: round3(ranked.score.recency),
                    link: round3(ranked.score.link),
                    total: round3(ranked.score.total),
                },
            }),
        }
    }
}

/// An episode's caller line and the lines that share a query word (every line when none
/// does), each cut to
/// [`MAX_TURN_CHARS`], with the turn indexes they are.
fn trim_episode(memory: &Memory, query_terms: &[String]) -> (String, Vec<u32>) {
    let turns = memory
        .provenance
        .as_ref()
        .map(|p| p.turn_indexes.as_slice())
        .unwrap_or_default();
    let lines: Vec<(Option<u32>, &str, &str)> = episode_lines(&memory.content)
        .enumerate()
        .map(|(i, (speaker, text))| (turns.get(i).copied(), speaker, text))
        .collect();
    let last = lines.len().saturating_sub(1);
    let matches = |text: &str| lexical_terms(text).iter().any(|t| query_terms.contains(t));
    let any = lines.iter().any(|(_, _, text)| matches(text));
    // The caller's turn (the last line) is the episode's own and always shown: an agent line
    // matching the query ("Are you taking any medication?") is answered there.
    let shown: Vec<&(Option<u32>, &str, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(i, (_, _, text))| !any || *i == last || matches(text))
        .map(|(_, line)| line)
        .collect();
    let content = shown
        .iter()
        .map(|(_, speaker, text)| {
            let text = clip(text, MAX_TURN_CHARS);
            if speaker.is_empty() {
                text
            } else {
                format!("{speaker}: {text}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    (
        content,
        shown.iter().filter_map(|(turn, _, _)| *turn).collect(),
    )
}

/// `text` cut to at most `max` characters at a word boundary, with `…` when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// `x` rounded to three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The UTC calendar date `(year, month, day)` of unix milliseconds (proleptic Gregorian).
pub fn civil_date(at: UnixMillis) -> (i64, i64, i64) {
    civil_from_days(at.div_euclid(1000).div_euclid(86_400))
}

/// Unix milliseconds as `YYYY-MM-DD` (UTC).
pub fn date(at: UnixMillis) -> String {
    let (year, month, day) = civil_date(at);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC, proleptic Gregorian).
pub fn rfc3339(at: UnixMillis) -> String {
    let rem = at.div_euclid(1000).rem_euclid(86_400);
    let (year, month, day) = civil_date(at);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_765_815_600_000), "2025-12-15T16:20:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1_000), "1969-12-31T23:59:59Z");
        assert_eq!(date(1_765_815_600_000), "2025-12-15");
    }

    #[test]
    fn long_turns_are_clipped_at_a_word() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("one two, three four", 12), "one two…");
    }

    #[test]
    fn rounds_to_three_decimals() {
        assert_eq!(round3(0.123_456), 0.123);
        assert_eq!(round3(0.9996), 1.0);
    }
}
