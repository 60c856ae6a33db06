//! A memory's page: its text, sector, salience, state and times; its decay chart; the edit,
//! pause / resume and delete forms; its history (earlier texts, what replaced it and what it
//! replaced); the call it came from with the cited turns highlighted; its links as a graph.
//!
//! Everything is read through the store calls `/v1` and the export use.

use axum::Extension;
use axum::extract::{Path, State};
use maud::{Markup, html};
use memvox_core::{Memory, MemoryKind, MemoryState, Sector};
use memvox_store::{HistoryEntry, MemoryFilter, MemoryOrder};
use serde::Deserialize;

use super::error::UiError;
use super::layout::{csrf, memory_path, meter, notice, page, short, state_badges, user_path, when};
use super::session::Session;
use super::{chart, graph, provenance};
use crate::extract::ApiQuery;
use crate::routes::memories::memory_id;
use crate::{ApiError, QueryState};

/// Memories read to find those this one replaced.
const SUPERSEDED_SCAN: usize = 1_000;

/// `?done=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct MemoryParams {
    done: Option<String>,
}

/// `GET /ui/users/{user_id}/memories/{memory_id}`.
pub async fn show(
    State(state): State<QueryState>,
    Extension(session): Extension<Session>,
    Path((user_id, id)): Path<(String, String)>,
    query: Result<ApiQuery<MemoryParams>, ApiError>,
) -> Result<Markup, UiError> {
    let ApiQuery(params) = query?;
    let id = memory_id(&id)?;
    // The page of one memory starting at its id: the memory and its history, as the export
    // reads them.
    let (mut page_of_one, earlier) = state.store.memory_page(&user_id, Some(id - 1), 1).await?;
    let memory = page_of_one
        .pop()
        .filter(|memory| memory.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("memory {id}")))?;
    let replaced = replaced_by(&state, &memory).await?;
    let links = state.store.links_from(&[id]).await?;
    let targets: Vec<_> = links.iter().map(|link| link.target).collect();
    let linked = state.store.get_memories(&user_id, &targets).await?;
    let call = provenance::section(&state, &memory).await?;
    let rate = state.settings.decay.rate(memory.sector);
    let title = format!("Memory #{id}");
    Ok(page(
        &title,
        Some(&session),
        html! {
            p.crumbs { a href=(user_path(&user_id)) { "← " (user_id) } }
            (notice(params.done.as_deref()))
            h1 { (title) " " (state_badges(&memory)) }
            @match memory.kind {
                MemoryKind::Fact => blockquote.content { (memory.content) },
                MemoryKind::Episode => pre.content { (memory.content) },
            }
            (facts(&memory, rate))
            h2 { "Decay" }
            (chart::memory_decay(&memory, rate, &state.weights, state.clock.now()))
            h2 { "Edit" }
            (edit_forms(&session, &memory))
            h2 { "History" }
            (history(&user_id, &memory, &earlier, &replaced))
            h2 { "Where it came from" }
            (call)
            h2 { "Links" }
            (link_section(&user_id, &memory, &links, &linked))
        },
    ))
}

/// The memories a later one, `memory`, replaced.
async fn replaced_by(state: &QueryState, memory: &Memory) -> Result<Vec<Memory>, ApiError> {
    if memory.kind != MemoryKind::Fact {
        return Ok(Vec::new());
    }
    let filter = MemoryFilter {
        states: MemoryState::ALL.to_vec(),
        include_superseded: true,
        ..MemoryFilter::default()
    };
    let facts = state
        .store
        .list_memories(
            &memory.user_id,
            &filter,
            MemoryOrder::Newest,
            SUPERSEDED_SCAN,
        )
        .await?;
    Ok(facts
        .into_iter()
        .filter(|fact| fact.superseded_by == Some(memory.id))
        .collect())
}

