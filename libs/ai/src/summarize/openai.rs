//! Summaries written by an OpenAI-compatible chat model.
//!
//! Owns [`OpenAiSummarizer`]: one plain-text chat completion per summary, from versioned prompt
//! templates (`prompts/summarize_query_v1.md`, `prompts/summarize_user_v1.md`; the part before
//! `<!-- request -->` is the system message). Invariants: no request is made for zero memories
//! (the summary is empty); an empty, refused or cut-off answer is
//! [`SummarizeError::InvalidOutput`]; the answer is bounded by a small token budget. This type
//! has no deadline of its own beyond the HTTP time limit: wrap it in
//! [`super::SummarizerWithFallback`] on a latency-sensitive path.

use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, FinishReason,
};
use async_trait::async_trait;

use super::{SummarizeError, Summarizer, Summary, SummaryMemory, SummarySource};
use crate::extract::chat::{ChatClient, ChatModelSettings};
use crate::metrics::Operation;

/// Version of the summary prompts.
pub const SUMMARY_PROMPT_VERSION: &str = "summarize_v1";
const PROVIDER: &str = "openai";
const QUERY_TEMPLATE: &str = include_str!("../../prompts/summarize_query_v1.md");
const USER_TEMPLATE: &str = include_str!("../../prompts/summarize_user_v1.md");
const REQUEST_MARKER: &str = "<!-- request -->";
/// Most tokens a summary may take, whatever the settings allow.
const MAX_SUMMARY_TOKENS: u32 = 200;

/// Writes summaries with a chat model.
#[derive(Debug, Clone)]
pub struct OpenAiSummarizer {
    chat: ChatClient,
}

impl OpenAiSummarizer {
    /// Builds a client from settings; makes no request.
    pub fn new(settings: &ChatModelSettings) -> Result<Self, SummarizeError> {
        let chat =
            ChatClient::new(settings, Operation::Summarize).map_err(SummarizeError::Config)?;
        Ok(Self { chat })
    }

    async fn write(
        &self,
        template: &str,
        fill: &[(&str, String)],
    ) -> Result<Summary, SummarizeError> {
        let (system, request) = template
            .split_once(REQUEST_MARKER)
            .unwrap_or((template, ""));
        let mut user = request.trim().to_owned();
        for (key, value) in fill {
            user = user.replace(key, value);
        }
        let messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(system.trim()).into(),
            ChatCompletionRequestUserMessage::from(user).into(),
        ];
        let request = CreateChatCompletionRequest {
            model: self.chat.model().to_owned(),
            messages,
            temperature: Some(0.0),
            max_completion_tokens: Some(self.chat.max_output_tokens().min(MAX_SUMMARY_TOKENS)),
            ..CreateChatCompletionRequest::default()
        };
        let reply = self
            .chat
            .complete(request)
            .await
            .map_err(|error| error.of(PROVIDER))?;
        let invalid = |reason: &str| SummarizeError::InvalidOutput {
            provider: PROVIDER,
            reason: reason.to_owned(),
        };
        if reply.refusal.is_some() {
            return Err(invalid("the model refused"));
        }
        if reply.finish_reason == Some(FinishReason::Length) {
            return Err(invalid("the summary was cut at the token limit"));
        }
        let text = reply.content.unwrap_or_default();
        let text = text.trim().trim_matches('"').trim();
        if text.is_empty() {
            return Err(invalid("the summary is empty"));
        }
        Ok(Summary {
            text: text.to_owned(),
            source: SummarySource::Llm,
            fallback_reason: None,
        })
    }
}

fn numbered(memories: &[SummaryMemory]) -> String {
    memories
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{}. ({}) {}", i + 1, m.sector, m.content.trim()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn empty() -> Summary {
    Summary {
        text: String::new(),
        source: SummarySource::Llm,
        fallback_reason: None,
    }
}

#[async_trait]
impl Summarizer for OpenAiSummarizer {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    #[tracing::instrument(skip_all, fields(otel.kind = "client", memories = memories.len()), err)]
    async fn summarize_for_query(
        &self,
        query: &str,
        memories: &[SummaryMemory],
    ) -> Result<Summary, SummarizeError> {
        if memories.is_empty() {
            return Ok(empty());
        }
        let fill = [
            ("{{query}}", query.trim().to_owned()),
            ("{{memories}}", numbered(memories)),
        ];
        self.write(QUERY_TEMPLATE, &fill).await
    }

    #[tracing::instrument(skip_all, fields(otel.kind = "client", memories = memories.len()), err)]
    async fn summarize_user(&self, memories: &[SummaryMemory]) -> Result<Summary, SummarizeError> {
        if memories.is_empty() {
            return Ok(empty());
        }
        self.write(USER_TEMPLATE, &[("{{memories}}", numbered(memories))])
            .await
    }
}
