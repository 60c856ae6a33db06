//! Replaying recorded calls the way ElevenLabs delivers them: at call start the
//! conversation-init webhook for the caller's number ([`identify`]), after the call a signed
//! `post_call_transcription` webhook ([`webhook`]) whose initiation data carries the dynamic
//! variables init returned, and whose phone-call metadata names the caller as an inbound
//! Twilio call does.

use std::collections::BTreeMap;

use memvox_identity::Claims;
use serde_json::{Map, Value, json};

use super::client::Client;
use super::corpus::Call;

/// Our agent's phone number (the number the callers dial).
const AGENT_NUMBER: &str = "+14155550100";

/// Who a call is with, as ElevenLabs knows it after conversation-init.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// `memory_user_id` from init: the identity token the memory-query tool's `user_id` is
    /// bound to and ElevenLabs echoes as `data.user_id`.
    pub memory_user_id: String,
    /// The user the token names (read without verifying: only for the REST listing).
    pub user_id: String,
    /// Every dynamic variable init returned.
    pub dynamic_variables: Map<String, Value>,
    /// The first-message override, if init sent one.
    pub first_message: Option<String>,
}

/// The identity of a call from `caller_number` to `agent_id`, learned the way ElevenLabs
/// learns it: `POST /webhook/conversation-init` with the caller id, then the `memory_user_id`
/// dynamic variable of the answer (falling back to its top-level `user_id`). The one place the
/// runner decides who a caller is.
pub async fn identify(
    client: &Client,
    caller_number: &str,
    agent_id: &str,
    conversation_id: &str,
) -> anyhow::Result<Identity> {
    let request = json!({
        "caller_id": caller_number,
        "called_number": AGENT_NUMBER,
        "agent_id": agent_id,
        "call_sid": call_sid(conversation_id),
        "conversation_id": conversation_id,
    });
    let answer = client.conversation_init(&request).await?;
    let dynamic_variables = answer
        .get("dynamic_variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let memory_user_id = dynamic_variables
        .get("memory_user_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .or_else(|| answer.get("user_id").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let user_id = Claims::peek(&memory_user_id)
        .map(|claims| claims.sub)
        .unwrap_or_default();
    let first_message = answer
        .pointer("/conversation_config_override/agent/first_message")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Identity {
        memory_user_id,
        user_id,
        dynamic_variables,
        first_message,
    })
}

/// A Twilio-looking call sid derived from the conversation id (stable across runs).
fn call_sid(conversation_id: &str) -> String {
    let tail: String = conversation_id.chars().rev().take(32).collect();
    format!("CA{tail}")
}

/// The `post_call_transcription` webhook body ElevenLabs would send for `call`, in the shape
/// of `fixtures/elevenlabs/post_call_transcription.json`.
pub fn webhook(call: &Call, identity: &Identity) -> Value {
    let duration = call.turns.last().map_or(0, |t| t.time_in_call_secs) + 3;
    let transcript: Vec<Value> = call
        .turns
        .iter()
        .map(|turn| {
            json!({
                "role": turn.role,
                "message": turn.message,
                "tool_calls": [],
                "tool_results": [],
                "feedback": null,
                "llm_override": null,
                "time_in_call_secs": turn.time_in_call_secs,
                "conversation_turn_metrics": null,
                "rag_retrieval_info": null,
                "llm_usage": null,
                "interrupted": false,
                "original_message": null,
                "source_medium": if turn.role == "user" { json!("audio") } else { Value::Null },
            })
        })
        .collect();
    let sid = call_sid(&call.conversation_id);
    let mut variables: BTreeMap<String, Value> = identity
        .dynamic_variables
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, value) in [
        ("system__agent_id", json!(call.agent_id)),
        ("system__current_agent_id", json!(call.agent_id)),
        ("system__caller_id", json!(call.caller_number)),
        ("system__called_number", json!(AGENT_NUMBER)),
        ("system__call_sid", json!(sid)),
        ("system__conversation_id", json!(call.conversation_id)),
        ("system__call_duration_secs", json!(duration)),
    ] {
        variables.insert(name.to_owned(), value);
    }
    let user_id = Some(identity.memory_user_id.as_str()).filter(|id| !id.is_empty());
    json!({
        "type": "post_call_transcription",
        "event_timestamp": call.start_time_unix_secs + duration,
        "data": {
            "agent_id": call.agent_id,
            "agent_name": null,
            "conversation_id": call.conversation_id,
            "status": "done",
            "user_id": user_id,
            "branch_id": null,
            "version_id": null,
            "environment": null,
            "transcript": transcript,
            "metadata": {
                "start_time_unix_secs": call.start_time_unix_secs,
                "accepted_time_unix_secs": call.start_time_unix_secs,
                "call_duration_secs": duration,
                "cost": null,
                "phone_call": {
                    "type": "twilio",
                    "direction": "inbound",
                    "phone_number_id": "phnum_eval0agentline",
                    "agent_number": AGENT_NUMBER,
                    "external_number": call.caller_number,
                    "call_result": "answered",
                    "stream_sid": format!("MZ{}", &sid[2..]),
                    "call_sid": sid,
                },
                "batch_call": null,
                "termination_reason": "Call ended by remote party",
                "error": null,
                "main_language": "en",
                "text_only": false,
                "conversation_initiation_source": "twilio",
                "conversation_initiation_source_version": null,
                "timezone": null,
            },
            "analysis": null,
            "conversation_initiation_client_data": {
                "conversation_config_override": {
                    "agent": {
                        "prompt": null,
                        "first_message": identity.first_message,
                        "language": "en",
                    },
                    "tts": {"voice_id": null},
                },
                "custom_llm_extra_body": {},
                "user_id": user_id,
                "source_info": {"source": "twilio", "version": null},
                "branch_id": null,
                "environment": null,
                "dynamic_variables": variables,
            },
            "has_audio": true,
            "has_user_audio": true,
            "has_response_audio": true,
            "has_auxiliary_audio": false,
        }
    })
}

