//! The conversation-initiation ("personalization") webhook: the request ElevenLabs sends before an
//! inbound (or un-personalised outbound) phone call, and the response that personalises it.
//!
//! Spec §3. The request is not signed; authenticate it with a shared-secret header. The response
//! must carry `type: "conversation_initiation_client_data"` and *every* dynamic variable the agent
//! references (empty strings for unknown callers). `user_id` comes back as `data.user_id` in the
//! post-call webhook, so it carries our memory user id.
//!
//! Invariant: serialising a response never emits `null` for an unset optional field, so an unset
//! override is absent rather than an override to `null`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dynamic::{DynamicValue, DynamicVariableName};

/// Body of the conversation-initiation webhook request.
///
/// Inbound calls: `caller_id` is the caller, `called_number` our number. Outbound calls: the
/// meanings swap (`caller_id` is our number). On WhatsApp `caller_id` is a WhatsApp user id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationInitRequest {
    /// The agent being called.
    pub agent_id: String,
    /// Caller's number (inbound, E.164), our number (outbound) or a WhatsApp user id.
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Our number (inbound) or the number dialled (outbound).
    #[serde(default)]
    pub called_number: Option<String>,
    /// Provider call SID (Twilio `CA...`); empty on WhatsApp/SMS.
    #[serde(default)]
    pub call_sid: Option<String>,
    /// Conversation id; absent from older deliveries.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// SIP trunk calls only: the SIP call id.
    #[serde(default)]
    pub call_id: Option<String>,
    /// SIP trunk calls only: INVITE headers (shape undocumented; kept as raw JSON).
    #[serde(default)]
    pub sip_headers: Option<serde_json::Value>,
}

impl ConversationInitRequest {
    /// The caller's id (phone number for voice), or `None` if absent or empty.
    pub fn caller_id(&self) -> Option<&str> {
        self.caller_id.as_deref().filter(|id| !id.is_empty())
    }

    /// The number of the person on the other end of the line: `caller_id`, unless it is one of
    /// our own numbers (`is_own`) — an outbound call — when it is the dialled `called_number`.
    /// `None` when that side is absent or empty.
    pub fn remote_number(&self, is_own: impl Fn(&str) -> bool) -> Option<&str> {
        remote_party(self.caller_id(), self.called_number.as_deref(), is_own)
    }
}

/// The other party of a call from `caller` to `called` (ElevenLabs' `caller_id` and
/// `called_number`, which keep their names on outbound calls): `caller`, unless it is one of
/// our own numbers, when it is `called`. Empty values read as absent.
pub fn remote_party<'a>(
    caller: Option<&'a str>,
    called: Option<&'a str>,
    is_own: impl Fn(&str) -> bool,
) -> Option<&'a str> {
    let caller = caller.filter(|n| !n.is_empty())?;
    if is_own(caller) {
        called.filter(|n| !n.is_empty())
    } else {
        Some(caller)
    }
}

/// The `type` tag every initiation response carries.
pub const INIT_RESPONSE_TYPE: &str = "conversation_initiation_client_data";

/// Body of our response to the conversation-initiation webhook. Build it with the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationInitResponse {
    /// Always [`INIT_RESPONSE_TYPE`].
    #[serde(rename = "type")]
    pub response_type: String,
    /// Every custom dynamic variable the agent references.
    pub dynamic_variables: BTreeMap<DynamicVariableName, DynamicValue>,
    /// Overrides; each applies only if the agent enabled that override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_config_override: Option<ConversationConfigOverride>,
    /// Our memory user id; echoed as `data.user_id` in the post-call webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl Default for ConversationInitResponse {
    fn default() -> Self {
        Self {
            response_type: INIT_RESPONSE_TYPE.to_owned(),
            dynamic_variables: BTreeMap::new(),
            conversation_config_override: None,
            user_id: None,
        }
    }
}

impl ConversationInitResponse {
    /// An empty response: the type tag, no variables, no overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets dynamic variable `name` to `value` (replacing an earlier value).
    pub fn with_variable(
        mut self,
        name: DynamicVariableName,
        value: impl Into<DynamicValue>,
    ) -> Self {
        self.dynamic_variables.insert(name, value.into());
        self
    }

    /// Sets the top-level `user_id`.
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Overrides the agent's first message (needs the `agent.first_message` override enabled).
    pub fn with_first_message(mut self, message: impl Into<String>) -> Self {
        self.agent_override().first_message = Some(message.into());
        self
    }

    /// Overrides the conversation language (needs the `agent.language` override enabled).
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.agent_override().language = Some(language.into());
        self
    }

    /// Overrides the system prompt (needs the `agent.prompt.prompt` override enabled).
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        let agent = self.agent_override();
        agent
            .prompt
            .get_or_insert_with(PromptOverride::default)
            .prompt = Some(prompt.into());
        self
    }

    /// Overrides the TTS voice (needs the `tts.voice_id` override enabled).
    pub fn with_voice_id(mut self, voice_id: impl Into<String>) -> Self {
        let config = self
            .conversation_config_override
            .get_or_insert_with(ConversationConfigOverride::default);
        config.tts.get_or_insert_with(TtsOverride::default).voice_id = Some(voice_id.into());
        self
    }

    fn agent_override(&mut self) -> &mut AgentOverride {
        self.conversation_config_override
            .get_or_insert_with(ConversationConfigOverride::default)
            .agent
            .get_or_insert_with(AgentOverride::default)
    }
}

/// `conversation_config_override`, as sent in an initiation response and echoed in
/// `conversation_initiation_client_data` of the post-call webhook. Only the parts memvox uses
/// are modelled; others are ignored when reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationConfigOverride {
    /// Agent overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentOverride>,
    /// Text-to-speech overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts: Option<TtsOverride>,
}

/// `conversation_config_override.agent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentOverride {
    /// The first thing the agent says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_message: Option<String>,
    /// Conversation language code, e.g. `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Prompt override; an object, not a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<PromptOverride>,
}

/// `conversation_config_override.agent.prompt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptOverride {
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The LLM to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<String>,
}

/// `conversation_config_override.tts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TtsOverride {
    /// Voice id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_id: Option<String>,
    /// TTS model id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// Voice stability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<f64>,
    /// Speaking speed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Similarity boost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity_boost: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_response_has_only_type_and_variables() {
        let json = serde_json::to_value(ConversationInitResponse::new()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "conversation_initiation_client_data", "dynamic_variables": {}})
        );
    }

    #[test]
    fn prompt_and_voice_overrides_nest_as_documented() {
        let response = ConversationInitResponse::new()
            .with_prompt("Be brief.")
            .with_voice_id("voice_1");
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(
            json["conversation_config_override"],
            serde_json::json!({"agent": {"prompt": {"prompt": "Be brief."}}, "tts": {"voice_id": "voice_1"}})
        );
    }

    #[test]
    fn request_tolerates_missing_optional_fields_and_empty_caller() {
        let request: ConversationInitRequest =
            serde_json::from_str(r#"{"agent_id":"agent_1","caller_id":"","extra":1}"#).unwrap();
        assert_eq!(request.caller_id(), None);
        assert_eq!(request.conversation_id, None);
    }

    #[test]
    fn outbound_requests_key_on_the_dialled_number() {
        let request: ConversationInitRequest = serde_json::from_str(
            r#"{"agent_id":"a","caller_id":"+14155550142","called_number":"+14155550177"}"#,
        )
        .unwrap();
        let ours = |n: &str| n == "+14155550142";
        assert_eq!(request.remote_number(ours), Some("+14155550177"));
        assert_eq!(request.remote_number(|_| false), Some("+14155550142"));
    }
}
