//! Extraction by an OpenAI-compatible chat model: one structured completion per call.
//!
//! Owns [`OpenAiExtractor`]. One request carries the versioned prompt (`prompts/extract_v1.md`),
//! the transcript with its turn indexes, and the caller's existing similar memories with their
//! ids, and asks for JSON under a strict `json_schema` response format. Invariants:
//! - the answer is validated whole (see `schema`); an invalid, refused or truncated answer is
//!   asked for once more, with the reason, and a second failure is
//!   [`ExtractError::InvalidOutput`]: the caller dead-letters the call, nothing is half-written;
//! - 429, 5xx, timeouts and connection errors are retryable errors, returned at once (the bus
//!   redelivers later); other 4xx are [`ProviderError::Rejected`](crate::ProviderError::Rejected);
//! - no transcript text is logged.

mod prompt;
mod schema;

use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, FinishReason, ResponseFormat,
    ResponseFormatJsonSchema,
};
use async_trait::async_trait;
use memvox_core::MemoryCandidate;

use super::chat::{ChatClient, ChatModelSettings};
use super::{CallTranscript, ExtractError, Extractor};
use crate::metrics::Operation;

/// Version of the prompt and schema, recorded with what they produced.
pub const EXTRACT_PROMPT_VERSION: &str = "extract_v1";
const PROVIDER: &str = "openai";
/// Answers asked for per call: the first, and one more after an invalid one.
const ATTEMPTS: u32 = 2;

/// Extracts memories with one chat completion per call.
#[derive(Debug, Clone)]
pub struct OpenAiExtractor {
    chat: ChatClient,
}

impl OpenAiExtractor {
    /// Builds a client from settings; makes no request.
    pub fn new(settings: &ChatModelSettings) -> Result<Self, ExtractError> {
        let chat = ChatClient::new(settings, Operation::Extract).map_err(ExtractError::Config)?;
        Ok(Self { chat })
    }

    fn request(&self, messages: Vec<ChatCompletionRequestMessage>) -> CreateChatCompletionRequest {
        CreateChatCompletionRequest {
            model: self.chat.model().to_owned(),
            messages,
            temperature: Some(0.0),
            max_completion_tokens: Some(self.chat.max_output_tokens()),
            response_format: Some(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    description: Some("Memories extracted from one phone call.".to_owned()),
                    name: schema::SCHEMA_NAME.to_owned(),
                    schema: schema::response_schema(),
                    strict: Some(true),
                },
            }),
            ..CreateChatCompletionRequest::default()
        }
    }

    /// One answer, checked: the candidates, or why the answer is unusable.
    async fn attempt(
        &self,
        messages: Vec<ChatCompletionRequestMessage>,
        call: &CallTranscript,
    ) -> Result<Result<Vec<MemoryCandidate>, String>, ExtractError> {
        let reply = self
            .chat
            .complete(self.request(messages))
            .await
            .map_err(|error| error.of(PROVIDER))?;
        if let Some(refusal) = reply.refusal {
            return Ok(Err(format!("the model refused: {refusal}")));
        }
        if reply.finish_reason == Some(FinishReason::Length) {
            return Ok(Err(
                "the answer was cut at the output token limit (truncated JSON)".to_owned(),
            ));
        }
        let Some(content) = reply.content else {
            return Ok(Err("the answer has no content".to_owned()));
        };
        Ok(schema::validate(&content, call))
    }
}

#[async_trait]
impl Extractor for OpenAiExtractor {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    #[tracing::instrument(name = "openai_extract", skip_all, fields(otel.kind = "client", model = %self.chat.model()), err)]
    async fn extract(&self, call: &CallTranscript) -> Result<Vec<MemoryCandidate>, ExtractError> {
        let (system, user) = prompt::render(call);
        let mut messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(system).into(),
            ChatCompletionRequestUserMessage::from(user).into(),
        ];
        let mut reason = String::new();
        for attempt in 1..=ATTEMPTS {
            match self.attempt(messages.clone(), call).await? {
                Ok(candidates) => return Ok(candidates),
                Err(why) => {
                    tracing::warn!(attempt, reason = %why, "invalid extraction answer");
                    messages.push(
                        ChatCompletionRequestUserMessage::from(format!(
                            "Your previous answer was unusable: {why}. Answer again with JSON \
                             that matches the schema and the rules above."
                        ))
                        .into(),
                    );
                    reason = why;
                }
            }
        }
        Err(ExtractError::InvalidOutput {
            provider: PROVIDER,
            attempts: ATTEMPTS,
            reason,
        })
    }
}
