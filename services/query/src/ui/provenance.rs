//! Where a memory came from: the call it cites (agent, time, duration, the platform's
//! summary) and its whole transcript with the cited turns highlighted, each turn anchored
//! (`#turn-N`) so a cited turn can be linked to; the inspector's script scrolls the first one
//! into view.
//!
//! A call is shown only when it is the memory's caller's: a provenance naming someone else's
//! conversation shows its id and nothing of it.

use maud::{Markup, html};
use memvox_core::{Memory, Role};

use super::layout::when;
use crate::{ApiError, QueryState};

/// The provenance section of `memory`'s page.
///
/// # Errors
/// Store failures.
pub async fn section(state: &QueryState, memory: &Memory) -> Result<Markup, ApiError> {
    let Some(source) = &memory.provenance else {
        return Ok(html! { p.empty { "Added by hand, not from a call." } });
    };
    let call = state
        .store
        .get_call(&source.conversation_id)
        .await?
        .filter(|call| call.conversation.user_id.as_deref() == Some(memory.user_id.as_str()));
    let cited = |index: u32| source.turn_indexes.contains(&index);
    Ok(html! {
        p {
            "Call " code { (source.conversation_id) } ", turns "
            @for (n, index) in source.turn_indexes.iter().enumerate() {
                @if n > 0 { ", " }
                a href={ "#turn-" (index) } { (index) }
            }
        }
        @match call {
            None => p.empty { "The call's transcript is no longer kept." },
            Some(call) => {
                @let conversation = &call.conversation;
                dl.facts {
                    dt { "Agent" } dd { code { (conversation.agent_id) } }
                    dt { "Started" } dd { (when(conversation.started_at)) }
                    dt { "Duration" }
                    dd { (conversation.duration_secs.map_or("unknown".to_owned(), |s| format!("{s} s"))) }
                    @if let Some(summary) = call.analysis.as_ref().and_then(|a| a.summary.as_deref()) {
                        dt { "Platform summary" } dd { (summary) }
                    }
                }
                ol.transcript start="0" {
                    @for turn in &call.turns {
                        @let class = if cited(turn.index) {
                            format!("{} cited", turn.role.as_str())
                        } else {
                            turn.role.as_str().to_owned()
                        };
                        li id={ "turn-" (turn.index) } value=(turn.index) class=(class) {
                            span.speaker {
                                (match turn.role { Role::User => "caller", Role::Agent => "agent" })
                            }
                            " "
                            span.time { (turn.time_in_call_secs) " s" }
                            @match &turn.message {
                                Some(message) => p { (message) },
                                None => p.tool { "(tool call)" },
                            }
                            @if cited(turn.index) { span.cite { "cited" } }
                        }
                    }
                }
            }
        }
    })
}