/// Replays `calls` in time order (init, then the signed webhook); returns each probe caller's
/// identity as of their last call.
pub async fn replay(client: &Client, calls: &[Call]) -> anyhow::Result<BTreeMap<String, Identity>> {
    let mut ordered: Vec<&Call> = calls.iter().collect();
    ordered.sort_by_key(|call| call.start_time_unix_secs);
    let mut identities = BTreeMap::new();
    for (done, call) in ordered.into_iter().enumerate() {
        let identity = identify(
            client,
            &call.caller_number,
            &call.agent_id,
            &call.conversation_id,
        )
        .await?;
        let body = serde_json::to_vec(&webhook(call, &identity))?;
        client.post_call(&body).await?;
        identities.insert(call.caller.clone(), identity);
        if (done + 1) % 25 == 0 || done + 1 == calls.len() {
            eprint!("\r  replayed {}/{} calls", done + 1, calls.len());
        }
    }
    eprintln!();
    Ok(identities)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::eval::corpus::Turn;

    #[test]
    fn the_webhook_parses_as_elevenlabs_transcription_with_the_caller_and_the_user() {
        let call = Call {
            caller: "caller_01".into(),
            caller_number: "+14155550200".into(),
            conversation_id: "conv_test0000000000000000000000".into(),
            agent_id: "agent_x".into(),
            start_time_unix_secs: 1_770_000_000,
            turns: vec![
                Turn {
                    role: "agent".into(),
                    message: "Hello".into(),
                    time_in_call_secs: 0,
                },
                Turn {
                    role: "user".into(),
                    message: "Hi".into(),
                    time_in_call_secs: 4,
                },
            ],
        };
        let mut variables = Map::new();
        variables.insert("memory_user_id".into(), json!("mvx1.token"));
        let identity = Identity {
            memory_user_id: "mvx1.token".into(),
            user_id: "guest_abc".into(),
            dynamic_variables: variables,
            first_message: None,
        };
        let body = serde_json::to_vec(&webhook(&call, &identity)).unwrap();
        let event = memvox_elevenlabs::WebhookEvent::parse(&body).unwrap();
        let memvox_elevenlabs::EventPayload::Transcription(data) = event.payload else {
            panic!("not a transcription");
        };
        assert_eq!(data.remote_number(|_| false), Some("+14155550200"));
        assert_eq!(data.user_id(), Some("mvx1.token"));
    }
}
