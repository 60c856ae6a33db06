//! What callers read: the compact memory view of a query result, times as RFC 3339 (through
//! `memvox_core::calendar`).
//!
//! The memory-query answer is read by the agent's LLM while the caller waits, so by default it
//! carries only what the agent uses — id, kind, text, the date it was said, where from — and
//! omits empty fields; an episode's text is trimmed to its caller turn and the context turns
//! that share the query's words (all of its turns when none does), each speaker-labelled and
//! at most
//! [`MAX_TURN_CHARS`] long. With `explain`, each memory also carries its sector, salience,
//! exact time and the terms of its score, rounded to three decimals.

use std::collections::HashSet;

use memvox_core::calendar::{date, rfc3339};
use memvox_core::episode::{episode_lines, searchable_lines};
use memvox_core::text::lexical_terms;
use memvox_core::{Memory, MemoryId, MemoryKind, ScoreBreakdown, Sector};

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

/// Score terms, rounded to three decimals: the ranking's own breakdown, same fields.
pub type ScoreView = ScoreBreakdown;

/// The views of `ranked` (best first) for a query whose content words are `query_terms`: no
/// turn is shown twice — an episode's context or reply that a better one showed (the reply of
/// one caller turn is the context of the next) is left out of it.
pub fn views(ranked: &[Ranked], query_terms: &[String], explain: bool) -> Vec<MemoryView> {
    let mut shown: HashSet<(&str, u32)> = HashSet::new();
    ranked
        .iter()
        .map(|r| {
            let view = MemoryView::new(r, query_terms, explain, &shown);
            if let Some(source) = r.memory.provenance.as_ref()
                && r.memory.kind == MemoryKind::Episode
            {
                let turns = view.source.as_ref().map(|s| s.turns.as_slice());
                shown.extend(
                    turns
                        .unwrap_or_default()
                        .iter()
                        .map(|turn| (source.conversation_id.as_str(), *turn)),
                );
            }
            view
        })
        .collect()
}

impl MemoryView {
    /// The view of `ranked` for a query whose content words are `query_terms`, leaving out the
    /// episode turns already `shown` (by conversation id and turn index).
    pub fn new(
        ranked: &Ranked,
        query_terms: &[String],
        explain: bool,
        shown: &HashSet<(&str, u32)>,
    ) -> Self {
        let memory = &ranked.memory;
        let (content, turns) = match memory.kind {
            MemoryKind::Fact => (
                memory.content.clone(),
                memory.provenance.as_ref().map(|p| p.turn_indexes.clone()),
            ),
            MemoryKind::Episode => {
                let (content, turns) = trim_episode(memory, query_terms, shown);
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

/// An episode's caller line and either the context lines that share a query word, or the
/// agent's reply, or (nothing matching) the context, each cut to [`MAX_TURN_CHARS`], with the
/// turn indexes they are; lines `shown` by a better episode are left out (never the caller's).
fn trim_episode(
    memory: &Memory,
    query_terms: &[String],
    shown: &HashSet<(&str, u32)>,
) -> (String, Vec<u32>) {
    let (conversation, turns) = memory
        .provenance
        .as_ref()
        .map(|p| (p.conversation_id.as_str(), p.turn_indexes.as_slice()))
        .unwrap_or_default();
    let lines: Vec<(Option<u32>, &str, &str)> = episode_lines(&memory.content)
        .enumerate()
        .map(|(i, (speaker, text))| (turns.get(i).copied(), speaker, text))
        .collect();
    let own = searchable_lines(&memory.content).saturating_sub(1);
    let matches = |text: &str| lexical_terms(text).iter().any(|t| query_terms.contains(t));
    let fresh = |turn: &Option<u32>| !turn.is_some_and(|t| shown.contains(&(conversation, t)));
    let context = |i: usize| i < own;
    let pick = |keep: &dyn Fn(usize, &str) -> bool| -> Vec<usize> {
        (0..lines.len())
            .filter(|&i| i != own && fresh(&lines[i].0) && keep(i, lines[i].2))
            .collect()
    };
    // Besides the caller's turn, one more kind of line: the context that matches the question
    // ("Are you taking any medication?" is answered in the caller's turn), else the agent's
    // reply (it often holds the answer: "There's Monday the 31st, 13:30"), else — when nothing
    // matched at all — the context.
    let mut extra = pick(&|i, text| context(i) && matches(text));
    if extra.is_empty() {
        extra = pick(&|i, _| !context(i));
    }
    if extra.is_empty() && !lines.iter().any(|(_, _, text)| matches(text)) {
        extra = pick(&|i, _| context(i));
    }
    let shown: Vec<&(Option<u32>, &str, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == own || extra.contains(i))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn episode(id: MemoryId, turns: Vec<u32>, content: &str) -> Ranked {
        Ranked {
            memory: Memory {
                id,
                user_id: "u".into(),
                content: content.into(),
                kind: MemoryKind::Episode,
                sector: Sector::Episodic,
                salience: 0.3,
                decay_per_day: 0.015,
                state: memvox_core::MemoryState::Active,
                last_seen_at: 0,
                created_at: 0,
                updated_at: 0,
                provenance: Some(memvox_core::Provenance {
                    conversation_id: "conv_1".into(),
                    turn_indexes: turns,
                }),
                superseded_by: None,
                superseded_at: None,
            },
            score: memvox_core::ScoreBreakdown::default(),
            via: None,
        }
    }

    fn shown(ranked: &[Ranked], query: &[&str]) -> Vec<(String, Vec<u32>)> {
        let terms: Vec<String> = query.iter().map(|t| (*t).to_owned()).collect();
        views(ranked, &terms, false)
            .into_iter()
            .map(|v| (v.content, v.source.map(|s| s.turns).unwrap_or_default()))
            .collect()
    }

    #[test]
    fn an_episode_shows_its_caller_turn_and_the_matching_context_or_else_the_reply() {
        let booked = episode(
            1,
            vec![6, 7, 8],
            "agent: Which doctor?\ncaller: Dr Moreau, I missed my appointment.\nagent: There's \
             Monday the 31st, 13:30.",
        );
        assert_eq!(
            shown(std::slice::from_ref(&booked), &["moreau"]),
            [(
                "caller: Dr Moreau, I missed my appointment.\nagent: There's Monday the 31st, \
                 13:30."
                    .to_owned(),
                vec![7, 8]
            )],
            "no context line matches: the reply"
        );
        assert_eq!(
            shown(&[booked], &["doctor"]),
            [(
                "agent: Which doctor?\ncaller: Dr Moreau, I missed my appointment.".to_owned(),
                vec![6, 7]
            )],
            "the matching context line, not the reply"
        );
        let unreplied = episode(2, vec![0, 1], "agent: Hello.\ncaller: Hi there.");
        assert_eq!(
            shown(&[unreplied], &["nothing"]),
            [("agent: Hello.\ncaller: Hi there.".to_owned(), vec![0, 1])],
            "nothing matches and no reply: the context"
        );
    }

    #[test]
    fn a_turn_a_better_episode_showed_is_not_shown_again() {
        let first = episode(1, vec![6, 7, 8], "agent: a\ncaller: b\nagent: c");
        let second = episode(2, vec![8, 9, 10], "agent: c\ncaller: d\nagent: e");
        assert_eq!(
            shown(&[first, second], &["nothing"]),
            [
                ("caller: b\nagent: c".to_owned(), vec![7, 8]),
                ("caller: d\nagent: e".to_owned(), vec![9, 10]),
            ]
        );
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
