//! Caller rules for feelings (emotional) and for what is happening to the caller: why they
//! called, appointments, orders and other events (episodic).
//!
//! Owns the last part of the caller rule table. Invariants: a feeling is remembered with its
//! object ("Frustrated with the billing errors"), or, when it has none, as a feeling on this
//! call's date; mild pleasantries without an object ("I'm happy to hear that", "glad you
//! called") are small talk and produce nothing; intensifiers raise salience, hedges lower it.

use memvox_core::Sector::{Emotional, Episodic, Semantic};

use super::pattern::{Draft, Hit, Rule, rule};
use super::render::{Speaker, article, join};

const FEELINGS: &str = "frustrated|annoyed|irritated|upset|angry|mad|furious|disappointed|worried|concerned|anxious|nervous|stressed out|stressed|confused|overwhelmed|fed up|tired|sick|unhappy|dissatisfied|scared|sad|happy|glad|pleased|thrilled|delighted|relieved|grateful|thankful|satisfied|impressed|excited";
const INTENSIFIERS: &str = "really|so|very|extremely|super|pretty|quite|a bit|a little|getting|incredibly|totally|absolutely|kind of|sort of|still|also";
/// Feelings too mild to remember without something they are about.
const MILD: &[&str] = &[
    "happy",
    "glad",
    "pleased",
    "satisfied",
    "excited",
    "thankful",
    "grateful",
    "tired",
    "sick",
];
const EVENTS: &str = "appointment|order|package|delivery|refund|claim|prescription|refill|flight|reservation|payment|bill|invoice|subscription|account|insurance|policy|card|car";
const EVENT_VERBS: &[&str] = &[
    "is", "was", "has", "had", "still", "never", "did", "got", "will", "should", "keeps", "keep",
    "arrived", "came", "needs", "has not", "did not",
];

/// The feeling and event rules.
pub(crate) fn rules() -> Vec<Rule> {
    vec![
        rule(
            r"\bi am not (?:(?:very|really|too|that|at all) )*(?:happy|pleased|satisfied|thrilled) (?P<prep>with|about) (?P<v>\S.*)$",
            unhappy,
        ),
        rule(
            &format!(
                r"\b(?:i am|i feel|i am feeling|i have been|i was) (?P<int>(?:(?:{INTENSIFIERS}) )*)(?P<f>{FEELINGS})\b(?: (?P<prep>with|about|by|at|over|of|because of|because|that) (?P<v>\S.*))?"
            ),
            feeling,
        ),
        rule(
            r"^this is (?:(?:so|really|very|getting|absolutely) )*(?P<f>frustrating|annoying|ridiculous|unacceptable|infuriating|confusing)\b",
            this_is_feeling,
        ),
        rule(
            r"^i am calling (?P<prep>about|regarding|because|to ask about|to check on) (?P<v>\S.*)$",
            calling_about,
        ),
        rule(
            r"\bi (?:need|want|would like|am trying|was trying) to (?P<verb>book|schedule|reschedule|cancel|change|move|order|refill|renew|return|upgrade|downgrade|dispute) (?P<v>\S.*)$",
            wants_to,
        ),
        rule(&format!(r"^my (?P<what>{EVENTS}) (?P<rest>\S.*)$"), event),
        rule(
            r"\bi have an? (?P<v>(?:\S+ ){0,3}?(?:appointment|consultation|visit|surgery|procedure|check up|checkup|follow up)\b.*)$",
            has_event,
        ),
    ]
}

fn salience(intensity: &str) -> f64 {
    if ["a bit", "a little", "kind of", "sort of"]
        .iter()
        .any(|w| intensity.contains(w))
    {
        0.4
    } else if [
        "really",
        "so",
        "very",
        "extremely",
        "super",
        "incredibly",
        "absolutely",
        "totally",
    ]
    .iter()
    .any(|w| intensity.split_whitespace().any(|x| x == *w))
    {
        0.6
    } else {
        0.5
    }
}

fn unhappy(h: &Hit) -> Vec<Draft> {
    let object = join(&h.rest("v", Speaker::Caller));
    let prep = h.word("prep").unwrap_or("with");
    vec![Draft::new(
        &format!("Unhappy {prep} {object}"),
        Emotional,
        0.6,
    )]
}

fn feeling(h: &Hit) -> Vec<Draft> {
    let Some(feeling) = h.word("f") else {
        return Vec::new();
    };
    let salience = salience(h.word("int").unwrap_or_default());
    match (h.word("prep"), h.caps.name("v")) {
        (Some(prep), Some(_)) => {
            // "tired of" and "sick of" are feelings; "tired"/"sick" alone may be health.
            if matches!(feeling, "tired" | "sick") && prep != "of" {
                return Vec::new();
            }
            let object = join(&h.rest("v", Speaker::Caller));
            vec![Draft::new(
                &format!("{feeling} {prep} {object}"),
                Emotional,
                salience,
            )]
        }
        _ if MILD.contains(&feeling) => Vec::new(),
        _ => vec![Draft::new(
            &format!("Felt {feeling} on the {} call", h.call_date),
            Emotional,
            salience,
        )],
    }
}

fn this_is_feeling(h: &Hit) -> Vec<Draft> {
    let feeling = match h.word("f") {
        Some("annoying") => "annoyed",
        Some("confusing") => "confused",
        _ => "frustrated",
    };
    vec![Draft::new(
        &format!("Felt {feeling} on the {} call", h.call_date),
        Emotional,
        0.6,
    )]
}

fn calling_about(h: &Hit) -> Vec<Draft> {
    let prep = match h.word("prep") {
        Some("because") => "because",
        _ => "about",
    };
    let rest = join(&h.rest("v", Speaker::Caller));
    vec![Draft::new(
        &format!("Called {prep} {rest} on {}", h.call_date),
        Episodic,
        0.5,
    )]
}

fn wants_to(h: &Hit) -> Vec<Draft> {
    let Some(verb) = h.word("verb") else {
        return Vec::new();
    };
    let rest = join(&h.rest("v", Speaker::Caller));
    vec![Draft::new(
        &format!("Wanted to {verb} {rest} ({})", h.call_date),
        Episodic,
        0.5,
    )]
}

fn event(h: &Hit) -> Vec<Draft> {
    let rest = h.rest("rest", Speaker::Caller);
    let Some(what) = h.word("what") else {
        return Vec::new();
    };
    let opens = rest.first().map(|t| t.norm.as_str()).unwrap_or_default();
    let opens_two = rest
        .iter()
        .take(2)
        .map(|t| t.norm.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if rest.len() < 2
        || !(EVENT_VERBS.contains(&opens) || EVENT_VERBS.contains(&opens_two.as_str()))
    {
        return Vec::new();
    }
    let lasting = matches!(
        what,
        "subscription" | "account" | "insurance" | "policy" | "card" | "car"
    );
    let sector = if lasting { Semantic } else { Episodic };
    vec![Draft::new(&format!("{what} {}", join(&rest)), sector, 0.6)]
}

fn has_event(h: &Hit) -> Vec<Draft> {
    let rest = h.rest("v", Speaker::Caller);
    let Some(first) = rest.first() else {
        return Vec::new();
    };
    let a = article(&first.text);
    vec![Draft::new(
        &format!("Has {a} {}", join(&rest)),
        Episodic,
        0.6,
    )]
}
