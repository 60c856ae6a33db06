//! Targets `init_request` and `tool_request`: the JSON bodies of the conversation-initiation
//! webhook and of the `memory_query` tool, read as the query service reads them (serde_json
//! into `ConversationInitRequest` / `MemoryQueryRequest`, which is all axum's `Json` does), and
//! the identity tokens they carry (`IdentityKeys`).
//!
//! Input: the raw body. Checks: parse → serialise → parse gives the same request (floats in
//! the opaque `sip_headers` within an ulp or two); empty
//! identity fields read as absent and the other party's number follows the direction; the
//! init answer (the token issued for the caller's guest id, in `memory_user_id` and `user_id`)
//! serialises to a body that parses back the same, and its token is accepted by the tool for
//! this agent and conversation; a tool call's `user_id` is accepted only if it is a token of
//! ours, unexpired and for this agent and conversation; a token issued for the request's
//! identities verifies.

use std::sync::LazyLock;

use memvox_elevenlabs::initiation::remote_party;
use memvox_elevenlabs::{
    ConversationInitRequest, ConversationInitResponse, DynamicVariableName, MemoryQueryRequest,
};
use memvox_identity::{Claims, Expected, IdentityKeys, Issuer};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{NOW_UNIX_SECS, same_json};

/// Our number, for the direction-aware caller lookup.
const OWN_NUMBER: &str = "+14155550142";
/// Lifetime of issued tokens, as configured by default.
const TOKEN_TTL_SECS: u64 = 3600;
/// The dynamic variable the init answer carries the token in.
const MEMORY_USER_ID: DynamicVariableName = DynamicVariableName::from_static("memory_user_id");

/// memvox's signing key and one integrator secret.
pub(crate) static KEYS: LazyLock<IdentityKeys> = LazyLock::new(|| {
    IdentityKeys::new(
        Some(b"fuzz-signing-key".to_vec()),
        &["fuzz-integrator-secret".to_owned()],
        TOKEN_TTL_SECS,
    )
});

/// Fuzzes the conversation-initiation request and the answer built from it.
pub fn init_request(data: &[u8]) {
    let Some(request) = parsed::<ConversationInitRequest>(data) else {
        return;
    };
    round_trips(&request);
    let caller = request.caller_id();
    assert!(caller.is_none_or(|id| !id.is_empty()));
    assert_eq!(request.remote_number(|_| false), caller);
    let remote = request.remote_number(|number| number == OWN_NUMBER);
    assert_eq!(
        remote,
        remote_party(caller, request.called_number.as_deref(), |n| n
            == OWN_NUMBER)
    );
    let Some(number) = remote else {
        return;
    };
    let user = KEYS.guest_user_id(number);
    let conversation = request.conversation_id.as_deref().filter(|c| !c.is_empty());
    let token = KEYS
        .issue(&user, &request.agent_id, conversation, NOW_UNIX_SECS)
        .unwrap_or_else(|| unreachable!("the keys can issue"));
    let answer = ConversationInitResponse::new()
        .with_variable(MEMORY_USER_ID, token.as_str())
        .with_user_id(token.as_str())
        .with_first_message(number);
    round_trips(&answer);
    let expected = Expected {
        agent: Some(&request.agent_id),
        conversation,
        at_secs: NOW_UNIX_SECS,
    };
    let verified = KEYS
        .verify(&token, &expected)
        .unwrap_or_else(|error| panic!("the init token is refused: {error:?}"));
    assert_eq!(verified.claims.sub, user);
    assert_eq!(verified.issuer, Issuer::Memvox);
}

/// Fuzzes the `memory_query` tool request and the identity token it may carry.
pub fn tool_request(data: &[u8]) {
    let Some(request) = parsed::<MemoryQueryRequest>(data) else {
        return;
    };
    round_trips(&request);
    for field in [request.user_id(), request.caller_id(), request.agent_id()] {
        assert!(field.is_none_or(|value| !value.is_empty()));
    }
    assert!(request.conversation_id().is_none_or(|id| !id.is_empty()));
    let _ = request.remote_number(|number| number == OWN_NUMBER);
    let expected = Expected {
        agent: request.agent_id(),
        conversation: request.conversation_id(),
        at_secs: NOW_UNIX_SECS,
    };
    if let Some(token) = request.user_id()
        && let Ok(verified) = KEYS.verify(token, &expected)
    {
        let claims = &verified.claims;
        assert!(!claims.sub.is_empty());
        assert!(claims.exp > NOW_UNIX_SECS, "an expired token accepted");
        assert!(expected.agent.is_none_or(|agent| agent == claims.agt));
        if let (Some(want), Some(have)) = (expected.conversation, claims.cnv.as_deref()) {
            assert_eq!(want, have, "a token of another conversation accepted");
        }
        assert_eq!(Claims::peek(token).as_ref(), Some(claims));
    }
    // The query as a user id: a token issued for it on this call verifies for this call.
    if !request.query.is_empty() {
        let agent = request.agent_id().unwrap_or_default();
        let token = KEYS
            .issue(
                &request.query,
                agent,
                request.conversation_id(),
                NOW_UNIX_SECS,
            )
            .unwrap_or_else(|| unreachable!("the keys can issue"));
        let verified = KEYS
            .verify(&token, &expected)
            .unwrap_or_else(|error| panic!("an issued token is refused: {error:?}"));
        assert_eq!(verified.claims.sub, request.query);
    }
}

/// `data` parsed as the service parses a JSON body, `None` if it does not parse.
fn parsed<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_json::from_slice(data).ok()
}

/// `value` serialises to JSON that parses back equal (floats in opaque JSON within an ulp or
/// two, see [`same_json`]).
fn round_trips<T: Serialize + DeserializeOwned + std::fmt::Debug>(value: &T) {
    let body = serde_json::to_vec(value).unwrap_or_else(|error| panic!("serialise: {error}"));
    let again: T = serde_json::from_slice(&body)
        .unwrap_or_else(|error| panic!("a serialised value does not parse: {error}"));
    let (before, after) = (json(value), json(&again));
    assert!(
        same_json(&before, &after),
        "parse → serialise → parse changed the value: {value:?} → {again:?}"
    );
}

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|error| panic!("serialise: {error}"))
}
