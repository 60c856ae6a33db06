//! Finding a caller (by user id or phone number) and a caller's page: profile and summary,
//! numbers, counts, the search box, and every fact by sector — salience, state, how far each
//! has decayed on the sector's curve — then their latest call episodes.
//!
//! Reads go through the same store calls and helpers as `/v1` (`routes::users::profile`, the
//! store's listing and number lookup).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use memvox_core::{Memory, MemoryKind, MemoryState, Sector};
use memvox_store::{MemoryFilter, MemoryOrder};
use serde::Deserialize;

use super::chart;
use super::error::UiError;
use super::layout::{memory_path, meter, notice, page, short, state_badges, user_path, when};
use super::session::Session;
use crate::extract::ApiQuery;
use crate::routes::users::{UserView, profile};
use crate::{ApiError, QueryState};

/// Facts shown on a caller's page, most salient first.
const FACTS_SHOWN: usize = 1_000;
/// Call episodes shown, newest first.
const EPISODES_SHOWN: usize = 20;

/// `?q=` of the finder, `?done=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    #[serde(default)]
    q: String,
    done: Option<String>,
}

fn finder(session: &Session, query: &str, message: Option<&str>) -> Markup {
    page(
        "Find a caller",
        Some(session),
        html! {
            h1 { "Find a caller" }
            @if let Some(message) = message {
                p.error role="alert" { (message) }
            }
            form.search method="get" action="/ui/find" {
                label for="q" { "User id or phone number" }
                input #q type="search" name="q" value=(query) required autofocus
                    placeholder="crm_42, guest_…, +14155550199";
                button type="submit" { "Find" }
            }
        },
    )
}

/// `GET /ui`: the caller finder.
pub async fn home(Extension(session): Extension<Session>) -> Markup {
    finder(&session, "", None)
}

/// `GET /ui/find?q=`: the caller whose user id, else bound number, is `q`; the finder again
/// (404) when there is none.
pub async fn find(
    State(state): State<QueryState>,
    Extension(session): Extension<Session>,
    query: Result<ApiQuery<PageParams>, ApiError>,
) -> Result<Response, UiError> {
    let ApiQuery(params) = query?;
    let q = params.q.trim();
    if q.is_empty() {
        return Ok(finder(&session, "", None).into_response());
    }
    let user_id = match state.store.get_profile(q).await? {
        Some(user) => Some(user.user_id),
        None => state.store.user_for_caller(q).await?,
    };
    Ok(match user_id {
        Some(user_id) => Redirect::to(&user_path(&user_id)).into_response(),
        None => {
            let message = format!("No caller has the id or number “{q}”.");
            (StatusCode::NOT_FOUND, finder(&session, q, Some(&message))).into_response()
        }
    })
}

/// `GET /ui/users/{user_id}`: the caller's page.
pub async fn show(
    State(state): State<QueryState>,
    Extension(session): Extension<Session>,
    Path(user_id): Path<String>,
    query: Result<ApiQuery<PageParams>, ApiError>,
) -> Result<Markup, UiError> {
    let ApiQuery(params) = query?;
    let view = profile(&state, &user_id).await?;
    let numbers = state.store.caller_numbers(&user_id).await?;
    let facts = listing(
        &state,
        &user_id,
        MemoryKind::Fact,
        MemoryOrder::Salience,
        FACTS_SHOWN,
    );
    let episodes = listing(
        &state,
        &user_id,
        MemoryKind::Episode,
        MemoryOrder::Newest,
        EPISODES_SHOWN,
    );
    let (facts, episodes) = (facts.await?, episodes.await?);
    let title = view
        .user
        .display_name
        .clone()
        .unwrap_or_else(|| user_id.clone());
    Ok(page(
        &title,
        Some(&session),
        html! {
            (notice(params.done.as_deref()))
            (summary(&view, &numbers))
            form.search method="get" action={ (user_path(&user_id)) "/search" } {
                label for="q" { "Search this caller's memories" }
                input #q type="search" name="q" required placeholder="what is the caller's dog called?";
                button type="submit" { "Search" }
            }
            h2 { "Memories by sector" }
            @if facts.is_empty() { p.empty { "No facts remembered." } }
            @for sector in Sector::ALL {
                (sector_section(&state, &user_id, sector, &facts))
            }
            h2 { "Latest call episodes" }
            @if episodes.is_empty() { p.empty { "No call episodes." } }
            ul.episodes {
                @for memory in &episodes {
                    li {
                        a href=(memory_path(&user_id, memory.id)) { "#" (memory.id) }
                        " " span.when { (when(memory.created_at)) } " "
                        (state_badges(memory))
                        pre { (short(&memory.content, 400)) }
                    }
                }
            }
            section.danger {
                h2 { "Erase this caller" }
                p { "Deletes every row about them, their audio files and queued messages." }
                a.button.danger href={ (user_path(&user_id)) "/erase" } { "Erase…" }
            }
        },
    ))
}

/// The user's memories of `kind` in every state, superseded ones included.
async fn listing(
    state: &QueryState,
    user_id: &str,
    kind: MemoryKind,
    order: MemoryOrder,
    limit: usize,
) -> Result<Vec<Memory>, ApiError> {
    let filter = MemoryFilter {
        kinds: vec![kind],
        states: MemoryState::ALL.to_vec(),
        include_superseded: true,
        ..MemoryFilter::default()
    };
    Ok(state
        .store
        .list_memories(user_id, &filter, order, limit)
        .await?)
}

fn summary(view: &UserView, numbers: &[String]) -> Markup {
    let user = &view.user;
    let counts = &view.counts;
    html! {
        section.profile {
            h1 { (user.display_name.as_deref().unwrap_or(&user.user_id)) }
            dl {
                dt { "User id" } dd { code { (user.user_id) } }
                dt { "Numbers" }
                dd { @if numbers.is_empty() { "none bound" } @else { (numbers.join(", ")) } }
                dt { "First seen" } dd { (when(user.created_at)) }
                dt { "Last interaction" }
                dd { (user.last_interaction.map(when).unwrap_or_else(|| "never".to_owned())) }
                dt { "Memories" }
                dd {
                    (counts.total) " in all"
                    @for (state, n) in &counts.by_state { ", " (n) " " (state) }
                    ", " (counts.superseded) " superseded"
                }
            }
            h2 { "Summary" }
            @match &user.summary {
                Some(text) => p.summary { (text) },
                None => p.empty { "No summary yet." },
            }
        }
    }
}

/// One sector's facts: its decay chart and a row per fact.
fn sector_section(state: &QueryState, user_id: &str, sector: Sector, facts: &[Memory]) -> Markup {
    let facts: Vec<&Memory> = facts.iter().filter(|m| m.sector == sector).collect();
    if facts.is_empty() {
        return html! {};
    }
    let rate = state.settings.decay.rate(sector);
    let now = state.clock.now();
    html! {
        section.sector id=(sector.as_str()) {
            h3 { (sector.as_str()) " " span.count { "(" (facts.len()) ")" } }
            (chart::sector_decay(sector, rate, &facts, now))
            table.memories {
                thead { tr { th { "Memory" } th { "Salience" } th { "Recency" } th { "State" } th { "Last seen" } } }
                tbody {
                    @for memory in &facts {
                        tr {
                            td { a href=(memory_path(user_id, memory.id)) { (memory.content) } }
                            td { (meter(memory.salience)) }
                            td { (meter(memvox_core::scoring::recency(memory.last_seen_at, now, rate))) }
                            td { (state_badges(memory)) }
                            td.when { (when(memory.last_seen_at)) }
                        }
                    }
                }
            }
        }
    }
}
