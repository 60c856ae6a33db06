//! Caller rules for who the caller is: name, place, work, tools, health, family, contact
//! details. All semantic memories.
//!
//! Owns the fact half of the caller rule table. Invariants: only first-person statements count
//! ("my wife is allergic to shellfish" is about the wife, never "Allergic to shellfish"); past
//! tense does not become present ("I lived in Denver" is not "Lives in Denver"); names and
//! places keep the caller's capitals, or are capitalised when the transcript is lower case.

use memvox_core::{Sector::Semantic, text::is_weekday};

use super::pattern::{Draft, Hit, Rule, rule};
use super::render::{Speaker, article, join, list_items, proper};
use super::speech::Token;

/// Words that follow "this is" or "call me" but are not names.
const NOT_NAMES: &[&str] = &[
    "me",
    "it",
    "that",
    "this",
    "the",
    "a",
    "an",
    "my",
    "your",
    "not",
    "so",
    "really",
    "very",
    "about",
    "for",
    "great",
    "fine",
    "good",
    "ok",
    "okay",
    "important",
    "urgent",
    "ridiculous",
    "back",
    "later",
    "tomorrow",
    "today",
    "tonight",
    "anytime",
    "again",
    "now",
    "soon",
    "when",
    "if",
    "at",
    "on",
    "in",
    "after",
    "before",
    "sometime",
    "whenever",
    "instead",
];

/// Whether a word follows "this is" or "call me" without being a name: one of [`NOT_NAMES`] or
/// a weekday.
fn not_a_name(token: &Token) -> bool {
    NOT_NAMES.contains(&token.norm.as_str()) || is_weekday(&token.norm)
}

const RELATIONS: &str = "son in law|daughter in law|mother in law|father in law|granddaughter|grandson|grandkids|grandchildren|daughter|son|wife|husband|partner|spouse|mother|mom|father|dad|sister|brother|kids|children|boyfriend|girlfriend|fiance|fiancee|caregiver|dog|cat|puppy|kitten|boss";
/// Verbs and links that may follow "my daughter" in a statement about her.
const RELATION_VERBS: &[&str] = &[
    "is",
    "was",
    "has",
    "had",
    "works",
    "lives",
    "started",
    "starts",
    "goes",
    "needs",
    "will",
    "takes",
    "uses",
    "loves",
    "likes",
    "hates",
    "does",
    "got",
    "gets",
    "can",
    "moved",
    "turned",
    "'s",
    "recently",
    "passed",
    "graduated",
    "broke",
    "just",
    "also",
];
const CONDITIONS: &str = "type (?:1|2|one|two) diabetes|diabetes|asthma|high blood pressure|arthritis|celiac disease|copd|a heart condition|epilepsy|sleep apnea";
const STATES: &str = "diabetic|pregnant|hard of hearing|deaf|blind|vegetarian|vegan|gluten free|lactose intolerant|hearing impaired|visually impaired";

