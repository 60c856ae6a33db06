//! The extraction prompt: a versioned template file rendered with one call's data.
//!
//! Owns the rendering of `prompts/extract_v1.md`. The template's part before the `<!-- call -->`
//! line is the system message (identical for every call, so providers can cache it); the part
//! after it, with its `{{placeholders}}` filled, is the user message. Invariants: turns keep
//! their delivered indexes (tool turns are left out, not renumbered); existing memories carry
//! their ids; placeholders are filled from this call only.

use memvox_core::Role;

use crate::extract::CallTranscript;
use crate::extract::calendar::LocalTime;

/// The template, compiled in.
const TEMPLATE: &str = include_str!("../../../prompts/extract_v1.md");
/// Line that separates the instructions from the call.
const CALL_MARKER: &str = "<!-- call -->";

/// (system message, user message) for `call`.
pub(crate) fn render(call: &CallTranscript) -> (String, String) {
    let (instructions, call_part) = TEMPLATE.split_once(CALL_MARKER).unwrap_or((TEMPLATE, ""));
    let date = LocalTime::of(call.started_at, call.utc_offset_minutes.unwrap_or(0)).date();
    let filled = call_part
        .replace("{{conversation_id}}", &call.conversation_id)
        .replace("{{call_date}}", &date)
        .replace("{{outcome}}", call.outcome.as_str())
        .replace("{{previous_calls}}", &previous_calls(call))
        .replace("{{existing}}", &existing(call))
        .replace("{{summary}}", call.summary.as_deref().unwrap_or("(none)"))
        .replace("{{action_items}}", &action_items(call))
        .replace("{{transcript}}", &transcript(call));
    (instructions.trim().to_owned(), filled.trim().to_owned())
}

fn previous_calls(call: &CallTranscript) -> String {
    if call.previous_call_times.is_empty() {
        return "(none)".to_owned();
    }
    call.previous_call_times
        .iter()
        .map(|t| {
            let local = LocalTime::of(*t, 0);
            format!(
                "{} {:02}:00 {}",
                local.date(),
                local.hour,
                weekday(local.weekday)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn weekday(day: u32) -> &'static str {
    &crate::extract::calendar::weekday_name(day)[..3]
}

fn existing(call: &CallTranscript) -> String {
    if call.existing.is_empty() {
        return "(none)".to_owned();
    }
    call.existing
        .iter()
        .map(|m| format!("- id {} ({}): {}", m.id, m.sector, m.content))
        .collect::<Vec<_>>()
        .join("\n")
}

fn action_items(call: &CallTranscript) -> String {
    if call.action_items.is_empty() {
        return "(none)".to_owned();
    }
    call.action_items
        .iter()
        .map(|item| format!("- {item}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn transcript(call: &CallTranscript) -> String {
    call.turns
        .iter()
        .filter_map(|turn| {
            let words = turn.message.as_deref()?.trim();
            if words.is_empty() {
                return None;
            }
            let speaker = match turn.role {
                Role::User => "caller",
                Role::Agent => "agent",
            };
            let secs = turn.time_in_call_secs.max(0);
            Some(format!(
                "[{}] {speaker} ({}:{:02}): {words}",
                turn.index,
                secs / 60,
                secs % 60
            ))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use memvox_core::{Sector, Turn};

    use super::*;
    use crate::extract::ExistingMemory;

    #[test]
    fn renders_turns_with_delivered_indexes_and_existing_ids() {
        let call = CallTranscript {
            conversation_id: "conv_1".into(),
            started_at: 1_767_225_600_000,
            turns: vec![
                Turn {
                    index: 0,
                    role: Role::Agent,
                    message: Some("Hi!".into()),
                    time_in_call_secs: 0,
                },
                Turn {
                    index: 1,
                    role: Role::Agent,
                    message: None,
                    time_in_call_secs: 3,
                },
                Turn {
                    index: 2,
                    role: Role::User,
                    message: Some("Text me instead.".into()),
                    time_in_call_secs: 65,
                },
            ],
            existing: vec![ExistingMemory {
                id: 42,
                content: "Prefers email".into(),
                sector: Sector::Procedural,
            }],
            ..CallTranscript::default()
        };
        let (system, user) = render(&call);
        assert!(system.contains("supersede"));
        assert!(!system.contains("{{"));
        assert!(user.contains("[2] caller (1:05): Text me instead."));
        assert!(!user.contains("[1]"));
        assert!(user.contains("- id 42 (procedural): Prefers email"));
        assert!(user.contains("Call conv_1 on 2026-01-01"));
        assert!(!user.contains("{{"));
    }
}
