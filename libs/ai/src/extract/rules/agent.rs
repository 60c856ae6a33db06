//! Agent rules: the only agent words worth remembering are actions it confirms it has done.
//!
//! Owns the agent rule table. Invariants: only completed actions count ("I've booked you for
//! Tuesday", "your refund has been processed"); offers, plans and questions ("I can book",
//! "I'll send", "shall I schedule") and everything else the agent says produce nothing; the
//! user becomes "them"/"their" and a "you" right after the verb is dropped ("sent you the
//! PDF" → "Sent the PDF").

use memvox_core::Sector::Episodic;

use super::pattern::{Draft, Hit, Rule, rule};
use super::render::{Speaker, join, third_person};
use super::speech::Token;

const DONE: &str = "booked|scheduled|rescheduled|sent|emailed|texted|cancelled|canceled|ordered|placed|set up|arranged|updated|changed|moved|added|submitted|processed|refunded|issued|renewed|transferred|reserved|mailed|filed|escalated|credited|applied|waived|noted|confirmed";
const THINGS: &str = "appointment|order|refund|prescription|refill|reservation|booking|payment|claim|request|ticket|subscription|account|callback|delivery|replacement";

/// The agent's confirmed-action rules.
pub(crate) fn rules() -> Vec<Rule> {
    vec![
        rule(
            &format!(
                r"^(?:i|we) (?:have )?(?:gone ahead and |went ahead and )?(?P<verb>{DONE}) (?P<rest>\S.*)$"
            ),
            action,
        ),
        rule(
            &format!(
                r"^your (?P<what>{THINGS}) (?:has been|is now|is|was) (?P<verb>{DONE})\b(?P<rest>.*)$"
            ),
            passive,
        ),
    ]
}

/// Words that say nothing about what was done: an action whose object is only these is a
/// confirmation ("I've noted that down"), not a memory.
const CONTENT_FREE: [&str; 14] = [
    "that",
    "it",
    "this",
    "these",
    "those",
    "them",
    "everything",
    "all",
    "down",
    "up",
    "now",
    "there",
    "for",
    "you",
];

fn action(h: &Hit) -> Vec<Draft> {
    let Some(verb) = h.word("verb") else {
        return Vec::new();
    };
    let mut rest: Vec<Token> = h.tokens("rest").to_vec();
    if rest.first().is_some_and(|t| t.norm == "you") {
        rest.remove(0);
    }
    // "I've noted that down", "I've updated it for you": nothing worth keeping.
    if rest.iter().all(|t| CONTENT_FREE.contains(&t.norm.as_str())) {
        return Vec::new();
    }
    let rest = join(&third_person(&rest, Speaker::Agent));
    vec![Draft::new(
        &format!("{verb} {rest} ({})", h.call_date),
        Episodic,
        0.6,
    )]
}

fn passive(h: &Hit) -> Vec<Draft> {
    let (Some(what), Some(verb)) = (h.word("what"), h.word("verb")) else {
        return Vec::new();
    };
    let rest = join(&third_person(h.tokens("rest"), Speaker::Agent));
    let text = format!("{what} {verb} {rest}");
    vec![Draft::new(
        &format!("{} ({})", text.trim_end(), h.call_date),
        Episodic,
        0.6,
    )]
}
