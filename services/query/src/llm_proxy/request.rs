//! The chat-completions request as ElevenLabs sends it, and the changes the proxy makes before
//! forwarding it.
//!
//! ElevenLabs sends an OpenAI chat-completions body (`model`, `messages`, `stream`, `tools`,
//! `temperature`, `max_tokens`, ...) plus fields of its own: `user_id` (the conversation's user
//! id, which memvox's conversation-init sets to the caller's identity token) and, when the
//! agent allows the custom LLM extra body, `elevenlabs_extra_body` (the conversation's
//! `custom_llm_extra_body`, set by conversation-init or the client that started it). Those are
//! read for the caller's identity and removed: an OpenAI-compatible upstream refuses unknown
//! fields, and identity tokens are none of its business. Every other field — tools, tool calls,
//! tool results, sampling settings — is forwarded as it came.

use serde_json::{Map, Value};

use crate::ApiError;
use crate::llm_proxy::settings::ContextPlacement;

/// Fields ElevenLabs adds to the OpenAI body (read, then removed).
const ELEVENLABS_FIELDS: [&str; 3] = ["elevenlabs_extra_body", "custom_llm_extra_body", "user_id"];

/// Identity claims found in the body. Only a signed identity token is ever trusted from here
/// (a client can set the extra body); the agent and conversation only narrow what a token is
/// checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyIdentity {
    /// `memory_user_id` or `user_id` of the extra body, else the top-level `user_id`.
    pub user_id: Option<String>,
    /// `agent_id` of the extra body.
    pub agent_id: Option<String>,
    /// `conversation_id` of the extra body.
    pub conversation_id: Option<String>,
}

/// A chat-completions request on its way upstream.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    body: Map<String, Value>,
    /// Identity claims the body carried.
    pub identity: BodyIdentity,
}

impl ChatRequest {
    /// Reads a request body: takes out ElevenLabs' fields, checks `messages`.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] when `messages` is not an array of objects or `stream` is not a
    /// boolean.
    pub fn parse(mut body: Map<String, Value>) -> Result<Self, ApiError> {
        let [extra, custom, user_id] = ELEVENLABS_FIELDS.map(|field| body.remove(field));
        let extra = extra.or(custom);
        let text = |value: Option<&Value>| {
            value
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let field = |name: &str| text(extra.as_ref().and_then(|extra| extra.get(name)));
        let identity = BodyIdentity {
            user_id: field("memory_user_id")
                .or_else(|| field("user_id"))
                .or_else(|| text(user_id.as_ref())),
            agent_id: field("agent_id"),
            conversation_id: field("conversation_id"),
        };
        let messages_are_objects = body
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|messages| messages.iter().all(Value::is_object));
        if !messages_are_objects {
            return Err(ApiError::Invalid(
                "messages must be an array of message objects".to_owned(),
            ));
        }
        if body
            .get("stream")
            .is_some_and(|stream| !stream.is_boolean())
        {
            return Err(ApiError::Invalid("stream must be a boolean".to_owned()));
        }
        Ok(Self { body, identity })
    }

    fn messages(&self) -> &[Value] {
        self.body
            .get("messages")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn messages_mut(&mut self) -> &mut Vec<Value> {
        self.body
            .entry("messages")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .expect("checked by parse")
    }

    /// Whether the response is to be streamed (`stream: true`).
    pub fn is_stream(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }

    /// The model the request names.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// Sets the model forwarded (`None`: leaves the field as it is).
    pub fn set_model(&mut self, model: Option<String>) {
        if let Some(model) = model {
            self.body.insert("model".to_owned(), Value::String(model));
        }
    }

    /// The index and text of the latest user message with text (its string content, or its
    /// text parts joined), whatever tool messages follow it.
    fn latest_user(&self) -> Option<(usize, String)> {
        self.messages()
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, message)| message["role"] == "user")
            .find_map(|(index, message)| {
                let text = content_text(&message["content"]);
                (!text.trim().is_empty()).then_some((index, text))
            })
    }

    /// The text of the latest user message, if any.
    pub fn latest_user_text(&self) -> Option<String> {
        self.latest_user().map(|(_, text)| text)
    }

    /// Adds `context` where `placement` says.
    pub fn add_context(&mut self, context: &str, placement: ContextPlacement) {
        let before_user = self.latest_user().map(|(index, _)| index);
        let messages = self.messages_mut();
        let system = |text: &str| serde_json::json!({ "role": "system", "content": text });
        match (placement, before_user) {
            (ContextPlacement::BeforeUser, Some(index)) => {
                messages.insert(index, system(context));
            }
            _ => match messages.first_mut() {
                Some(first) if first["role"] == "system" => append_text(first, context),
                _ => messages.insert(0, system(context)),
            },
        }
    }

    /// The JSON body to forward.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).expect("a JSON map serialises")
    }
}

