//! The page every inspector view is drawn in, and the small pieces views share: links to a
//! caller and a memory (ids percent-encoded), times, states, the CSRF field of a form.
//!
//! Everything is written with `maud`, which HTML-escapes every value spliced into the markup;
//! nothing here or in the views marks caller data as pre-escaped.

use maud::{DOCTYPE, Markup, html};
use memvox_core::calendar::rfc3339;
use memvox_core::{Memory, MemoryId, UnixMillis};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::session::Session;

/// Characters escaped in a path segment: all but the unreserved ones.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A page titled `title` around `content`; with a `session`, the sign-out button.
pub fn page(title: &str, session: Option<&Session>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · memvox inspector" }
                link rel="stylesheet" href="/ui/assets/app.css";
                script src="/ui/assets/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/ui" { "memvox " span { "memory inspector" } }
                    @if let Some(session) = session {
                        form.find method="get" action="/ui/find" {
                            input type="search" name="q" placeholder="caller id or number"
                                aria-label="caller id or number";
                            button type="submit" { "Find" }
                        }
                        form method="post" action="/ui/logout" {
                            (csrf(session))
                            button.quiet type="submit" { "Sign out" }
                        }
                    }
                }
                main { (content) }
            }
        }
    }
}

/// The hidden CSRF field every form that changes something carries.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The inspector path of a caller.
pub fn user_path(user_id: &str) -> String {
    format!("/ui/users/{}", utf8_percent_encode(user_id, SEGMENT))
}

/// The inspector path of one of a caller's memories.
pub fn memory_path(user_id: &str, id: MemoryId) -> String {
    format!("{}/memories/{id}", user_path(user_id))
}

/// A time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn when(at: UnixMillis) -> String {
    rfc3339(at).replace('T', " ").replace('Z', " UTC")
}

/// A memory's state as a badge: its state, and "superseded" when a later memory replaced it.
pub fn state_badges(memory: &Memory) -> Markup {
    html! {
        span class={ "badge " (memory.state.as_str()) } { (memory.state.as_str()) }
        @if memory.superseded_by.is_some() {
            " " span.badge.superseded { "superseded" }
        }
    }
}

/// A number in `[0, 1]` as a meter with its value.
pub fn meter(value: f64) -> Markup {
    html! {
        meter min="0" max="1" value=(format!("{value:.3}")) {}
        " " span.num { (format!("{value:.2}")) }
    }
}

/// A notice after a change, named by the `done` query value the change redirected with.
pub fn notice(done: Option<&str>) -> Markup {
    let text = match done {
        Some("edited") => "Saved.",
        Some("unchanged") => "Nothing to save: the form matched the memory.",
        Some("paused") => "Paused: hidden from search until resumed.",
        Some("active") => "Resumed: searchable again.",
        Some("archived") => "Archived: kept for the record, hidden from search.",
        Some("deleted") => "Memory deleted.",
        _ => return html! {},
    };
    html! { p.notice role="status" { (text) } }
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub fn short(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_percent_encoded_in_paths() {
        assert_eq!(
            user_path("agent_1:guest_0a"),
            "/ui/users/agent_1%3Aguest_0a"
        );
        assert_eq!(user_path("a/b?c#d"), "/ui/users/a%2Fb%3Fc%23d");
        assert_eq!(memory_path("u1", 7), "/ui/users/u1/memories/7");
    }

    #[test]
    fn values_are_escaped_in_the_page() {
        let page = page("<t>", None, html! { p { ("<script>alert(1)</script>") } });
        let text = page.into_string();
        assert!(!text.contains("<script>alert"), "{text}");
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(text.contains("&lt;t&gt; · memvox inspector"));
    }

    #[test]
    fn text_is_cut_at_a_character() {
        assert_eq!(short("héllo wörld", 5), "héllo…");
        assert_eq!(short("short", 5), "short");
    }
}
