//! Ops of the rule extractor against a caller's existing memories: noop, update, supersede,
//! add, and the distinct-pair probe (facts that similarity-based dedupe merges, and must not).

use memvox_ai::extract::assign_op;
use memvox_ai::{CallTranscript, ExistingMemory, RuleExtractor};
use memvox_core::{MemoryOp, Role, Sector, Turn};

fn memory(id: i64, content: &str) -> ExistingMemory {
    ExistingMemory {
        id,
        content: content.to_owned(),
        sector: Sector::Semantic,
    }
}

/// The ops the rule extractor assigns to what the caller says, given existing memories.
fn ops_for(says: &str, existing: &[ExistingMemory]) -> Vec<(String, MemoryOp)> {
    let call = CallTranscript {
        conversation_id: "conv_ops".into(),
        started_at: 1_767_225_600_000,
        turns: vec![Turn {
            index: 0,
            role: Role::User,
            message: Some(says.to_owned()),
            time_in_call_secs: 3,
        }],
        existing: existing.to_vec(),
        ..CallTranscript::default()
    };
    RuleExtractor::new()
        .extract_now(&call)
        .into_iter()
        .map(|c| (c.content, c.op))
        .collect()
}

fn op_for(says: &str, existing: &[ExistingMemory]) -> MemoryOp {
    let ops = ops_for(says, existing);
    assert_eq!(ops.len(), 1, "one memory from `{says}`: {ops:?}");
    ops[0].1
}

#[test]
fn noop_when_the_same_fact_is_already_known() {
    let existing = [memory(1, "Allergic to peanuts.")];
    assert_eq!(
        op_for("I'm allergic to peanuts", &existing),
        MemoryOp::Noop { target: 1 }
    );
}

#[test]
fn update_when_the_same_slot_has_the_same_value() {
    let existing = [memory(2, "Lives in Austin, Texas")];
    assert_eq!(
        op_for("We moved to Austin.", &existing),
        MemoryOp::Update { target: 2 }
    );
    let existing = [memory(3, "Prefers to be contacted by email")];
    assert_eq!(
        op_for("Email me instead.", &existing),
        MemoryOp::Update { target: 3 }
    );
    let existing = [memory(4, "Is allergic to penicillin")];
    assert_eq!(
        op_for("I'm allergic to penicillin", &existing),
        MemoryOp::Update { target: 4 }
    );
}

#[test]
fn supersede_when_the_same_slot_changes_value() {
    let cases: &[(&str, &str)] = &[
        ("Lives in Denver", "I moved to Austin last month."),
        ("Prefers email", "Can you text me instead?"),
        ("Works at Acme", "I work for Globex now."),
        (
            "Moved prescriptions to the Elm Street pharmacy.",
            "I switched my prescriptions to Walgreens.",
        ),
        ("Name is Dana", "My name is Diana."),
        (
            "Prefers mornings for callbacks",
            "Afternoons work better if you need to call me back.",
        ),
        ("Do not call before 9 am", "Don't call me before 10am."),
        ("Prefers phone calls", "Don't call me anymore."),
        ("Allergic to shellfish", "I'm not allergic to shellfish."),
    ];
    for (old, says) in cases {
        let existing = [memory(9, old)];
        assert_eq!(
            op_for(says, &existing),
            MemoryOp::Supersede { target: 9 },
            "`{says}` against `{old}`"
        );
    }
}

#[test]
fn add_when_nothing_relates() {
    let existing = [memory(1, "Lives in Denver"), memory(2, "Prefers email")];
    assert_eq!(op_for("I'm allergic to peanuts", &existing), MemoryOp::Add);
    // A negative claim about another value contradicts nothing.
    let existing = [memory(3, "Lives in Austin")];
    assert_eq!(
        op_for("I don't live in Denver anymore", &existing),
        MemoryOp::Add
    );
}

#[test]
fn distinct_pairs_are_never_merged() {
    // Pairs that a similarity dedupe (OpenMemory's simhash) merges. None may be a noop or an
    // update of the other. Where the slot holds one value at a time the newer one supersedes
    // the older (latest truth wins, the old one kept for audit); otherwise both are kept.
    let pairs: &[(&str, &str, Option<()>)] = &[
        ("Allergic to peanuts", "I'm allergic to shellfish.", None),
        ("Prefers email", "I'd prefer phone calls.", Some(())),
        (
            "Prefers email, not phone",
            "I'd prefer phone calls, not email.",
            Some(()),
        ),
        (
            "Has a morning appointment on Tuesday",
            "I have an afternoon appointment on Friday.",
            None,
        ),
        (
            "Prefers morning appointments",
            "Mornings are best if you need to call me back.",
            None,
        ),
        ("Is from Denver", "I moved to Austin.", None),
        (
            "Wife is allergic to shellfish",
            "I'm allergic to shellfish.",
            None,
        ),
        ("Uses Salesforce", "We use HubSpot.", None),
        (
            "Lives in Portland, Oregon",
            "I live in Portland, Maine.",
            Some(()),
        ),
        ("Daughter's name is Maya", "My son's name is Leo.", None),
    ];
    for (old, says, contradicts) in pairs {
        let existing = [memory(5, old)];
        let op = op_for(says, &existing);
        let want = match contradicts {
            Some(()) => MemoryOp::Supersede { target: 5 },
            None => MemoryOp::Add,
        };
        assert_eq!(op, want, "`{says}` against `{old}`");
    }
}

#[test]
fn the_strongest_relation_wins_then_the_first_given() {
    let existing = [memory(1, "Lives in Denver"), memory(2, "Lives in Austin")];
    assert_eq!(
        op_for("I live in Austin", &existing),
        MemoryOp::Noop { target: 2 }
    );
    let existing = [memory(1, "Lives in Denver"), memory(2, "Moved to Austin")];
    assert_eq!(
        op_for("I live in Austin", &existing),
        MemoryOp::Update { target: 2 }
    );
    let existing = [memory(1, "Lives in Denver"), memory(2, "Lives in Boulder")];
    assert_eq!(
        op_for("I live in Austin", &existing),
        MemoryOp::Supersede { target: 1 }
    );
}

#[test]
fn assign_op_reads_memories_written_by_anyone() {
    // Texts a model or a person may have written, not only the rule extractor's wording.
    let existing = [
        memory(1, "The caller lives in Denver."),
        memory(2, "prefers TEXT messages!"),
        memory(3, "Prefers to be reached via e-mail"),
    ];
    assert_eq!(
        assign_op("Prefers text messages", &existing),
        MemoryOp::Noop { target: 2 }
    );
    assert_eq!(
        assign_op("Prefers email", &existing),
        MemoryOp::Update { target: 3 }
    );
    assert_eq!(
        assign_op("Lives in Austin", &existing),
        MemoryOp::Supersede { target: 1 }
    );
    // An unknown phrasing has no slot: it can only be added.
    assert_eq!(assign_op("Calls from a landline", &existing), MemoryOp::Add);
    assert_eq!(assign_op("Anything at all", &[]), MemoryOp::Add);
}