/// The fact rules, specific before generic.
pub(crate) fn rules() -> Vec<Rule> {
    vec![
        rule(
            r"\bmy (?:(?P<kind>first|last|full) )?name is (?P<v>\S+)",
            name,
        ),
        rule(
            r"^(?:this|it) is (?P<v>[a-z]+(?: [a-z]+)??)(?P<suffix> (?:speaking|calling|here|again))?$",
            this_is,
        ),
        rule(
            r"\b(?:i go by|call me|you can call me) (?P<v>[a-z]+)$",
            goes_by,
        ),
        rule(r"\bi (?:do not|no longer) live in (?P<v>\S+)", |h| {
            place(h, "No longer lives in")
        }),
        rule(
            r"\bi (?:am )?(?:live|living|based|located|residing|reside) in (?P<v>\S+)",
            |h| place(h, "Lives in"),
        ),
        rule(
            r"\b(?:i|we) (?:have |had )?(?:moved|relocated) (?:over |back |out )?to (?P<v>\S+)",
            |h| place(h, "Moved to"),
        ),
        rule(r"\bi am (?:originally )?from (?P<v>\S+)", |h| {
            place(h, "Is from")
        }),
        rule(r"\bi no longer work (?:at|for) (?P<v>\S+)", |h| {
            employer(h, "No longer works at")
        }),
        rule(
            r"\bi (?:work|am working|have been working) (?:at|for) (?P<v>\S+)",
            |h| employer(h, "Works at"),
        ),
        rule(
            r"\bi (?:started|am starting|have started) (?:a new job |working )?at (?P<v>\S+)",
            |h| employer(h, "Works at"),
        ),
        rule(r"\bi work as (?:an? )?(?P<v>\S+)", occupation),
        rule(r"\bmy pharmacy is (?P<v>\S+)", |h| {
            pharmacy(h, "Pharmacy is")
        }),
        rule(
            r"\bi (?:have )?(?:switched|moved|changed|transferred) (?:my )?(?:prescriptions?|refills?|pharmacy) (?:over )?to (?P<v>\S+)",
            |h| pharmacy(h, "Moved prescriptions to"),
        ),
        rule(r"\bi (?:have )?switched to (?P<v>.+ pharmacy)\b", |h| {
            pharmacy(h, "Uses")
        }),
        rule(r"\bi am not allergic to (?P<v>\S+)", |h| {
            allergy(h, "Not allergic to", 0.7)
        }),
        rule(
            r"\bi am (?:(?:very|really|severely|highly|deathly|extremely|so|also) )*allergic to (?P<v>\S+)",
            |h| allergy(h, "Allergic to", 0.9),
        ),
        rule(r"\bi have an? (?P<v>\S+(?: \S+)?) allergy\b", allergy_noun),
        rule(&format!(r"\bi (?:have|got) (?P<v>{CONDITIONS})\b"), |h| {
            health(h, "Has")
        }),
        rule(&format!(r"\bi am (?P<v>{STATES})\b"), |h| health(h, "Is")),
        rule(
            r"\bi take (?P<v>\S+(?: \S+){0,3}?) (?:every day|daily|each day|every morning|every night|twice a day|once a day|for my)\b",
            medication,
        ),
        rule(r"\bmy (?:email|e mail)(?: address)? is (?P<v>.+)$", email),
        rule(
            r"\bmy (?:(?:cell|mobile|home|work) )?(?:phone )?number is (?P<v>.+)$",
            phone,
        ),
        rule(r"\bmy birthday is (?P<v>\S+)", |h| {
            detail(h, "Birthday is", 4)
        }),
        rule(r"\bmy (?:new |home |mailing )?address is (?P<v>\S+)", |h| {
            detail(h, "Address is", 8)
        }),
        rule(
            &format!(r"^my (?P<rel>{RELATIONS}) (?:'s name is|is named|is called) (?P<v>\S+)"),
            relation_name,
        ),
        rule(
            &format!(r"^my (?P<rel>{RELATIONS}) (?P<rest>\S.*)$"),
            relation_fact,
        ),
        rule(
            r"\bi have (?P<n>a|an|one|two|three|four|five|\d+) (?P<rel>daughters?|sons?|kids|children|grandkids|grandchildren|dogs?|cats?)(?: named (?P<v>\S+))?",
            family_count,
        ),
        rule(
            r"\b(?:we|i) (?:use|are using|am using|have been using|switched to using) (?P<v>\S+)",
            tools,
        ),
        rule(
            r"\bour (?:company|team|office|business|practice|clinic) uses (?P<v>\S+)",
            tools,
        ),
    ]
}

fn name(h: &Hit) -> Vec<Draft> {
    let value = h.value("v", 3);
    if value.is_empty() || not_a_name(&value[0]) {
        return Vec::new();
    }
    let label = match h.word("kind") {
        Some("last") => "Last name is",
        _ => "Name is",
    };
    vec![Draft::new(
        &format!("{label} {}", proper(&value)),
        Semantic,
        0.8,
    )]
}

/// "this is Dana" counts only when "Dana" was capitalised or "speaking"/"calling" follows.
fn this_is(h: &Hit) -> Vec<Draft> {
    let value = h.tokens("v");
    let capitalised = value
        .first()
        .is_some_and(|t| t.text.starts_with(char::is_uppercase));
    let named = !value.iter().any(not_a_name);
    if !named || !(capitalised || h.word("suffix").is_some()) {
        return Vec::new();
    }
    vec![Draft::new(
        &format!("Name is {}", proper(value)),
        Semantic,
        0.8,
    )]
}

fn goes_by(h: &Hit) -> Vec<Draft> {
    let value = h.tokens("v");
    let capitalised = value
        .first()
        .is_some_and(|t| t.text.starts_with(char::is_uppercase));
    if !capitalised || value.iter().any(not_a_name) {
        return Vec::new();
    }
    vec![Draft::new(
        &format!("Goes by {}", proper(value)),
        Semantic,
        0.7,
    )]
}

fn place(h: &Hit, label: &str) -> Vec<Draft> {
    let value = h.value("v", 4);
    let Some(first) = value.first() else {
        return Vec::new();
    };
    let text = if matches!(first.norm.as_str(), "a" | "an" | "the") {
        join(&value)
    } else {
        proper(&value)
    };
    vec![Draft::new(&format!("{label} {text}"), Semantic, 0.7)]
}

fn employer(h: &Hit, label: &str) -> Vec<Draft> {
    let value = h.value("v", 5);
    if value.is_empty() || matches!(value[0].norm.as_str(), "home" | "night" | "it") {
        return Vec::new();
    }
    vec![Draft::new(
        &format!("{label} {}", proper(&value)),
        Semantic,
        0.6,
    )]
}

fn occupation(h: &Hit) -> Vec<Draft> {
    let value = h.value("v", 4);
    match value.first() {
        Some(first) => {
            let a = article(&first.text);
            vec![Draft::new(
                &format!("Works as {a} {}", join(&value)),
                Semantic,
                0.6,
            )]
        }
        None => Vec::new(),
    }
}