/// A message content's text: the string, or the `text` of its text parts joined by newlines.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|part| part["type"] == "text")
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Appends `text` to a system message: after its string content, or as one more text part.
fn append_text(message: &mut Value, text: &str) {
    match &mut message["content"] {
        Value::String(content) => {
            content.push_str("\n\n");
            content.push_str(text);
        }
        Value::Array(parts) => parts.push(serde_json::json!({ "type": "text", "text": text })),
        other => *other = Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> ChatRequest {
        let Value::Object(body) = body else {
            panic!("an object")
        };
        ChatRequest::parse(body).unwrap()
    }

    fn forwarded(request: &ChatRequest) -> Value {
        serde_json::from_slice(&request.to_bytes()).unwrap()
    }

    #[test]
    fn elevenlabs_fields_are_read_and_removed_and_the_rest_kept() {
        let request = parse(json!({
            "model": "memvox", "stream": true, "temperature": 0.3,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "function": {"name": "end_call"}}],
            "user_id": "mvx1.top",
            "elevenlabs_extra_body": {"memory_user_id": "mvx1.extra", "agent_id": "agent_1",
                                      "conversation_id": "conv_1", "caller_id": "+1555"}
        }));
        assert_eq!(request.identity.user_id.as_deref(), Some("mvx1.extra"));
        assert_eq!(request.identity.agent_id.as_deref(), Some("agent_1"));
        assert_eq!(request.identity.conversation_id.as_deref(), Some("conv_1"));
        let body = forwarded(&request);
        assert!(body.get("user_id").is_none() && body.get("elevenlabs_extra_body").is_none());
        assert_eq!(body["tools"][0]["function"]["name"], "end_call");
        assert_eq!(body["temperature"], 0.3);
        assert!(request.is_stream());

        let top = parse(json!({"messages": [], "user_id": "mvx1.top",
                               "custom_llm_extra_body": {"user_id": " "}}));
        assert_eq!(top.identity.user_id.as_deref(), Some("mvx1.top"));
    }

    #[test]
    fn malformed_messages_and_stream_are_refused() {
        for body in [
            json!({"model": "m"}),
            json!({"messages": "hi"}),
            json!({"messages": ["hi"]}),
            json!({"messages": [], "stream": "yes"}),
        ] {
            let Value::Object(body) = body else { panic!() };
            assert!(matches!(
                ChatRequest::parse(body),
                Err(ApiError::Invalid(_))
            ));
        }
    }

    #[test]
    fn the_latest_user_text_is_found_behind_tool_messages() {
        let request = parse(json!({"messages": [
            {"role": "system", "content": "You are kind."},
            {"role": "user", "content": "old question"},
            {"role": "assistant", "content": "old answer"},
            {"role": "user", "content": [{"type": "text", "text": "Where is"},
                                         {"type": "image_url", "image_url": {"url": "x"}},
                                         {"type": "text", "text": "my order?"}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "shipped"}
        ]}));
        assert_eq!(request.latest_user_text().unwrap(), "Where is\nmy order?");
        let none = parse(json!({"messages": [{"role": "user", "content": "  "},
                                             {"role": "assistant", "content": "hello"}]}));
        assert_eq!(none.latest_user_text(), None);
    }

    #[test]
    fn context_goes_into_the_system_prompt_or_before_the_user_message() {
        let messages = json!([
            {"role": "system", "content": "You are kind."},
            {"role": "user", "content": "hi"}
        ]);
        let mut request = parse(json!({ "messages": messages }));
        request.add_context("MEMORIES", ContextPlacement::System);
        let body = forwarded(&request);
        assert_eq!(body["messages"][0]["content"], "You are kind.\n\nMEMORIES");
        assert_eq!(body["messages"].as_array().unwrap().len(), 2);

        let mut request = parse(json!({ "messages": messages }));
        request.add_context("MEMORIES", ContextPlacement::BeforeUser);
        let body = forwarded(&request);
        assert_eq!(
            body["messages"][1],
            json!({"role": "system", "content": "MEMORIES"})
        );
        assert_eq!(body["messages"][2]["content"], "hi");

        let mut request = parse(json!({"messages": [{"role": "user", "content": "hi"}]}));
        request.add_context("MEMORIES", ContextPlacement::System);
        let body = forwarded(&request);
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "MEMORIES"})
        );

        let parts =
            json!({"messages": [{"role": "system", "content": [{"type": "text", "text": "A"}]}]});
        let mut request = parse(parts);
        request.add_context("MEMORIES", ContextPlacement::System);
        let body = forwarded(&request);
        assert_eq!(body["messages"][0]["content"][1]["text"], "MEMORIES");
    }
}
