//! The ElevenLabs API requests that connect an agent to memvox, as exact request bodies: what
//! `memvox elevenlabs config` prints. Shapes follow the official SDKs (spec §1.1, §3.5, §4.1);
//! `fixtures/elevenlabs/api_*.json` pin them, with their sources in the fixtures' README.
//!
//! 1. `POST /v1/workspace/webhooks`: the post-call webhook, HMAC-signed; its response's
//!    `webhook_secret` (shown once) is memvox's `gateway.webhook_secrets`, its `webhook_id`
//!    goes into request 3.
//! 2. `POST /v1/convai/tools`: the `memory_query` tool, wrapped in `{"tool_config": …}`; its
//!    response's `id` is attached to the agent's tools.
//! 3. `PATCH /v1/convai/agents/{agent_id}`: the agent's post-call webhook (events,
//!    `transcript_format: "json"`) and conversation-initiation webhook with its secret header,
//!    and the overrides memvox uses — fetching initiation data from the webhook, and the first
//!    message only when memvox sends one.
//! 4. With the custom-LLM proxy, `PATCH /v1/convai/agents/{agent_id}` again: the agent's LLM
//!    becomes memvox's proxy (`llm: "custom-llm"`, `custom_llm` with its URL, model, API key
//!    secret and the identity headers bound to dynamic variables).

use serde_json::{Value, json};

use crate::identity_headers;

/// Post-call events memvox subscribes to (`ConvAiWebhooks.events`; not payload `type`s).
pub const POST_CALL_EVENTS: [&str; 2] = ["transcript", "call_initiation_failure"];

/// One API request: method, path and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// HTTP method.
    pub method: &'static str,
    /// Path under `https://api.elevenlabs.io`.
    pub path: String,
    /// The exact JSON body.
    pub body: Value,
}

/// What the agent's settings need from memvox's deployment.
#[derive(Debug, Clone)]
pub struct AgentSetup<'a> {
    /// The agent to configure.
    pub agent_id: &'a str,
    /// `webhook_id` of the post-call webhook (request 1's response).
    pub post_call_webhook_id: &'a str,
    /// memvox's conversation-initiation URL.
    pub init_url: &'a str,
    /// The header carrying the initiation secret (`query.init_secret_header`).
    pub init_secret_header: &'a str,
    /// The workspace secret holding that header's value.
    pub init_secret_id: &'a str,
    /// Whether memvox sends a first-message override (`query.first_message_override`).
    pub first_message_override: bool,
}

/// Request 1: the HMAC-signed workspace webhook for post-call deliveries to `url`.
pub fn create_post_call_webhook(name: &str, url: &str) -> ApiRequest {
    ApiRequest {
        method: "POST",
        path: "/v1/workspace/webhooks".to_owned(),
        body: json!({"settings": {"auth_type": "hmac", "name": name, "webhook_url": url}}),
    }
}

/// Request 2: creates the tool `tool_config` (from [`crate::tool::memory_query_tool_config`]).
pub fn create_tool(tool_config: Value) -> ApiRequest {
    ApiRequest {
        method: "POST",
        path: "/v1/convai/tools".to_owned(),
        body: json!({ "tool_config": tool_config }),
    }
}

/// Request 3: the agent's webhooks and overrides.
pub fn update_agent(setup: &AgentSetup<'_>) -> ApiRequest {
    let mut overrides = json!({"enable_conversation_initiation_client_data_from_webhook": true});
    if setup.first_message_override {
        overrides["conversation_config_override"] = json!({"agent": {"first_message": true}});
    }
    let mut headers = serde_json::Map::new();
    headers.insert(
        setup.init_secret_header.to_owned(),
        json!({"secret_id": setup.init_secret_id}),
    );
    ApiRequest {
        method: "PATCH",
        path: format!("/v1/convai/agents/{}", setup.agent_id),
        body: json!({
            "platform_settings": {
                "workspace_overrides": {
                    "webhooks": {
                        "post_call_webhook_id": setup.post_call_webhook_id,
                        "events": POST_CALL_EVENTS,
                        "transcript_format": "json"
                    },
                    "conversation_initiation_client_data_webhook": {
                        "url": setup.init_url,
                        "request_headers": headers
                    }
                },
                "overrides": overrides
            }
        }),
    }
}

/// What the agent's Custom LLM settings need from memvox's deployment.
#[derive(Debug, Clone)]
pub struct CustomLlmSetup<'a> {
    /// The agent to configure.
    pub agent_id: &'a str,
    /// memvox's Custom LLM URL: the deployment's base URL + `/llm/v1` (ElevenLabs appends
    /// `/chat/completions`).
    pub url: &'a str,
    /// The model name the agent sends (mapped by `query.llm_proxy.models`).
    pub model_id: &'a str,
    /// The workspace secret holding an LLM token (`query.llm_proxy.token_sha256`), sent as
    /// `Authorization: Bearer`.
    pub api_key_secret_id: &'a str,
}

/// Request 4: the agent's LLM is memvox's custom-LLM proxy, with the identity headers every
/// channel has bound to their dynamic variables ([`identity_headers::EVERY_CHANNEL`]).
pub fn use_custom_llm(setup: &CustomLlmSetup<'_>) -> ApiRequest {
    let headers: serde_json::Map<String, Value> = identity_headers::EVERY_CHANNEL
        .iter()
        .map(|(header, variable)| ((*header).to_owned(), json!({ "variable_name": variable })))
        .collect();
    ApiRequest {
        method: "PATCH",
        path: format!("/v1/convai/agents/{}", setup.agent_id),
        body: json!({
            "conversation_config": {
                "agent": {
                    "prompt": {
                        "llm": "custom-llm",
                        "custom_llm": {
                            "url": setup.url,
                            "model_id": setup.model_id,
                            "api_key": {"secret_id": setup.api_key_secret_id},
                            "request_headers": headers
                        }
                    }
                }
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(first_message_override: bool) -> AgentSetup<'static> {
        AgentSetup {
            agent_id: "agent_1",
            post_call_webhook_id: "wh_1",
            init_url: "https://m.example/webhook/conversation-init",
            init_secret_header: "x-memvox-secret",
            init_secret_id: "sec_1",
            first_message_override,
        }
    }

    #[test]
    fn overrides_enable_only_what_memvox_sends() {
        let without = update_agent(&setup(false)).body;
        let overrides = &without["platform_settings"]["overrides"];
        assert_eq!(
            overrides,
            &json!({"enable_conversation_initiation_client_data_from_webhook": true})
        );
        let with = update_agent(&setup(true)).body;
        assert_eq!(
            with["platform_settings"]["overrides"]["conversation_config_override"],
            json!({"agent": {"first_message": true}})
        );
        let hook = &without["platform_settings"]["workspace_overrides"]["conversation_initiation_client_data_webhook"];
        assert_eq!(
            hook["request_headers"]["x-memvox-secret"],
            json!({"secret_id": "sec_1"})
        );
    }
}
