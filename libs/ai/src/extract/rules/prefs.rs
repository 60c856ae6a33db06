//! Caller rules for how the caller wants to be treated: contact channel, call windows, times of
//! day, language, standing instructions (procedural), and likes and dislikes (semantic).
//!
//! Owns the preference half of the caller rule table. Invariants: a one-off request is not a
//! standing preference ("email me the invoice" is not "Prefers email"; "email me instead" and
//! "just text me" are); contact channels are written in one wording per channel ("Prefers
//! email", "Prefers text messages", "Prefers phone calls") so repeats are recognised.

use memvox_core::Sector::{Procedural, Semantic};

use super::pattern::{Draft, Hit, Rule, rule};
use super::render::{Speaker, capitalise, join};

const CHANNEL: &str = r"emails?|e mails?|texts?|text messages?|texting|sms|phone calls?|a phone call|a call|calls|calling|the phone|phone";
const TIME: &str = r"(?:\d{1,2}(?::\d{2})?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midday|lunch|lunchtime)(?: (?:am|pm|o'clock|oclock|in the morning|in the evening|at night))?";
const DAYPART: &str = r"mornings?|afternoons?|evenings?";
const LANGUAGE: &str = r"english|spanish|french|german|portuguese|italian|mandarin|cantonese|chinese|vietnamese|korean|japanese|arabic|hindi|russian|polish|tagalog";
/// Words after "email me" / "text me" that make it a standing preference.
const STANDING: &[&str] = &[
    "instead",
    "from now on",
    "going forward",
    "in the future",
    "rather",
    "next time",
    "anytime",
    "whenever",
    "not call",
    "only",
];
/// Objects of "I love …" that are small talk, not a preference.
const VAGUE_OBJECTS: &[&str] = &[
    "it", "that", "this", "them", "to", "when", "how", "what", "you", "your", "the way", "a",
];

/// The preference rules, specific before generic.
pub(crate) fn rules() -> Vec<Rule> {
    vec![
        rule(
            &format!(
                r"\b(?:do not|never) (?:call|phone|ring)(?: me)? (?P<dir>before|until|earlier than|after|later than|past) (?P<v>{TIME})"
            ),
            window,
        ),
        rule(
            &format!(
                r"\bi am not (?:available|free|reachable) (?P<dir>before|until|after|past) (?P<v>{TIME})"
            ),
            window,
        ),
        rule(
            &format!(
                r"\b(?:only call(?: me)?|call(?: me)? only) (?P<dir>after|before) (?P<v>{TIME})"
            ),
            only_call,
        ),
        rule(
            r"^(?:do not|never|stop) (?P<verb>call|calling|phone|ring|email|emailing|e mail|text|texting|message|messaging) me(?P<tail>.*)$",
            refuse_channel,
        ),
        rule(
            r"^(?P<ch>email|e mail|text|message) me(?P<tail>.*)$",
            imperative_channel,
        ),
        rule(r"^call me (?:instead|from now on|going forward)", |_| {
            prefers("phone")
        }),
        rule(
            r"^send (?:me )?(?:it |everything |things |updates |stuff |that )?(?:by|via|over|through) (?P<ch>email|text)",
            |h| prefers(h.word("ch").unwrap_or_default()),
        ),
        rule(
            &format!(
                r"\bi (?:would )?prefer (?:to be (?:contacted|reached) )?(?:(?:by|via|through|getting|to get) )?(?P<ch>{CHANNEL})\b"
            ),
            |h| prefers(h.word("ch").unwrap_or_default()),
        ),
        rule(
            &format!(
                r"\b(?P<ch>{CHANNEL}|texting) (?:is|are|works|would be) (?:best|better|easier|easiest|preferred)\b"
            ),
            |h| prefers(h.word("ch").unwrap_or_default()),
        ),
        rule(
            &format!(r"\bthe best way to reach me is (?:by |via |through )?(?P<ch>{CHANNEL})\b"),
            |h| prefers(h.word("ch").unwrap_or_default()),
        ),
        rule(
            &format!(
                r"\b(?P<w>weekday |weekend )?(?P<v>{DAYPART}) (?:are|is|work|works) (?:best|better|good|great|easier|ideal)\b"
            ),
            daypart,
        ),
        rule(
            &format!(
                r"\bi (?:would )?prefer (?:an? |the )?(?P<w>weekday |weekend )?(?P<v>{DAYPART})\b"
            ),
            daypart,
        ),
        rule(
            &format!(
                r"\bi am (?:only )?(?:available|free|around|home) (?:in the |during the |on )?(?P<w>weekday |weekend )?(?P<v>{DAYPART})\b"
            ),
            available,
        ),
        rule(
            &format!(r"\bi (?:would )?prefer (?:to speak |speaking )?(?:in )?(?P<v>{LANGUAGE})\b"),
            language,
        ),
        rule(
            &format!(r"\bi (?:only )?speak (?P<v>{LANGUAGE})\b"),
            language,
        ),
        rule(r"^(?P<adv>always|never) (?P<rest>\S+ .+)$", instruction),
        rule(
            r"\bi (?:really |also )?(?P<verb>love|like|enjoy) (?P<v>\S.*)$",
            |h| taste(h, "Likes"),
        ),
        rule(
            r"\bi (?:really )?(?P<verb>hate|dislike|can not stand|do not like) (?P<v>\S.*)$",
            |h| taste(h, "Dislikes"),
        ),
    ]
}

