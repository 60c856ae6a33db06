//! Episodes: the complete layer of a caller's memory, beside the compact one of facts.
//!
//! Facts are what an extractor kept from a call — short, deduplicated, superseded when a later
//! call contradicts them — and an extractor keeps little (a rule extractor 10–45 facts out of
//! ~600 turns). Episodes keep everything: each caller turn, with the turns just before it as
//! context, becomes one searchable item that cites its conversation and turns and carries the
//! time it was said. Both layers are memories in the store, told apart by [`MemoryKind`].

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Role, Turn, UnixMillis, UnknownVariant};

/// Which layer a memory belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryKind {
    /// A short fact an extractor (or a person) stated: deduplicated, superseded, linked.
    #[default]
    Fact,
    /// A window of a call's transcript, as it was said.
    Episode,
}

impl MemoryKind {
    /// Both kinds, facts first.
    pub const ALL: [MemoryKind; 2] = [MemoryKind::Fact, MemoryKind::Episode];

    /// The lower-case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryKind::Fact => "fact",
            MemoryKind::Episode => "episode",
        }
    }
}

impl fmt::Display for MemoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MemoryKind {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MemoryKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                kind: "memory kind",
                value: s.to_owned(),
                expected: "fact, episode",
            })
    }
}

/// The label a speaker's line carries in an episode's text.
pub fn speaker_label(role: Role) -> &'static str {
    match role {
        Role::User => "caller",
        Role::Agent => "agent",
    }
}

/// One window of a call, ready to store as an episode of the call's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEpisode {
    /// Transcript indexes of the turns in the window, ascending.
    pub turn_indexes: Vec<u32>,
    /// The turns' text, one speaker-labelled line each (`caller: …`, `agent: …`).
    pub content: String,
    /// When its caller turn was said: the call's start plus the turn's offset in the call.
    pub said_at: UnixMillis,
}

/// How a call is cut into episodes: every caller turn that says something opens a window that
/// also holds up to `context_turns` spoken turns before it (the agent's question, usually) and
/// up to `reply_turns` agent turns after it (the agent's answer: the slot it offered, the
/// order's status, "Booked: …"). The reply is shown with the episode but not searched (see
/// [`searchable_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeWindows {
    /// Spoken turns before each caller turn kept as its context.
    pub context_turns: usize,
    /// Agent turns right after each caller turn kept as its reply.
    pub reply_turns: usize,
}

impl Default for EpisodeWindows {
    fn default() -> Self {
        Self {
            context_turns: 1,
            reply_turns: 1,
        }
    }
}

impl EpisodeWindows {
    /// The episodes of a call that started at `started_at` with `turns` (tool calls and empty
    /// turns are skipped; a call without caller speech has none).
    pub fn cut(&self, turns: &[Turn], started_at: UnixMillis) -> Vec<NewEpisode> {
        let spoken: Vec<(&Turn, &str)> = turns
            .iter()
            .filter_map(|turn| {
                let text = turn.message.as_deref()?.trim();
                (!text.is_empty()).then_some((turn, text))
            })
            .collect();
        spoken
            .iter()
            .enumerate()
            .filter(|(_, (turn, _))| turn.role == Role::User)
            .map(|(at, (turn, _))| {
                let replies = spoken[at + 1..]
                    .iter()
                    .take(self.reply_turns)
                    .take_while(|(t, _)| t.role == Role::Agent)
                    .count();
                let window = &spoken[at.saturating_sub(self.context_turns)..=at + replies];
                NewEpisode {
                    turn_indexes: window.iter().map(|(t, _)| t.index).collect(),
                    content: window
                        .iter()
                        .map(|(t, text)| format!("{}: {text}", speaker_label(t.role)))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    said_at: started_at
                        .saturating_add(turn.time_in_call_secs.max(0).saturating_mul(1000)),
                }
            })
            .collect()
    }
}

/// One speaker-labelled line of an episode's text: its speaker label and what was said.
pub fn episode_lines(content: &str) -> impl Iterator<Item = (&str, &str)> {
    content.lines().map(|line| {
        line.split_once(": ")
            .filter(|(label, _)| matches!(*label, "caller" | "agent"))
            .unwrap_or(("", line))
    })
}

/// The part of a memory's text that is searched: an episode's lines up to its caller turn (the
/// last `caller:` line; the agent's reply after it is shown, not searched: measured on the
/// conversational probe, searching it too dropped recall@10 from 0.79 to 0.73, since every
/// window then speaks of two exchanges), any other text whole.
pub fn searchable_text(content: &str) -> &str {
    let label = format!("{}: ", speaker_label(Role::User));
    let Some(start) = content
        .match_indices(&label)
        .map(|(at, _)| at)
        .filter(|&at| at == 0 || content[..at].ends_with('\n'))
        .last()
    else {
        return content;
    };
    content[start..]
        .find('\n')
        .map_or(content, |end| &content[..start + end])
}

