//! Whose memories a proxy request may read: the caller the conversation belongs to, by the
//! memory-query tool's own rules ([`crate::routes::tool::caller`]).
//!
//! The claims come first from request headers the agent's Custom LLM settings bind to dynamic
//! variables — the MCP endpoint's identity headers (`x-memvox-user-id` ← `memory_user_id`,
//! `x-memvox-agent-id` ← `system__agent_id`, `x-memvox-conversation-id` ←
//! `system__conversation_id`, `x-memvox-caller-id` ← `system__caller_id`,
//! `x-memvox-called-number` ← `system__called_number`); what a header does not carry is taken
//! from the body ([`BodyIdentity`]: the extra body's identity token, agent and conversation,
//! or the conversation's `user_id`). Phone numbers are read from headers only: `system__*`
//! variables cannot be set by a client, whereas the extra body can be. So a caller is reached
//! through an identity token memvox (or the integrator) signed for this agent and
//! conversation, or through the phone channel; an id a web client typed reaches nobody.

use axum::http::HeaderMap;
use memvox_elevenlabs::MemoryQueryRequest;

use crate::llm_proxy::request::BodyIdentity;
use crate::mcp::principal::claims;

/// The identity claims of a request: its headers, completed from its body.
pub fn proxy_claims(headers: &HeaderMap, body: &BodyIdentity) -> MemoryQueryRequest {
    let mut claims = claims(headers);
    let fill = |slot: &mut Option<String>, from: &Option<String>| {
        if slot.is_none() {
            slot.clone_from(from);
        }
    };
    fill(&mut claims.user_id, &body.user_id);
    fill(&mut claims.agent_id, &body.agent_id);
    fill(&mut claims.conversation_id, &body.conversation_id);
    claims
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn headers_win_and_numbers_never_come_from_the_body() {
        let mut headers = HeaderMap::new();
        headers.insert("x-memvox-agent-id", HeaderValue::from_static("agent_h"));
        headers.insert("x-memvox-caller-id", HeaderValue::from_static("+1555"));
        let body = BodyIdentity {
            user_id: Some("mvx1.body".into()),
            agent_id: Some("agent_b".into()),
            conversation_id: Some("conv_b".into()),
        };
        let claims = proxy_claims(&headers, &body);
        assert_eq!(claims.agent_id(), Some("agent_h"));
        assert_eq!(claims.user_id(), Some("mvx1.body"));
        assert_eq!(claims.conversation_id(), Some("conv_b"));
        assert_eq!(claims.caller_id(), Some("+1555"));

        let claims = proxy_claims(&HeaderMap::new(), &body);
        assert_eq!(claims.caller_id(), None);
        assert_eq!(claims.called_number, None);
    }
}
