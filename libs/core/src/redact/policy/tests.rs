//! The policy over realistic caller turns: the defaults, each mode, memory screening, and text
//! without personal data coming back untouched under every policy.

use std::borrow::Cow;

use super::*;
use crate::redact::{Field, Mode, PiiKind};

/// Caller turns as speech-to-text writes them, each with one kind of personal data.
const TURNS: [(&str, PiiKind); 7] = [
    (
        "Sure, the card is four one one one one one one one one one one one one one one one.",
        PiiKind::Card,
    ),
    (
        "My social is 123-45-6789, if you need it.",
        PiiKind::NationalId,
    ),
    (
        "Refund it to account number 31926819, sort code 12-34-56.",
        PiiKind::BankAccount,
    ),
    (
        "You can email me at dana dot whitfield at gmail dot com.",
        PiiKind::Email,
    ),
    ("Best to call me on 415 555 0199 after six.", PiiKind::Phone),
    (
        "Ship it to 27 Birch Lane, Springfield, IL 62704 please.",
        PiiKind::StreetAddress,
    ),
    (
        "My date of birth is March 3rd, 1985, under Whitfield.",
        PiiKind::DateOfBirth,
    ),
];

/// Turns a caller might say with no personal data at all, numbers and dates included.
const CLEAN: [&str; 8] = [
    "I'm calling about order 53819, the blue kettle, it came on March 3rd.",
    "I take two pills at eight and one at noon, ten milligrams each.",
    "It was $12.50 last time, and $24.80 the time before.",
    "We switched to the Elm Street branch in December, it's open until 8.",
    "My son is 12 and he was born in 2013, he loves the 5th Street park.",
    "The appointment on 03/14/2025 at 10:30 works, or Friday at 2:30.",
    "I've been a customer since 1998, account holder for ages.",
    "My birthday party is on June 5th, I'd like the cake delivered by 4 pm.",
];

#[test]
fn by_default_cards_and_national_ids_are_masked_and_the_rest_kept() {
    let policy = RedactionPolicy::default();
    for field in Field::ALL {
        let policy = policy.field(field);
        for (said, kind) in TURNS {
            let stored = policy.apply(said);
            match kind {
                PiiKind::Card | PiiKind::NationalId => {
                    assert!(stored.contains(kind.placeholder()), "{stored}");
                }
                _ => assert!(matches!(stored, Cow::Borrowed(_)), "{stored}"),
            }
        }
    }
}

#[test]
fn each_kind_is_found_in_a_realistic_turn_and_masked_alone() {
    for (said, kind) in TURNS {
        let policy = FieldPolicy::uniform(Mode::Keep).with(kind, Mode::Mask);
        let stored = policy.apply(said);
        assert!(stored.contains(kind.placeholder()), "{kind}: {stored}");
        for other in PiiKind::ALL.into_iter().filter(|k| *k != kind) {
            let alone = FieldPolicy::uniform(Mode::Keep).with(other, Mode::Mask);
            assert_eq!(alone.apply(said), said, "{other} found in a {kind} turn");
        }
    }
}

#[test]
fn drop_removes_the_span_and_the_space_before_it() {
    let policy = FieldPolicy::uniform(Mode::Drop);
    for (said, stored) in [
        (
            "Best to call me on 415 555 0199 after six.",
            "Best to call me on after six.",
        ),
        (
            "My social is 123-45-6789, if you need it.",
            "My social is, if you need it.",
        ),
        ("4111 1111 1111 1111 is the card", "is the card"),
        ("I live at 1420 Elm Street.", "I live at."),
    ] {
        assert_eq!(policy.apply(said), stored, "{said}");
    }
}

#[test]
fn a_memory_holding_a_dropped_kind_is_refused_and_others_masked() {
    let policy = FieldPolicy::uniform(Mode::Keep)
        .with(PiiKind::Card, Mode::Drop)
        .with(PiiKind::Email, Mode::Mask);
    assert_eq!(
        policy.screen("Pays with card 4111 1111 1111 1111"),
        Err(PiiKind::Card)
    );
    assert_eq!(
        policy.screen("Pays with the card [card number]"),
        Err(PiiKind::Card),
        "a placeholder left by the extractor's input names the dropped kind"
    );
    assert_eq!(
        policy.screen("Prefers email at ada@example.com").as_deref(),
        Ok("Prefers email at [email]")
    );
    assert_eq!(
        policy.masking_drops().apply("card 4111 1111 1111 1111"),
        "card [card number]"
    );
}

#[test]
fn a_memory_whose_masking_reveals_a_dropped_kind_is_refused() {
    // The card's four words keep "born" out of the date's reach; masked, the card is two
    // words and the date is a date of birth, which this policy drops.
    let said = "Was born 4111 1111 1111 1111 on March 3rd, 1985";
    let policy = FieldPolicy::uniform(Mode::Keep)
        .with(PiiKind::DateOfBirth, Mode::Drop)
        .with(PiiKind::Card, Mode::Mask);
    assert!(
        find(said).iter().all(|f| f.kind == PiiKind::Card),
        "the date alone is no date of birth: {:?}",
        find(said)
    );
    assert_eq!(policy.screen(said), Err(PiiKind::DateOfBirth));
    assert_eq!(policy.apply(said), "Was born [card number] on");
}

#[test]
fn text_without_personal_data_comes_back_borrowed_under_every_policy() {
    let policies = [
        FieldPolicy::uniform(Mode::Mask),
        FieldPolicy::uniform(Mode::Drop),
        RedactionPolicy::default().field(Field::TranscriptTurns),
    ];
    for policy in policies {
        for said in CLEAN {
            assert!(
                matches!(policy.apply(said), Cow::Borrowed(t) if t == said),
                "{said} became {}",
                policy.apply(said)
            );
            assert!(
                matches!(policy.screen(said), Ok(Cow::Borrowed(_))),
                "{said}"
            );
        }
    }
}

#[test]
fn analysis_strings_are_redacted_and_keys_and_numbers_kept() {
    let mut analysis = serde_json::json!({
        "callback_number": {"value": "415 555 0199", "rationale": "The caller said 415 555 0199."},
        "order": {"value": 53819, "rationale": "Order 53819 was late."},
    });
    FieldPolicy::uniform(Mode::Keep)
        .with(PiiKind::Phone, Mode::Mask)
        .apply_json(&mut analysis);
    assert_eq!(
        analysis,
        serde_json::json!({
            "callback_number": {"value": "[phone number]", "rationale": "The caller said [phone number]."},
            "order": {"value": 53819, "rationale": "Order 53819 was late."},
        })
    );
}

#[test]
fn dropping_never_joins_the_text_around_a_span_into_personal_data_again() {
    // Found by the `redaction` fuzz target: dropping the address of "…765 h four;765 h
    // four;\0\0\0ST…" joined "765 h four;" and "\0\0\0ST" into that same address.
    let said = "Sur05 765 h four;765 h four;\0\0\0ST\0\0\0ST >1234t.";
    let drop = FieldPolicy::uniform(Mode::Drop);
    let once = drop.rewrite(said, &find(said));
    assert!(
        !find(&once).is_empty(),
        "the case joins data again: {once:?}"
    );
    let stored = drop.apply(said);
    assert!(find(&stored).is_empty(), "{stored:?}");
    assert!(!stored.contains("765 h four;\0\0\0ST"), "{stored:?}");
}
