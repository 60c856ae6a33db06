//! The machinery of the rule tables: a pattern over a clause's canonical text, and a builder
//! that writes memory drafts from what it matched.
//!
//! Owns [`Rule`], [`Hit`] and [`first_match`]. Invariants: rules are tried in table order and
//! the first one that produces drafts wins the clause (specific phrasings come before generic
//! ones, so one sentence is never remembered twice in two wordings); a match preceded in its
//! clause by a hypothetical marker ("if", "suppose", "maybe", "thinking about") produces
//! nothing, so "if I were to move to Austin" is never remembered as a move.

use memvox_core::Sector;
use regex::{Captures, Regex};

use super::render::{self, Speaker};
use super::speech::{Clause, Token};

/// Words that, before a match, make what follows hypothetical.
const HYPOTHETICAL: &[&str] = &[
    "if",
    "suppose",
    "supposing",
    "imagine",
    "hypothetically",
    "whether",
    "unless",
    "wonder",
    "wondering",
    "maybe",
    "perhaps",
    "might",
    "considering",
    "thinking",
    "planning",
    "hoping",
];

/// A memory a rule proposes, before dedupe and ops.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    /// Third-person text, finished (capitalised, bounded).
    pub content: String,
    /// Kind of memory.
    pub sector: Sector,
    /// Importance in `[0, 1]`.
    pub salience: f64,
}

impl Draft {
    /// A draft whose text is finished here.
    pub fn new(content: &str, sector: Sector, salience: f64) -> Self {
        Self {
            content: render::finish(content),
            sector,
            salience,
        }
    }
}

/// What a builder sees: the clause, the match, and the call's date.
pub(crate) struct Hit<'a> {
    /// The clause matched.
    pub clause: &'a Clause,
    /// The pattern's captures over `clause.text`.
    pub caps: Captures<'a>,
    /// The call's date, `YYYY-MM-DD`, for memories about the call itself.
    pub call_date: &'a str,
}

impl Hit<'_> {
    /// The canonical text of a named group, if it matched.
    pub fn word(&self, name: &str) -> Option<&str> {
        self.caps.name(name).map(|m| m.as_str())
    }

    /// Tokens of a named group, exactly.
    pub fn tokens(&self, name: &str) -> &[Token] {
        match self.caps.name(name) {
            Some(m) => self.clause.span(m.start(), m.end()),
            None => &[],
        }
    }

    /// The value that starts where a named group starts, cut by [`render::value_from`].
    pub fn value(&self, name: &str, max: usize) -> Vec<Token> {
        match self.caps.name(name) {
            Some(m) => {
                render::value_from(&self.clause.tokens, self.clause.token_at(m.start()), max)
            }
            None => Vec::new(),
        }
    }

    /// A list value ("peanuts, shellfish and eggs") that starts where a named group starts.
    pub fn value_list(&self, name: &str) -> Vec<Token> {
        match self.caps.name(name) {
            Some(m) => render::list_from(&self.clause.tokens, self.clause.token_at(m.start())),
            None => Vec::new(),
        }
    }

    /// Tokens from where a named group starts to the end of the clause, in third person.
    pub fn rest(&self, name: &str, speaker: Speaker) -> Vec<Token> {
        match self.caps.name(name) {
            Some(m) => {
                let from = self.clause.token_at(m.start());
                render::third_person(&self.clause.tokens[from..], speaker)
            }
            None => Vec::new(),
        }
    }
}

/// One phrasing and what to remember from it.
pub(crate) struct Rule {
    re: Regex,
    build: fn(&Hit) -> Vec<Draft>,
}

/// A rule from a pattern literal.
pub(crate) fn rule(pattern: &str, build: fn(&Hit) -> Vec<Draft>) -> Rule {
    Rule {
        // Patterns are literals of the rule tables; each table has a test that builds it.
        re: Regex::new(pattern).expect("rule pattern compiles"),
        build,
    }
}

/// Drafts from the first rule of `rules` that matches `clause` and yields something.
pub(crate) fn first_match(rules: &[Rule], clause: &Clause, call_date: &str) -> Vec<Draft> {
    for rule in rules {
        let Some(caps) = rule.re.captures(&clause.text) else {
            continue;
        };
        let start = caps.get(0).map_or(0, |m| m.start());
        let before = &clause.tokens[..clause.token_at(start)];
        if before
            .iter()
            .any(|t| HYPOTHETICAL.contains(&t.norm.as_str()))
        {
            return Vec::new();
        }
        let hit = Hit {
            clause,
            caps,
            call_date,
        };
        let drafts = (rule.build)(&hit);
        if !drafts.is_empty() {
            return drafts;
        }
    }
    Vec::new()
}