/// What the caller said in an episode: the text of its caller turn (the last `caller:` line of
/// its searched part), `None` for text without one.
pub fn caller_turn(content: &str) -> Option<&str> {
    episode_lines(searchable_text(content))
        .last()
        .filter(|(label, _)| *label == speaker_label(Role::User))
        .map(|(_, text)| text)
}

/// Where the searched part of an episode ends, in lines: how many of its lines are context
/// and caller turn (see [`searchable_text`]).
pub fn searchable_lines(content: &str) -> usize {
    searchable_text(content).lines().count()
}

/// What an episode's searched turns said, without their speaker labels: the text an embedder
/// reads (labels every episode shares would only pull all of them towards each other).
pub fn spoken_text(content: &str) -> String {
    episode_lines(searchable_text(content))
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(index: u32, role: Role, message: Option<&str>, at: i64) -> Turn {
        Turn {
            index,
            role,
            message: message.map(str::to_owned),
            time_in_call_secs: at,
        }
    }

    #[test]
    fn the_caller_turn_is_the_last_caller_line_of_the_searched_part() {
        let episode = "agent: Any changes?\ncaller: We've moved.\nagent: Noted.";
        assert_eq!(caller_turn(episode), Some("We've moved."));
        assert_eq!(caller_turn("Allergic to penicillin"), None);
    }

    #[test]
    fn each_caller_turn_opens_a_window_with_the_turn_before_and_the_reply_after_it() {
        let turns = [
            turn(0, Role::Agent, Some("Hi, how can I help?"), 0),
            turn(1, Role::User, Some("I need to move my appointment."), 4),
            turn(2, Role::Agent, None, 6),
            turn(3, Role::Agent, Some("To which day?"), 8),
            turn(4, Role::User, Some("Friday, please."), 11),
            turn(5, Role::User, Some("  "), 12),
            turn(6, Role::Agent, Some("Done."), 14),
        ];
        let episodes = EpisodeWindows::default().cut(&turns, 1_000_000);
        assert_eq!(episodes.len(), 2);
        assert_eq!(episodes[0].turn_indexes, [0, 1, 3]);
        assert_eq!(
            episodes[0].content,
            "agent: Hi, how can I help?\ncaller: I need to move my appointment.\nagent: To which day?"
        );
        assert_eq!(episodes[0].said_at, 1_004_000);
        assert_eq!(episodes[1].turn_indexes, [3, 4, 6]);
        assert_eq!(episodes[1].said_at, 1_011_000);
    }

    #[test]
    fn context_is_configurable_and_a_call_without_caller_speech_has_none() {
        let turns = [
            turn(0, Role::Agent, Some("a"), 0),
            turn(1, Role::User, Some("b"), 1),
            turn(2, Role::Agent, Some("c"), 2),
            turn(3, Role::User, Some("d"), 3),
        ];
        let window = |context_turns, reply_turns| EpisodeWindows {
            context_turns,
            reply_turns,
        };
        let wide = window(2, 0).cut(&turns, 0);
        assert_eq!(wide[1].turn_indexes, [1, 2, 3]);
        let alone = window(0, 0).cut(&turns, 0);
        assert_eq!(alone[0].content, "caller: b");
        let replied = window(0, 2).cut(&turns, 0);
        assert_eq!(replied[0].content, "caller: b\nagent: c");
        assert_eq!(replied[1].turn_indexes, [3]);
        assert!(EpisodeWindows::default().cut(&turns[..1], 0).is_empty());
    }

    #[test]
    fn the_reply_is_kept_but_not_searched() {
        let episode = "agent: Which day?\ncaller: Friday, caller: me\nagent: Booked: Friday.";
        assert_eq!(
            searchable_text(episode),
            "agent: Which day?\ncaller: Friday, caller: me"
        );
        assert_eq!(searchable_lines(episode), 2);
        assert_eq!(spoken_text(episode), "Which day?\nFriday, caller: me");
        assert_eq!(
            searchable_text("A fact.\nOn two lines."),
            "A fact.\nOn two lines."
        );
        assert_eq!(searchable_text("caller: Hi"), "caller: Hi");
    }

    #[test]
    fn lines_split_into_speaker_and_text() {
        let lines: Vec<_> = episode_lines("agent: Which day?\ncaller: Friday: at 3").collect();
        assert_eq!(lines, [("agent", "Which day?"), ("caller", "Friday: at 3")]);
        assert_eq!(episode_lines("no label").next(), Some(("", "no label")));
        assert_eq!(
            spoken_text("agent: Which day?\ncaller: Friday"),
            "Which day?\nFriday"
        );
        for kind in MemoryKind::ALL {
            assert_eq!(kind.as_str().parse::<MemoryKind>(), Ok(kind));
        }
    }
}
