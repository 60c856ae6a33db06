//! Searching a caller's memories from the inspector: the ranked answer of
//! `POST /v1/users/{user_id}/memories/search` (the same `search::search`, always explained),
//! with each result's score terms — similarity, lexical, salience, recency, link — and total.

use std::time::Instant;

use axum::Extension;
use axum::extract::{Path, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::error::UiError;
use super::layout::{memory_path, page, user_path};
use super::session::Session;
use crate::extract::ApiQuery;
use crate::routes::users::require_user;
use crate::search::{Recall, SearchParams, search};
use crate::{ApiError, QueryState};

/// Results asked for when the form names no limit.
const DEFAULT_RESULTS: u32 = 10;

/// `?q=&limit=`.
#[derive(Debug, Deserialize)]
pub struct SearchForm {
    q: String,
    limit: Option<u32>,
}

/// `GET /ui/users/{user_id}/search?q=`.
pub async fn show(
    State(state): State<QueryState>,
    Extension(session): Extension<Session>,
    Path(user_id): Path<String>,
    query: Result<ApiQuery<SearchForm>, ApiError>,
) -> Result<Markup, UiError> {
    let ApiQuery(form) = query?;
    let started = Instant::now();
    require_user(&state, &user_id).await?;
    let params = SearchParams {
        query: form.q.clone(),
        limit: Some(form.limit.unwrap_or(DEFAULT_RESULTS)),
        sectors: None,
        explain: true,
    };
    let answer = search(&state, Some(&user_id), &params, started, Recall::Inspect).await?;
    let title = format!("Search: {}", form.q.trim());
    Ok(page(
        &title,
        Some(&session),
        html! {
            p.crumbs { a href=(user_path(&user_id)) { "← " (user_id) } }
            form.search method="get" action={ (user_path(&user_id)) "/search" } {
                label for="q" { "Search this caller's memories" }
                input #q type="search" name="q" value=(form.q) required;
                button type="submit" { "Search" }
            }
            h1 { (answer.memories.len()) " results" span.time { " in " (answer.query_time_ms) " ms" } }
            @if !answer.summary.is_empty() {
                p.summary { "Summary the agent reads: " q { (answer.summary) } }
            }
            table.results {
                thead {
                    tr {
                        th { "#" } th { "Memory" } th { "Total" } th { "Similarity" }
                        th { "Lexical" } th { "Salience" } th { "Recency" } th { "Link" }
                    }
                }
                tbody {
                    @for (rank, memory) in answer.memories.iter().enumerate() {
                        tr.result {
                            td { (rank + 1) }
                            td {
                                a href=(memory_path(&user_id, memory.id)) { (memory.content) }
                                br;
                                span.meta {
                                    (memory.kind.as_str()) " · " (memory.date)
                                    @if let Some(explain) = &memory.explain { " · " (explain.sector.as_str()) }
                                    @if let Some(via) = memory.via {
                                        " · via " a href=(memory_path(&user_id, via)) { "#" (via) }
                                    }
                                }
                            }
                            @if let Some(explain) = &memory.explain {
                                @let score = &explain.score;
                                td.total { (format!("{:.3}", score.total)) }
                                @for term in [score.similarity, score.lexical, score.salience, score.recency, score.link] {
                                    td.num { (format!("{term:.3}")) }
                                }
                            }
                        }
                    }
                }
            }
            p.help {
                "Total = (similarity × " (format!("{:.2}", state.weights.similarity))
                " + lexical × " (format!("{:.2}", state.weights.lexical)) ") × prior, where the prior is "
                (format!("{:.2}", 1.0 - state.weights.prior_span())) " + "
                (format!("{:.2}", state.weights.salience)) " × salience + "
                (format!("{:.2}", state.weights.recency)) " × recency + "
                (format!("{:.2}", state.weights.link)) " × link; a memory reached through a link (via) \
                 scores its match's total × the link's weight. Searching here counts as a recall, \
                 as the API's search does."
            }
        },
    ))
}
