//! The MCP tools: their names, descriptions and argument types, whose JSON schemas (generated
//! from the types, doc comments as descriptions) are what an MCP client's LLM reads.
//!
//! Every argument type takes an optional `user_id`, which only an admin-token request may (and
//! must) give; for a request bound to a caller the listed schemas leave it out, so the model
//! is never invited to name anyone.

use std::sync::Arc;

use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmcp::schemars::JsonSchema;
use serde::Deserialize;

/// `search_memories`.
pub const SEARCH_MEMORIES: &str = "search_memories";
/// `add_memory`.
pub const ADD_MEMORY: &str = "add_memory";
/// `get_profile`.
pub const GET_PROFILE: &str = "get_profile";
/// `forget_memory`.
pub const FORGET_MEMORY: &str = "forget_memory";
/// `list_recent_calls`.
pub const LIST_RECENT_CALLS: &str = "list_recent_calls";

/// Every tool's name, in the order [`definitions`] lists them.
pub const NAMES: [&str; 5] = [
    SEARCH_MEMORIES,
    ADD_MEMORY,
    GET_PROFILE,
    FORGET_MEMORY,
    LIST_RECENT_CALLS,
];

/// The sector names, as the schemas list them (tested against `memvox_core::Sector::ALL`).
const SECTORS: [&str; 5] = [
    "semantic",
    "episodic",
    "procedural",
    "emotional",
    "reflective",
];

/// Arguments of `search_memories`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct SearchArgs {
    /// The question, in words, e.g. "what is the caller's dog called" or "what did they order
    /// in May".
    pub query: String,
    /// How many memories to return, best first (default 3, at most 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 20))]
    pub limit: Option<u32>,
    /// Only memories of these sectors: semantic (facts), episodic (events), procedural (how
    /// they like things done), emotional (feelings), reflective (insights).
    #[serde(default)]
    #[schemars(extend("items" = {"type": "string", "enum": SECTORS}))]
    pub sectors: Option<Vec<String>>,
    /// Admin tokens only: the user whose memories to search.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Arguments of `add_memory`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct AddArgs {
    /// One short fact about the caller, in the third person, e.g. "Prefers morning
    /// appointments".
    pub content: String,
    /// Kind of memory: semantic (a fact, the default), episodic (an event), procedural (how
    /// they like things done), emotional (a feeling), reflective (an insight).
    #[serde(default)]
    #[schemars(extend("enum" = SECTORS))]
    pub sector: Option<String>,
    /// Importance from 0 to 1 (default 0.5).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub salience: Option<f64>,
    /// Admin tokens only: the user to add the memory to.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Arguments of `get_profile`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct ProfileArgs {
    /// Admin tokens only: the user whose profile to read.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Arguments of `forget_memory`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct ForgetArgs {
    /// The `id` of the memory to delete, as `search_memories` or `get_profile` returned it.
    pub memory_id: i64,
    /// Admin tokens only: the user the memory belongs to.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Arguments of `list_recent_calls`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct RecentCallsArgs {
    /// How many calls to list, newest first (default 5, at most 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 20))]
    pub limit: Option<u32>,
    /// Admin tokens only: the user whose calls to list.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// The five tools, with the schema for an admin request (`user_id` required) or for one bound
/// to a caller (no `user_id`).
pub fn definitions(admin: bool) -> Vec<Tool> {
    let schema = |schema: Arc<JsonObject>| Arc::new(for_principal(&schema, admin));
    let read = ToolAnnotations::new().read_only(true);
    vec![
        Tool::new(
            SEARCH_MEMORIES,
            "Search what memvox remembers about the caller — facts and moments from past calls — \
             for a question in words. Returns the best memories first (id, kind, content, date, \
             source call) and a one-sentence summary; an empty list when nothing is known.",
            schema(schema_for_type::<SearchArgs>()),
        )
        .with_annotations(read.clone()),
        Tool::new(
            ADD_MEMORY,
            "Remember a new fact about the caller, searchable at once. Use for something the \
             caller asked to be remembered or a durable preference; not for small talk.",
            schema(schema_for_type::<AddArgs>()),
        )
        .with_annotations(ToolAnnotations::new().read_only(false).destructive(false)),
        Tool::new(
            GET_PROFILE,
            "The caller's profile: their summary, when they last called, how many memories are \
             kept by sector, and their five most important memories.",
            schema(schema_for_type::<ProfileArgs>()),
        )
        .with_annotations(read.clone()),
        Tool::new(
            FORGET_MEMORY,
            "Delete one of the caller's memories for good, by its id — when the caller asks to \
             forget something or says it is wrong.",
            schema(schema_for_type::<ForgetArgs>()),
        )
        .with_annotations(ToolAnnotations::new().read_only(false).destructive(true)),
        Tool::new(
            LIST_RECENT_CALLS,
            "The caller's most recent calls, newest first: when, how long, with which agent, \
             and the platform's summary of each.",
            schema(schema_for_type::<RecentCallsArgs>()),
        )
        .with_annotations(read),
    ]
}

/// `schema` for the request's principal: `user_id` required for an admin, absent otherwise.
fn for_principal(schema: &JsonObject, admin: bool) -> JsonObject {
    let mut schema = schema.clone();
    if admin {
        let required = schema
            .entry("required")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let Some(required) = required.as_array_mut() {
            required.push("user_id".into());
        }
    } else if let Some(properties) = schema
        .get_mut("properties")
        .and_then(|properties| properties.as_object_mut())
    {
        properties.remove("user_id");
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use memvox_core::Sector;

    #[test]
    fn listed_sectors_are_the_sectors() {
        let names: Vec<&str> = Sector::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, SECTORS);
    }

    #[test]
    fn user_id_is_required_for_admins_and_hidden_from_callers() {
        for (admin, tools) in [(true, definitions(true)), (false, definitions(false))] {
            let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
            assert_eq!(names, NAMES);
            for tool in tools {
                let schema = tool.input_schema;
                let listed = schema["properties"].get("user_id").is_some();
                let required = schema
                    .get("required")
                    .and_then(|r| r.as_array())
                    .is_some_and(|r| r.iter().any(|name| name == "user_id"));
                assert_eq!((listed, required), (admin, admin), "{}", tool.name);
            }
        }
    }
}