/// "the Elm Street pharmacy" however it was said: "to the elm street pharmacy", "to Elm Street".
fn pharmacy(h: &Hit, label: &str) -> Vec<Draft> {
    let value = h.value("v", 6);
    let core: Vec<Token> = value
        .iter()
        .skip_while(|t| t.norm == "the")
        .take_while(|t| t.norm != "pharmacy")
        .cloned()
        .collect();
    if core.is_empty() {
        return Vec::new();
    }
    let name = proper(&core);
    vec![Draft::new(
        &format!("{label} the {name} pharmacy"),
        Semantic,
        0.8,
    )]
}

fn allergy(h: &Hit, label: &str, salience: f64) -> Vec<Draft> {
    let value = h.value_list("v");
    list_items(&value)
        .iter()
        .map(|item| Draft::new(&format!("{label} {}", join(item)), Semantic, salience))
        .collect()
}

fn allergy_noun(h: &Hit) -> Vec<Draft> {
    let value = h.tokens("v");
    if value.is_empty() {
        return Vec::new();
    }
    vec![Draft::new(
        &format!("Allergic to {}", join(value)),
        Semantic,
        0.9,
    )]
}

fn health(h: &Hit, label: &str) -> Vec<Draft> {
    vec![Draft::new(
        &format!("{label} {}", join(h.tokens("v"))),
        Semantic,
        0.8,
    )]
}

fn medication(h: &Hit) -> Vec<Draft> {
    let rest = h.rest("v", Speaker::Caller);
    vec![Draft::new(&format!("Takes {}", join(&rest)), Semantic, 0.7)]
}

/// Spoken addresses: "dana at example dot com" → "dana@example.com".
fn email(h: &Hit) -> Vec<Draft> {
    let mut address = String::new();
    for token in h.tokens("v") {
        match token.norm.as_str() {
            "at" => address.push('@'),
            "dot" => address.push('.'),
            "underscore" => address.push('_'),
            "dash" | "hyphen" => address.push('-'),
            word => address.push_str(word),
        }
    }
    if !address.contains('@') {
        return Vec::new();
    }
    vec![Draft::new(&format!("Email is {address}"), Semantic, 0.7)]
}

fn phone(h: &Hit) -> Vec<Draft> {
    let digits: Vec<&str> = h
        .tokens("v")
        .iter()
        .map(|t| t.text.as_str())
        .take_while(|w| w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    if digits.is_empty() {
        return Vec::new();
    }
    vec![Draft::new(
        &format!("Phone number is {}", digits.join(" ")),
        Semantic,
        0.6,
    )]
}

fn detail(h: &Hit, label: &str, max: usize) -> Vec<Draft> {
    let value = h.value("v", max);
    if value.is_empty() {
        return Vec::new();
    }
    vec![Draft::new(
        &format!("{label} {}", join(&value)),
        Semantic,
        0.6,
    )]
}

fn relation_name(h: &Hit) -> Vec<Draft> {
    let value = h.value("v", 2);
    let Some(rel) = h.word("rel") else {
        return Vec::new();
    };
    if value.is_empty() {
        return Vec::new();
    }
    vec![Draft::new(
        &format!("{rel}'s name is {}", proper(&value)),
        Semantic,
        0.6,
    )]
}

/// "my wife is allergic to shellfish, not me" → "wife is allergic to shellfish" (up to a pause).
fn relation_fact(h: &Hit) -> Vec<Draft> {
    let mut rest = h.rest("rest", Speaker::Caller);
    if let Some(pause) = rest.iter().skip(1).position(|t| t.pause) {
        rest.truncate(pause + 1);
    }
    let (Some(rel), Some(first)) = (h.word("rel"), rest.first()) else {
        return Vec::new();
    };
    if rest.len() < 2 || !RELATION_VERBS.contains(&first.norm.as_str()) {
        return Vec::new();
    }
    let text = join(&rest);
    let glue = if first.norm == "'s" { "" } else { " " };
    vec![Draft::new(&format!("{rel}{glue}{text}"), Semantic, 0.6)]
}

fn family_count(h: &Hit) -> Vec<Draft> {
    let (Some(n), Some(rel)) = (h.word("n"), h.word("rel")) else {
        return Vec::new();
    };
    let named = h.value("v", 2);
    let mut text = format!("Has {n} {rel}");
    if !named.is_empty() {
        text.push_str(&format!(" named {}", proper(&named)));
    }
    vec![Draft::new(&text, Semantic, 0.6)]
}

fn tools(h: &Hit) -> Vec<Draft> {
    let value = h.value_list("v");
    if value.iter().any(|t| t.norm == "pharmacy") {
        return pharmacy(h, "Uses");
    }
    if value.first().is_none_or(|t| {
        matches!(
            t.norm.as_str(),
            "it" | "that" | "this" | "them" | "the" | "a"
        )
    }) {
        return Vec::new();
    }
    list_items(&value)
        .iter()
        .map(|item| Draft::new(&format!("Uses {}", proper(item)), Semantic, 0.5))
        .collect()
}
