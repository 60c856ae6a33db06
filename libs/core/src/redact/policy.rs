//! The redaction policy: for each field memvox writes and each kind of personal data, whether
//! it is kept, masked or dropped.
//!
//! * `keep`: stored as said.
//! * `mask`: replaced by the kind's placeholder (`[card number]`, `[email]`, …), so what else
//!   was said still reads.
//! * `drop`: in a transcript turn, a summary, an episode or an analysis result the span is
//!   removed without a placeholder (with the space before it); a memory holding it is not
//!   stored at all — a fact about a card number is the card number.

use std::borrow::Cow;
use std::convert::Infallible;

use super::kinds::{Field, Mode, PiiKind};
use super::{Finding, find};

/// The mode of every kind in one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldPolicy {
    modes: [Mode; PiiKind::ALL.len()],
}

impl FieldPolicy {
    /// The same mode for every kind.
    pub const fn uniform(mode: Mode) -> Self {
        Self {
            modes: [mode; PiiKind::ALL.len()],
        }
    }

    /// This policy with `kind` set to `mode`.
    #[must_use]
    pub fn with(mut self, kind: PiiKind, mode: Mode) -> Self {
        self.modes[kind.index()] = mode;
        self
    }

    /// The mode of `kind`.
    pub fn mode(&self, kind: PiiKind) -> Mode {
        self.modes[kind.index()]
    }

    /// This policy with every `drop` read as `mask`: what an extractor may read of a call whose
    /// memories this policy screens (a memory citing a dropped kind's placeholder is refused).
    #[must_use]
    pub fn masking_drops(mut self) -> Self {
        for mode in &mut self.modes {
            if *mode == Mode::Drop {
                *mode = Mode::Mask;
            }
        }
        self
    }

    fn keeps_everything(&self) -> bool {
        self.modes.iter().all(|mode| *mode == Mode::Keep)
    }

    /// `text` with each finding kept, masked or dropped as this policy says; borrowed when
    /// nothing changes.
    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.keeps_everything() {
            return Cow::Borrowed(text);
        }
        let Ok(out) = self.settle(text, find(text), |_| Ok::<(), Infallible>(()));
        out
    }

    /// A memory's content under this policy: `Err` with the kind when it holds data (or the
    /// placeholder of data) of a kind this policy drops — the memory is then not stored —
    /// else the content with the other kinds masked as [`apply`](Self::apply) does.
    ///
    /// # Errors
    /// The first dropped kind found.
    pub fn screen<'a>(&self, text: &'a str) -> Result<Cow<'a, str>, PiiKind> {
        if self.keeps_everything() {
            return Ok(Cow::Borrowed(text));
        }
        if let Some(kind) = PiiKind::ALL
            .into_iter()
            .find(|kind| self.mode(*kind) == Mode::Drop && kind.placeholder_in(text))
        {
            return Err(kind);
        }
        // Each pass is checked, not only the first: masking one kind can leave text that a
        // detector then reads as a dropped kind, which a memory must not hold either.
        self.settle(text, find(text), |found| {
            match found.iter().find(|f| self.mode(f.kind) == Mode::Drop) {
                Some(finding) => Err(finding.kind),
                None => Ok(()),
            }
        })
    }

    /// Every string of a JSON value (values and rationales of an analysis) under
    /// [`apply`](Self::apply); keys are left as they are.
    pub fn apply_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if let Cow::Owned(redacted) = self.apply(text) {
                    *text = redacted;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.apply_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.apply_json(v)),
            _ => {}
        }
    }

    /// `text` rewritten for `found`, then again for what the result holds, until nothing
    /// changes: a dropped span joins the text around it, which can form personal data again
    /// ("765 Oak;765 Oak St" without its address is "765 Oak St"). Each pass that changes
    /// anything removes personal data; the bound only guards against a detector that keeps
    /// finding its own output. `check` sees the findings of every pass before they are
    /// rewritten, and its error ends the rewriting.
    fn settle<'a, E>(
        &self,
        text: &'a str,
        found: Vec<Finding>,
        mut check: impl FnMut(&[Finding]) -> Result<(), E>,
    ) -> Result<Cow<'a, str>, E> {
        const MAX_PASSES: usize = 8;
        check(&found)?;
        let mut out = self.rewrite(text, &found);
        for _ in 1..MAX_PASSES {
            let Cow::Owned(current) = &out else {
                break;
            };
            let found = find(current);
            check(&found)?;
            match self.rewrite(current, &found) {
                Cow::Owned(next) => out = Cow::Owned(next),
                Cow::Borrowed(_) => break,
            }
        }
        Ok(out)
    }

    fn rewrite<'a>(&self, text: &'a str, found: &[Finding]) -> Cow<'a, str> {
        let mut out: Option<String> = None;
        let mut at = 0;
        for finding in found {
            let mode = self.mode(finding.kind);
            if mode == Mode::Keep {
                continue;
            }
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            let before = &text[at..finding.start];
            at = finding.end;
            if mode == Mode::Mask {
                out.push_str(before);
                out.push_str(finding.placeholder);
                continue;
            }
            // Drop: the span goes with the spaces before it; a space still separates the words
            // around it.
            let trimmed = before.trim_end_matches(' ');
            out.push_str(trimmed);
            if trimmed.len() < before.len() || out.is_empty() {
                let rest = &text[at..];
                let rest_trimmed = rest.trim_start_matches(' ');
                at += rest.len() - rest_trimmed.len();
                if !out.is_empty() && rest_trimmed.starts_with(char::is_alphanumeric) {
                    out.push(' ');
                }
            }
        }
        match out {
            Some(mut out) => {
                out.push_str(&text[at..]);
                Cow::Owned(out)
            }
            None => Cow::Borrowed(text),
        }
    }
}

/// The policy of every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedactionPolicy {
    fields: [FieldPolicy; Field::ALL.len()],
}

impl RedactionPolicy {
    /// The same policy in every field.
    pub const fn uniform(policy: FieldPolicy) -> Self {
        Self {
            fields: [policy; Field::ALL.len()],
        }
    }

    /// This policy with `field`'s set to `policy`.
    #[must_use]
    pub fn with_field(mut self, field: Field, policy: FieldPolicy) -> Self {
        self.fields[field as usize] = policy;
        self
    }

    /// The policy of `field`.
    pub fn field(&self, field: Field) -> FieldPolicy {
        self.fields[field as usize]
    }
}

impl Default for RedactionPolicy {
    /// Cards and national ids masked everywhere, the rest kept.
    fn default() -> Self {
        let defaults = PiiKind::ALL
            .into_iter()
            .fold(FieldPolicy::uniform(Mode::Keep), |policy, kind| {
                policy.with(kind, kind.default_mode())
            });
        Self::uniform(defaults)
    }
}

#[cfg(test)]
mod tests;
