//! Running a tool call: who it is about, then the query service's own code path for it — the
//! memory-query tool's search and ranking, the REST API's add, delete and profile, the
//! conversation-init context for the top memories, and the calls the export reads.

use std::time::Instant;

use memvox_core::Sector;
use memvox_core::calendar::rfc3339;
use rmcp::model::JsonObject;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::ToolError;
use super::principal::Principal;
use super::tools::{
    ADD_MEMORY, AddArgs, FORGET_MEMORY, ForgetArgs, GET_PROFILE, LIST_RECENT_CALLS, ProfileArgs,
    RecentCallsArgs, SEARCH_MEMORIES, SearchArgs,
};
use crate::routes::memories::{self, AddMemory, default_salience};
use crate::routes::users::{profile, require_user};
use crate::routes::{init, tool};
use crate::search::{Recall, SearchParams, search};
use crate::{ApiError, QueryState};

/// Calls listed when no limit is given, and the most listed.
const CALLS_DEFAULT: u32 = 5;
const CALLS_MAX: u32 = 20;

/// What a tool call came to.
#[derive(Debug)]
pub struct Outcome {
    /// The user it was about, once known (an admin's named user, or the caller resolved).
    pub user: Option<String>,
    /// Its result as JSON, or [`ToolError`]: unknown tool, bad arguments, a user the principal
    /// may not reach, nobody to act on, or what the API would answer.
    pub result: Result<Value, ToolError>,
}

/// Runs tool `name` with `arguments` for `principal`.
#[tracing::instrument(level = "debug", name = "mcp_tool", skip_all, fields(tool = %name))]
pub async fn call(
    state: &QueryState,
    principal: &Principal,
    name: &str,
    arguments: Option<JsonObject>,
) -> Outcome {
    let mut run = Run {
        state,
        principal,
        user: None,
    };
    let result = run.dispatch(name, arguments).await;
    Outcome {
        user: run.user,
        result,
    }
}

/// One call on its way: the user it is about is kept once [`Run::target`] finds them.
struct Run<'a> {
    state: &'a QueryState,
    principal: &'a Principal,
    user: Option<String>,
}

impl Run<'_> {
    /// Runs tool `name` with `arguments`.
    async fn dispatch(
        &mut self,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<Value, ToolError> {
        let (state, principal) = (self.state, self.principal);
        match name {
            SEARCH_MEMORIES => {
                let args: SearchArgs = parse(name, arguments)?;
                let started = Instant::now();
                let user = self.target(args.user_id).await?;
                require_named(state, principal, user.as_deref()).await?;
                let params = SearchParams {
                    query: args.query,
                    limit: args.limit,
                    sectors: args.sectors,
                    explain: false,
                };
                // Nobody known: nothing to recall, as the memory-query tool answers.
                Ok(json!(
                    search(state, user.as_deref(), &params, started, Recall::Reinforce).await?
                ))
            }
            ADD_MEMORY => {
                let args: AddArgs = parse(name, arguments)?;
                let sector = args.sector.as_deref().unwrap_or(Sector::Semantic.as_str());
                let body = AddMemory {
                    content: args.content,
                    sector: sector
                        .parse()
                        .map_err(|e| ApiError::Invalid(format!("{e}")))?,
                    salience: args.salience.unwrap_or_else(default_salience),
                };
                let user = someone(self.target(args.user_id).await?)?;
                Ok(json!(memories::add(state, &user, &body).await?))
            }
            GET_PROFILE => {
                let args: ProfileArgs = parse(name, arguments)?;
                let user = someone(self.target(args.user_id).await?)?;
                let profile = profile(state, &user).await?;
                let top = init::context(state, &user).await.map_err(ApiError::from)?;
                Ok(json!({ "profile": profile, "top_memories": top }))
            }
            FORGET_MEMORY => {
                let args: ForgetArgs = parse(name, arguments)?;
                let user = someone(self.target(args.user_id).await?)?;
                memories::delete(state, &user, args.memory_id).await?;
                Ok(json!({ "deleted": args.memory_id }))
            }
            LIST_RECENT_CALLS => {
                let args: RecentCallsArgs = parse(name, arguments)?;
                let user = someone(self.target(args.user_id).await?)?;
                require_named(state, principal, Some(&user)).await?;
                let limit = args.limit.unwrap_or(CALLS_DEFAULT).clamp(1, CALLS_MAX);
                Ok(json!({ "calls": recent_calls(state, &user, limit as usize).await? }))
            }
            other => Err(ToolError::UnknownTool(other.to_owned())),
        }
    }

    /// The user a call is about: the one an admin names, or the caller a tool-token request's
    /// identity headers resolve to (`None`: nobody known); kept for the log.
    async fn target(&mut self, user_id: Option<String>) -> Result<Option<String>, ToolError> {
        let named = user_id.filter(|id| !id.trim().is_empty());
        let user = match self.principal {
            Principal::Admin => Some(named.ok_or(ToolError::UserIdRequired)?),
            Principal::Caller(_) if named.is_some() => return Err(ToolError::UserIdNotAllowed),
            Principal::Caller(claims) => tool::caller(self.state, claims).await?,
        };
        self.user.clone_from(&user);
        Ok(user)
    }
}

/// The arguments as `T`.
fn parse<T: DeserializeOwned>(tool: &str, arguments: Option<JsonObject>) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(arguments.unwrap_or_default())).map_err(|error| {
        ToolError::Arguments {
            tool: tool.to_owned(),
            reason: error.to_string(),
        }
    })
}

/// A user an admin named must exist, as on `/v1` (a caller's reads answer empty instead).
async fn require_named(
    state: &QueryState,
    principal: &Principal,
    user: Option<&str>,
) -> Result<(), ApiError> {
    match (principal, user) {
        (Principal::Admin, Some(user)) => require_user(state, user).await.map(drop),
        _ => Ok(()),
    }
}

/// The user, or [`ToolError::NoCaller`].
fn someone(user: Option<String>) -> Result<String, ToolError> {
    user.ok_or(ToolError::NoCaller)
}

/// The user's `limit` most recent calls, newest first: header and the platform's summary.
async fn recent_calls(
    state: &QueryState,
    user_id: &str,
    limit: usize,
) -> Result<Vec<Value>, ApiError> {
    let conversations = state.store.user_conversations(user_id).await?;
    let mut calls = Vec::with_capacity(limit.min(conversations.len()));
    for conversation_id in conversations.iter().rev().take(limit) {
        let Some(call) = state.store.get_call(conversation_id).await? else {
            continue;
        };
        let header = &call.conversation;
        calls.push(json!({
            "conversation_id": header.conversation_id,
            "agent_id": header.agent_id,
            "started_at": rfc3339(header.started_at),
            "duration_secs": header.duration_secs,
            "status": header.status,
            "turns": call.turns.len(),
            "summary": call.analysis.and_then(|analysis| analysis.summary),
        }));
    }
    Ok(calls)
}