/// One wording per channel, so the same preference said twice is the same text.
fn prefers(channel: &str) -> Vec<Draft> {
    let text = if channel.contains("mail") {
        "Prefers email"
    } else if channel.contains("text") || channel == "sms" || channel == "message" {
        "Prefers text messages"
    } else if channel.is_empty() {
        return Vec::new();
    } else {
        "Prefers phone calls"
    };
    vec![Draft::new(text, Procedural, 0.8)]
}

fn imperative_channel(h: &Hit) -> Vec<Draft> {
    let tail = h.word("tail").unwrap_or_default().trim();
    if tail.is_empty() || STANDING.iter().any(|w| tail.contains(w)) {
        prefers(h.word("ch").unwrap_or_default())
    } else {
        Vec::new()
    }
}

/// "don't call me" → no phone calls; "don't call me at work" → that instruction as said.
fn refuse_channel(h: &Hit) -> Vec<Draft> {
    let verb = h.word("verb").unwrap_or_default();
    let tail = h.word("tail").unwrap_or_default().trim();
    let what = if verb.contains("mail") {
        "emails"
    } else if verb.starts_with("text") || verb.starts_with("messag") {
        "text messages"
    } else {
        "phone calls"
    };
    if tail.is_empty() || ["anymore", "at all", "again", "ever"].contains(&tail) {
        return vec![Draft::new(
            &format!("Does not want {what}"),
            Procedural,
            0.8,
        )];
    }
    let rest = join(&h.rest("tail", Speaker::Caller));
    let base = match what {
        "emails" => "Do not email them",
        "text messages" => "Do not text them",
        _ => "Do not call them",
    };
    vec![Draft::new(&format!("{base} {rest}"), Procedural, 0.7)]
}

fn window(h: &Hit) -> Vec<Draft> {
    let time = join(h.tokens("v"));
    let direction = match h.word("dir") {
        Some("after" | "later than" | "past") => "after",
        _ => "before",
    };
    vec![Draft::new(
        &format!("Do not call {direction} {time}"),
        Procedural,
        0.7,
    )]
}

fn only_call(h: &Hit) -> Vec<Draft> {
    let time = join(h.tokens("v"));
    let direction = h.word("dir").unwrap_or("after");
    vec![Draft::new(
        &format!("Call only {direction} {time}"),
        Procedural,
        0.7,
    )]
}

/// "mornings are best if someone needs to call me back" → "Prefers mornings for callbacks".
fn daypart(h: &Hit) -> Vec<Draft> {
    let Some(part) = h.word("v") else {
        return Vec::new();
    };
    let singular = part.trim_end_matches('s');
    let week = h.word("w").unwrap_or_default();
    let text = &h.clause.text;
    let content = if ["appointment", "visit", "slot", "deliver"]
        .iter()
        .any(|w| text.contains(w))
    {
        format!("Prefers {week}{singular} appointments")
    } else if ["call", "reach", "contact"]
        .iter()
        .any(|w| text.contains(w))
    {
        format!("Prefers {week}{singular}s for callbacks")
    } else {
        format!("Prefers {week}{singular}s")
    };
    vec![Draft::new(&content, Procedural, 0.7)]
}

fn available(h: &Hit) -> Vec<Draft> {
    let Some(part) = h.word("v") else {
        return Vec::new();
    };
    let week = h.word("w").unwrap_or_default();
    let singular = part.trim_end_matches('s');
    vec![Draft::new(
        &format!("Available in the {week}{singular}s"),
        Procedural,
        0.6,
    )]
}

fn language(h: &Hit) -> Vec<Draft> {
    let Some(language) = h.word("v") else {
        return Vec::new();
    };
    vec![Draft::new(
        &format!("Prefers to speak {}", capitalise(language)),
        Procedural,
        0.8,
    )]
}

fn instruction(h: &Hit) -> Vec<Draft> {
    let Some(adverb) = h.word("adv") else {
        return Vec::new();
    };
    let rest = join(&h.rest("rest", Speaker::Caller));
    vec![Draft::new(&format!("{adverb} {rest}"), Procedural, 0.7)]
}

fn taste(h: &Hit, label: &str) -> Vec<Draft> {
    let object = h.word("v").unwrap_or_default();
    if VAGUE_OBJECTS
        .iter()
        .any(|v| object == *v || object.starts_with(&format!("{v} ")))
    {
        return Vec::new();
    }
    let mut value = h.rest("v", Speaker::Caller);
    if let Some(pause) = value.iter().skip(1).position(|t| t.pause) {
        value.truncate(pause + 1);
    }
    value.truncate(8);
    if value.is_empty() {
        return Vec::new();
    }
    let label = if h.word("verb") == Some("love") && label == "Likes" {
        "Loves"
    } else {
        label
    };
    vec![Draft::new(
        &format!("{label} {}", join(&value)),
        Semantic,
        0.4,
    )]
}
