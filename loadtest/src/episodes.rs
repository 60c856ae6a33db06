//! The episodes of a generated user's calls, in proportion to their facts.
//!
//! A call of ~30 turns gives one episode per caller turn (~15) and, with an LLM extractor,
//! a handful of facts; the default proportion is [`DEFAULT_EPISODES_PER_FACT`] episodes per
//! fact, [`EPISODES_PER_CALL`] to a call, so a caller with 10,000 facts has 2,000 calls and
//! 30,000 episodes. Each episode is shaped as the extraction worker cuts them (the agent's
//! turn before, the caller's turn, the agent's reply after), cites its call and turns, and is
//! said at its call's time plus the turn's offset.

use memvox_core::episode::EpisodeWindows;
use memvox_core::{Role, Turn};
use rand::Rng as _;
use rand::rngs::StdRng;

use crate::population::{fill, pick};

/// Episodes per fact when the command line does not say.
pub const DEFAULT_EPISODES_PER_FACT: usize = 3;
/// Episodes of one call (caller turns in ~30 turns).
pub const EPISODES_PER_CALL: usize = 15;
/// Seconds between two turns of a generated call.
const TURN_SECS: i64 = 6;

/// One generated episode.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedEpisode {
    /// Speaker-labelled lines, as the store holds them.
    pub content: String,
    /// The call it came from.
    pub conversation_id: String,
    /// Transcript indexes of its turns.
    pub turn_indexes: Vec<u32>,
    /// When its caller turn was said.
    pub said_at: i64,
}

/// `count` episodes of user `user_id`, in calls of [`EPISODES_PER_CALL`] spread between
/// `since` and `now`.
pub fn episodes(
    rng: &mut StdRng,
    user_id: &str,
    count: usize,
    since: i64,
    now: i64,
) -> Vec<GeneratedEpisode> {
    let windows = EpisodeWindows::default();
    let mut out = Vec::with_capacity(count);
    let mut call = 0;
    while out.len() < count {
        let started_at = rng.random_range(since..now.max(since + 1));
        let turns = call_turns(rng, (count - out.len()).min(EPISODES_PER_CALL));
        let conversation_id = format!("conv_{user_id}_{call:05}");
        out.extend(
            windows
                .cut(&turns, started_at)
                .into_iter()
                .map(|episode| GeneratedEpisode {
                    content: episode.content,
                    conversation_id: conversation_id.clone(),
                    turn_indexes: episode.turn_indexes,
                    said_at: episode.said_at,
                }),
        );
        call += 1;
    }
    out.truncate(count);
    out
}

/// A call whose caller speaks `caller_turns` times, each turn between two agent turns.
fn call_turns(rng: &mut StdRng, caller_turns: usize) -> Vec<Turn> {
    let mut turns = Vec::with_capacity(caller_turns * 2 + 1);
    let mut push = |role: Role, message: String| {
        let index = turns.len() as u32;
        turns.push(Turn {
            index,
            role,
            message: Some(message),
            time_in_call_secs: i64::from(index) * TURN_SECS,
        });
    };
    let mut line = |templates: &[&str]| {
        let template = pick(rng, templates);
        fill(rng, template)
    };
    push(Role::Agent, line(AGENT));
    for _ in 0..caller_turns {
        push(Role::User, line(CALLER));
        push(Role::Agent, line(AGENT));
    }
    turns
}

const AGENT: &[&str] = &[
    "How can I help you today?",
    "Could you confirm your date of birth for me?",
    "Which day suits you best?",
    "I can offer {day} at {hour}:00. Would that work?",
    "Booked: {day} at {hour}:00 with Dr {name}.",
    "Order {order} is on its way, due {day}.",
    "I've updated your address to {city}.",
    "Is there anything else I can help with?",
    "Sorry, could you say that again?",
    "Thanks for waiting.",
];
const CALLER: &[&str] = &[
    "Hi, it's about order {order}, {product}.",
    "I need to move my appointment to {day}, if possible.",
    "My daughter {name} starts school in {city} next week.",
    "We've moved, it's {city} now.",
    "I'm allergic to {food}, please note that.",
    "{product} stopped working after {number} hours.",
    "Please contact me by {channel} from now on.",
    "We've got {pet}, so deliveries before {hour} are best.",
    "That works, thank you.",
    "No, that's all, thanks.",
    "Yes, {day} is fine.",
    "I got the refund of {number} pounds, thanks.",
];

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng as _;

    #[test]
    fn episodes_come_in_calls_shaped_as_the_worker_cuts_them() {
        let mut rng = StdRng::seed_from_u64(7);
        let episodes = episodes(&mut rng, "load_u1", 40, 1_000_000, 2_000_000);
        assert_eq!(episodes.len(), 40);
        let calls: std::collections::BTreeSet<&str> = episodes
            .iter()
            .map(|e| e.conversation_id.as_str())
            .collect();
        assert_eq!(calls.len(), 3, "15 + 15 + 10");
        let first = &episodes[0];
        assert_eq!(first.turn_indexes, [0, 1, 2]);
        let lines: Vec<&str> = first.content.lines().collect();
        assert!(lines[0].starts_with("agent: ") && lines[1].starts_with("caller: "));
        assert!(lines[2].starts_with("agent: "), "the reply");
        assert!((1_000_000..2_000_000 + 200_000).contains(&first.said_at));
    }
}
