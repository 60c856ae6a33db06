//! Target `extractor`: the offline rule extractor (`RuleExtractor`, the one memvox runs by
//! default) over a call whose words, summary, follow-ups, times and existing memories are
//! untrusted.
//!
//! Input: lines (invalid UTF-8 replaced), each a part of the call by its prefix — `U:` a caller
//! turn, `A:` an agent turn, `T:` a tool turn (no words), `S:` the summary, `I:` an action item,
//! `O:` the outcome (`success` / `failure`), `E:` an existing memory (ids 1, 2, … in order,
//! sectors in turn), `@` a call start in unix milliseconds (the first is this call's, the rest
//! earlier calls'), `~` the caller's UTC offset in minutes; any other line is a caller turn.
//! Checks: the invariants the `Extractor` trait promises the worker (non-empty content shorter
//! than `MAX_CONTENT_CHARS` characters, salience in `[0, 1]`, turn indexes sorted, distinct and
//! of this call's turns, op targets among the existing memories) and determinism.

use memvox_ai::extract::MAX_CONTENT_CHARS;
use memvox_ai::{CallTranscript, ExistingMemory, RuleExtractor};
use memvox_core::{CallOutcome, MemoryOp, Role, Sector, Turn};

/// Fuzzes the rule extractor; see the module docs for the input and the checks.
pub fn extractor(data: &[u8]) {
    let call = call_of(&String::from_utf8_lossy(data));
    let extractor = RuleExtractor::new();
    let candidates = extractor.extract_now(&call);
    let turns: Vec<u32> = call.turns.iter().map(|turn| turn.index).collect();
    let existing: Vec<i64> = call.existing.iter().map(|memory| memory.id).collect();
    for candidate in &candidates {
        let chars = candidate.content.chars().count();
        assert!(
            chars > 0 && chars < MAX_CONTENT_CHARS,
            "content length {chars}: {candidate:?}"
        );
        assert!(
            !candidate.content.trim().is_empty(),
            "blank content: {candidate:?}"
        );
        assert!(
            (0.0..=1.0).contains(&candidate.salience),
            "salience: {candidate:?}"
        );
        assert!(
            candidate
                .turn_indexes
                .windows(2)
                .all(|pair| pair[0] < pair[1]),
            "turn indexes not sorted and distinct: {candidate:?}"
        );
        assert!(
            candidate
                .turn_indexes
                .iter()
                .all(|index| turns.contains(index)),
            "a turn index not of this call: {candidate:?}"
        );
        if let MemoryOp::Update { target }
        | MemoryOp::Supersede { target }
        | MemoryOp::Noop { target } = candidate.op
        {
            assert!(
                existing.contains(&target),
                "op on an unknown memory: {candidate:?}"
            );
        }
    }
    assert_eq!(
        extractor.extract_now(&call),
        candidates,
        "not deterministic"
    );
}

/// The call the lines of `text` describe (see the module docs).
fn call_of(text: &str) -> CallTranscript {
    let mut call = CallTranscript {
        user_id: "usr_fuzz".to_owned(),
        conversation_id: "conv_fuzz".to_owned(),
        ..CallTranscript::default()
    };
    let mut started = None;
    for line in text.lines() {
        let (prefix, rest) =
            line.split_at(line.char_indices().nth(2).map_or(line.len(), |(at, _)| at));
        let mut turn = |role, message: Option<&str>| {
            let index = u32::try_from(call.turns.len()).unwrap_or(u32::MAX);
            call.turns.push(Turn {
                index,
                role,
                message: message.map(str::to_owned),
                time_in_call_secs: i64::from(index) * 5,
            });
        };
        match prefix {
            "U:" => turn(Role::User, Some(rest)),
            "A:" => turn(Role::Agent, Some(rest)),
            "T:" => turn(Role::Agent, None),
            "S:" => call.summary = Some(rest.to_owned()),
            "I:" => call.action_items.push(rest.to_owned()),
            "O:" => call.outcome = outcome(rest),
            "E:" => {
                let n = call.existing.len();
                call.existing.push(ExistingMemory {
                    id: i64::try_from(n).unwrap_or(i64::MAX) + 1,
                    content: rest.to_owned(),
                    sector: Sector::ALL[n % Sector::ALL.len()],
                });
            }
            _ if line.starts_with('@') => match (started, line[1..].trim().parse::<i64>()) {
                (_, Err(_)) => {}
                (None, Ok(at)) => started = Some(at),
                (Some(_), Ok(at)) => call.previous_call_times.push(at),
            },
            _ if line.starts_with('~') => call.utc_offset_minutes = line[1..].trim().parse().ok(),
            _ => turn(Role::User, Some(line)),
        }
    }
    call.started_at = started.unwrap_or(1_767_225_600_000);
    call
}

fn outcome(text: &str) -> CallOutcome {
    match text.trim() {
        "success" => CallOutcome::Success,
        "failure" => CallOutcome::Failure,
        _ => CallOutcome::Unknown,
    }
}
