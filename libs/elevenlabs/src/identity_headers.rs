//! The request headers memvox reads a caller's identity from on `/mcp` and the custom-LLM
//! proxy, each bound in the agent's settings to the dynamic variable that carries it (header
//! values of an MCP server or a Custom LLM may be `{"variable_name": ...}`), so the LLM never
//! fills them and `system__*` values cannot be set by a client.

/// The identity token (the `memory_user_id` variable conversation-init returns, or an
/// integrator's token).
pub const USER_ID_HEADER: &str = "x-memvox-user-id";
/// The agent on the call (`system__agent_id`).
pub const AGENT_ID_HEADER: &str = "x-memvox-agent-id";
/// The conversation (`system__conversation_id`).
pub const CONVERSATION_ID_HEADER: &str = "x-memvox-conversation-id";
/// The caller's number (`system__caller_id`; voice channels only).
pub const CALLER_ID_HEADER: &str = "x-memvox-caller-id";
/// The number called (`system__called_number`; voice channels only).
pub const CALLED_NUMBER_HEADER: &str = "x-memvox-called-number";

/// The headers every channel can fill, each with its dynamic variable: what memvox's printed
/// agent settings bind. The number headers are left out because `system__caller_id` and
/// `system__called_number` exist on voice channels only.
pub const EVERY_CHANNEL: [(&str, &str); 3] = [
    (USER_ID_HEADER, "memory_user_id"),
    (AGENT_ID_HEADER, "system__agent_id"),
    (CONVERSATION_ID_HEADER, "system__conversation_id"),
];
