//! Memories about the call itself: an episodic memory from the platform's summary, one per
//! action item, and reflective patterns across the user's calls.
//!
//! Owns what the rule extractor draws from a call's metadata rather than its words.
//! Invariants:
//! - summary and action-item memories point at every caller turn: the platform wrote them from
//!   the whole conversation, and the caller's turns are the evidence a person would check
//!   (a call without caller words yields none of them);
//! - the episodic memory is the summary's first sentence, dated, never rephrased;
//! - a reflective memory needs at least three distinct calls and a clear pattern: at least
//!   80 % of them within one three-hour window of the day, or on one weekday. It points at no
//!   turn, since it comes from call times, not words. Without the caller's UTC offset it names
//!   UTC hours instead of "morning".

use memvox_core::{CallOutcome, Sector, UnixMillis};

use super::pattern::Draft;
use crate::extract::CallTranscript;
use crate::extract::calendar::{LocalTime, weekday_name};

/// Fewest calls (this one included) before a pattern is believed.
const MIN_CALLS: usize = 3;
/// Share of calls a pattern must cover.
const MIN_SHARE: f64 = 0.8;
/// Width of a time-of-day window, in hours.
const WINDOW_HOURS: u32 = 3;

/// The dated episodic memory of the call, from the first sentence of its summary.
pub(crate) fn episode(call: &CallTranscript, date: &str) -> Option<Draft> {
    let summary = call.summary.as_deref()?.trim();
    let first = first_sentence(summary);
    if first.is_empty() {
        return None;
    }
    let (label, salience) = match call.outcome {
        CallOutcome::Failure => ("Unresolved call", 0.6),
        _ => ("Call", 0.5),
    };
    Some(Draft::new(
        &format!("{label} on {date}: {first}"),
        Sector::Episodic,
        salience,
    ))
}

/// One episodic memory per action item.
pub(crate) fn follow_ups(call: &CallTranscript) -> Vec<Draft> {
    call.action_items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(|item| Draft::new(&format!("Follow-up: {item}"), Sector::Episodic, 0.6))
        .collect()
}

/// Reflective memories about when the user calls.
pub(crate) fn patterns(call: &CallTranscript) -> Vec<Draft> {
    let mut times: Vec<UnixMillis> = call.previous_call_times.clone();
    times.push(call.started_at);
    times.sort_unstable();
    times.dedup();
    if times.len() < MIN_CALLS {
        return Vec::new();
    }
    let offset = call.utc_offset_minutes.unwrap_or(0);
    let locals: Vec<LocalTime> = times.iter().map(|t| LocalTime::of(*t, offset)).collect();
    let mut out = Vec::new();
    if let Some(text) = time_of_day(&locals, call.utc_offset_minutes.is_some()) {
        out.push(Draft::new(&text, Sector::Reflective, 0.4));
    }
    if let Some(text) = weekday(&locals) {
        out.push(Draft::new(&text, Sector::Reflective, 0.4));
    }
    out
}

fn covers(count: usize, total: usize) -> bool {
    count >= MIN_CALLS && count as f64 >= MIN_SHARE * total as f64
}

/// "Usually calls in the morning (around 9:00–11:00)" when most calls fall in one window.
fn time_of_day(locals: &[LocalTime], local_zone_known: bool) -> Option<String> {
    let (start, count) = (0..24)
        .map(|start| {
            let inside = locals
                .iter()
                .filter(|t| (t.hour + 24 - start) % 24 < WINDOW_HOURS)
                .count();
            (start, inside)
        })
        .max_by_key(|&(start, inside)| (inside, std::cmp::Reverse(start)))?;
    if !covers(count, locals.len()) {
        return None;
    }
    let hours: Vec<u32> = locals
        .iter()
        .map(|t| t.hour)
        .filter(|h| (h + 24 - start) % 24 < WINDOW_HOURS)
        .collect();
    let first = hours.iter().map(|h| (h + 24 - start) % 24).min()?;
    let last = hours.iter().map(|h| (h + 24 - start) % 24).max()?;
    let from = (start + first) % 24;
    let to = (start + last + 1) % 24;
    Some(if local_zone_known {
        format!(
            "Usually calls in the {} (around {from}:00–{to}:00)",
            part_of_day(from)
        )
    } else {
        format!("Usually calls around {from}:00–{to}:00 UTC")
    })
}

fn part_of_day(hour: u32) -> &'static str {
    match hour {
        5..=11 => "morning",
        12..=16 => "afternoon",
        17..=21 => "evening",
        _ => "night",
    }
}

/// "Usually calls on Mondays" when most calls fall on one weekday.
fn weekday(locals: &[LocalTime]) -> Option<String> {
    let (day, count) = (0..7)
        .map(|d| (d, locals.iter().filter(|t| t.weekday == d).count()))
        .max_by_key(|&(d, n)| (n, std::cmp::Reverse(d)))?;
    covers(count, locals.len()).then(|| format!("Usually calls on {}s", weekday_name(day)))
}

/// The summary up to its first full stop, question or exclamation mark.
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let end = matches!(b, b'.' | b'!' | b'?');
        let boundary = bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
        if end && boundary {
            return &text[..i];
        }
    }
    text
}