fn facts(memory: &Memory, rate: f64) -> Markup {
    html! {
        dl.facts {
            dt { "Kind" } dd { (memory.kind.as_str()) }
            dt { "Sector" } dd { (memory.sector.as_str()) " (λ " (rate) " per day)" }
            dt { "Salience" } dd { (meter(memory.salience)) }
            dt { "Said" } dd { (when(memory.created_at)) }
            dt { "Last seen or recalled" } dd { (when(memory.last_seen_at)) }
            dt { "Last changed" } dd { (when(memory.updated_at)) }
        }
    }
}

fn edit_forms(session: &Session, memory: &Memory) -> Markup {
    let action = memory_path(&memory.user_id, memory.id);
    let (toggle, toggle_label) = match memory.state {
        MemoryState::Active => (MemoryState::Paused, "Pause"),
        MemoryState::Paused | MemoryState::Archived => (MemoryState::Active, "Resume"),
    };
    html! {
        form.edit method="post" action=(action) {
            (csrf(session))
            label for="content" { "Text" }
            textarea #content name="content" rows="3" required { (memory.content) }
            div.row {
                label { "Sector "
                    select name="sector" {
                        @for sector in Sector::ALL {
                            option value=(sector.as_str()) selected[sector == memory.sector] { (sector.as_str()) }
                        }
                    }
                }
                label { "Salience "
                    input type="number" name="salience" min="0" max="1" step="0.01"
                        value=(format!("{:.2}", memory.salience)) required;
                }
                label { "State "
                    select name="state" {
                        @for state in MemoryState::ALL {
                            option value=(state.as_str()) selected[state == memory.state] { (state.as_str()) }
                        }
                    }
                }
            }
            button type="submit" { "Save" }
        }
        div.actions {
            form method="post" action={ (action) "/state" } {
                (csrf(session))
                input type="hidden" name="state" value=(toggle.as_str());
                button type="submit" { (toggle_label) }
            }
            form.delete method="post" action={ (action) "/delete" }
                data-confirm="Delete this memory for good?" {
                (csrf(session))
                label { input type="checkbox" name="confirm" value="yes" required; " I mean it" }
                button.danger type="submit" { "Delete" }
            }
        }
    }
}

fn history(
    user_id: &str,
    memory: &Memory,
    earlier: &[HistoryEntry],
    replaced: &[Memory],
) -> Markup {
    html! {
        @if let Some(newer) = memory.superseded_by {
            p.superseded {
                "Superseded by " a href=(memory_path(user_id, newer)) { "#" (newer) }
                @if let Some(at) = memory.superseded_at { " on " (when(at)) }
                ": hidden from search, kept for the record."
            }
        }
        @if !replaced.is_empty() {
            p { "Replaces:" }
            ul.replaced {
                @for old in replaced {
                    li {
                        a href=(memory_path(user_id, old.id)) { "#" (old.id) } " "
                        s { (old.content) }
                        @if let Some(at) = old.superseded_at { " — replaced " (when(at)) }
                    }
                }
            }
        }
        @if earlier.is_empty() {
            p.empty { "No earlier texts." }
        } @else {
            table.history {
                thead { tr { th { "Earlier text" } th { "Changed" } } }
                tbody {
                    @for (_, content, changed_at) in earlier {
                        tr { td { (content) } td.when { (when(*changed_at)) } }
                    }
                }
            }
        }
    }
}

fn link_section(
    user_id: &str,
    memory: &Memory,
    links: &[memvox_core::MemoryLink],
    linked: &[Memory],
) -> Markup {
    if links.is_empty() {
        return html! { p.empty { "No links." } };
    }
    html! {
        (graph::links(user_id, memory, links, linked))
        table.links {
            thead { tr { th { "Linked memory" } th { "Weight" } th { "Kind" } } }
            tbody {
                @for link in links {
                    tr {
                        td {
                            a href=(memory_path(user_id, link.target)) { "#" (link.target) } " "
                            @if let Some(target) = linked.iter().find(|m| m.id == link.target) {
                                (short(&target.content, 120))
                            }
                        }
                        td { (meter(link.weight)) }
                        td { (link.kind.as_str()) }
                    }
                }
            }
        }
    }
}
