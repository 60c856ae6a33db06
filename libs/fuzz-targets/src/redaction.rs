//! Target `redaction`: PII detection and the redaction policy (`memvox_core::redact`) over text
//! a caller said, as the extraction worker applies it to turns, summaries, analysis values and
//! memories.
//!
//! Input: the text (invalid UTF-8 replaced). Checks: findings are ordered, disjoint, non-empty
//! spans on character boundaries; masking everything replaces exactly the findings with their
//! placeholders (again over the result until nothing is found), and a detected value none of
//! whose occurrences is left whole between findings is gone from the output; dropping
//! everything leaves nothing the detectors find; `screen` refuses text with any
//! finding or placeholder under a drop policy, and otherwise equals `apply`; what `screen` keeps
//! under a policy dropping some kinds and masking the rest holds none of the dropped; the default policy
//! and `apply_json` (on the text read as JSON, when it is) never fail.

use memvox_core::redact::{FieldPolicy, Finding, Mode, PiiKind, RedactionPolicy, find};

/// Fuzzes redaction; see the module docs for the checks.
pub fn redaction(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let found = find(text);
    let mut at = 0;
    for finding in &found {
        assert!(
            finding.start >= at && finding.start < finding.end,
            "{found:?}"
        );
        assert!(text.is_char_boundary(finding.start) && text.is_char_boundary(finding.end));
        at = finding.end;
    }
    assert!(at <= text.len());

    let masked = FieldPolicy::uniform(Mode::Mask).apply(text);
    assert_eq!(
        masked,
        settled(text),
        "masking is not the findings replaced"
    );
    let dropped = FieldPolicy::uniform(Mode::Drop).apply(text);
    for finding in &found {
        let value = &text[finding.start..finding.end];
        if only_where_found(text, value, &found) {
            assert!(
                !masked.contains(value),
                "{value:?} survives masking: {masked:?}"
            );
        }
    }
    // Dropping joins the text around a span, so its characters may meet again; what must not
    // be left is anything the detectors find.
    let left = find(&dropped);
    assert!(left.is_empty(), "{left:?} left after dropping: {dropped:?}");

    let drop_all = FieldPolicy::uniform(Mode::Drop);
    let has_placeholder = PiiKind::ALL.iter().any(|kind| {
        text.contains(kind.placeholder()) || text.contains(memvox_core::redact::IBAN_MASK)
    });
    match drop_all.screen(text) {
        Ok(kept) => {
            assert!(found.is_empty() && !has_placeholder, "screen kept {text:?}");
            assert_eq!(kept, text);
        }
        Err(kind) => assert!(found.iter().any(|f| f.kind == kind) || has_placeholder),
    }
    // Half the kinds dropped, half masked: what screen keeps holds no dropped kind, even where
    // masking one kind lets a detector read another (a card's words masked bring a birth word
    // within reach of a date).
    let mixed = PiiKind::ALL.into_iter().enumerate().fold(
        FieldPolicy::uniform(Mode::Mask),
        |policy, (i, kind)| {
            if i % 2 == 0 {
                policy.with(kind, Mode::Drop)
            } else {
                policy
            }
        },
    );
    if let Ok(kept) = mixed.screen(text) {
        let left = find(&kept);
        assert!(
            left.iter().all(|f| mixed.mode(f.kind) != Mode::Drop),
            "screen kept a dropped kind: {left:?} in {kept:?}"
        );
    }
    let defaults = RedactionPolicy::default().field(memvox_core::redact::Field::MemoryContent);
    if let Ok(screened) = defaults.screen(text) {
        assert_eq!(screened, defaults.apply(text));
    }
    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) {
        FieldPolicy::uniform(Mode::Mask).apply_json(&mut value);
    }
}

/// `text` with every finding replaced by its placeholder, again until nothing is found (at
/// most eight passes, as the policy does), computed here from the findings.
fn settled(text: &str) -> String {
    let mut out = spliced(text, &find(text));
    for _ in 1..8 {
        let found = find(&out);
        if found.is_empty() {
            break;
        }
        out = spliced(&out, &found);
    }
    out
}

/// `text` with every finding replaced by its placeholder.
fn spliced(text: &str, found: &[Finding]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for finding in found {
        out.push_str(&text[at..finding.start]);
        out.push_str(finding.placeholder);
        at = finding.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Whether every occurrence of `value` in `text` overlaps a finding (so none is left whole
/// between them), and `value` cannot reappear across or inside a placeholder (it has no
/// brackets and is in no placeholder).
fn only_where_found(text: &str, value: &str, found: &[Finding]) -> bool {
    if value.contains(['[', ']'])
        || PiiKind::ALL
            .iter()
            .any(|kind| kind.placeholder().contains(value))
    {
        return false;
    }
    (0..text.len())
        .filter(|&start| text.is_char_boundary(start) && text[start..].starts_with(value))
        .all(|start| {
            found
                .iter()
                .any(|f| start < f.end && f.start < start + value.len())
        })
}
