//! The chat-completion plumbing shared by the OpenAI extractor and summarizer.
//!
//! Owns [`ChatModelSettings`] (endpoint, key, model, time limit) and the crate-internal
//! `ChatClient`, which sends one Chat Completions request and classifies every failure once.
//! Invariants: async-openai's own retry layer is replaced by a plain HTTP service, so a 429 never
//! stalls a worker for `Retry-After` seconds (the bus redelivers with backoff instead); every
//! request is bounded by `timeout_ms`; the API key appears in no `Debug` output and no log;
//! every request is counted in the model-API metrics (`crate::metrics`) under the client's
//! operation, with its outcome, its time and the tokens the provider reported.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::types::chat::{CreateChatCompletionRequest, FinishReason};
use serde::Deserialize;

use secrecy::{ExposeSecret as _, SecretString};

use crate::ProviderError;
use crate::metrics::{self, Operation, Outcome, RequestTimer};

/// How much of a malformed body is quoted in an error.
const BODY_EXCERPT: usize = 200;

/// Settings of an OpenAI-compatible Chat Completions endpoint (OpenAI, Azure, vLLM, Ollama,
/// llama.cpp).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatModelSettings {
    /// Base URL up to and including the API version, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1`. `/chat/completions` is appended.
    pub base_url: String,
    /// Bearer token. Unset: the `OPENAI_API_KEY` environment variable, if any (local servers
    /// need none). Redacted in `Debug`.
    pub api_key: Option<SecretString>,
    /// Chat model name (default `gpt-4o-mini`).
    pub model: String,
    /// Time limit of one HTTP request, in milliseconds (default 30 000). A timeout is a
    /// retryable error.
    pub timeout_ms: u64,
    /// Most tokens the model may generate per answer (default 2 000). An answer cut at this
    /// limit counts as invalid output.
    pub max_output_tokens: u32,
}

impl Default for ChatModelSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".to_owned(),
            api_key: None,
            model: "gpt-4o-mini".to_owned(),
            timeout_ms: 30_000,
            max_output_tokens: 2_000,
        }
    }
}

impl ChatModelSettings {
    /// Checks what the types alone cannot, with a sentence saying why.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(format!(
                "openai.base_url must start with http:// or https://, got `{}`",
                self.base_url
            ));
        }
        if self.timeout_ms == 0 {
            return Err(
                "openai.timeout_ms must be greater than zero, or every request times out"
                    .to_owned(),
            );
        }
        if self.model.trim().is_empty() {
            return Err("openai.model must name a chat model".to_owned());
        }
        if self.max_output_tokens == 0 {
            return Err("openai.max_output_tokens must be greater than zero".to_owned());
        }
        Ok(())
    }
}

/// One answer of the model: its text and why it stopped.
#[derive(Debug)]
pub(crate) struct ChatReply {
    /// The message text, if any.
    pub content: Option<String>,
    /// The model's refusal message, if it refused.
    pub refusal: Option<String>,
    /// Why generation stopped (`length` means the answer was cut).
    pub finish_reason: Option<FinishReason>,
}

/// A failed request, classified once.
#[derive(Debug)]
pub(crate) enum ChatError {
    /// 429 (not quota), 408, 5xx, connection error, unreadable body: may pass.
    Unavailable(String),
    /// No answer within the time limit.
    Timeout(u64),
    /// Any other 4xx, exhausted quota, bad settings: will not pass by itself.
    Rejected(String),
}

impl ChatError {
    /// The `outcome` label of the failed request.
    fn outcome(&self) -> Outcome {
        match self {
            ChatError::Unavailable(_) => Outcome::Unavailable,
            ChatError::Timeout(_) => Outcome::Timeout,
            ChatError::Rejected(_) => Outcome::Rejected,
        }
    }

    /// The error the operation reports: this failure of `provider`.
    pub(crate) fn of(self, provider: &'static str) -> ProviderError {
        match self {
            ChatError::Unavailable(message) => ProviderError::Unavailable { provider, message },
            ChatError::Timeout(after_ms) => ProviderError::Timeout { provider, after_ms },
            ChatError::Rejected(message) => ProviderError::Rejected { provider, message },
        }
    }
}

/// A Chat Completions client for one model, used for one operation.
#[derive(Debug, Clone)]
pub(crate) struct ChatClient {
    client: Client<OpenAIConfig>,
    operation: Operation,
    model: String,
    timeout_ms: u64,
    max_output_tokens: u32,
}

impl ChatClient {
    /// Builds a client for `operation` (its label in the metrics) from validated settings;
    /// makes no request.
    pub fn new(settings: &ChatModelSettings, operation: Operation) -> Result<Self, String> {
        settings.validate()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut config = OpenAIConfig::new().with_api_base(settings.base_url.trim_end_matches('/'));
        if let Some(key) = &settings.api_key {
            config = config.with_api_key(key.expose_secret());
        }
        Ok(Self {
            client: Client::with_config(config).with_http_service(ReqwestService::new(http)),
            operation,
            model: settings.model.clone(),
            timeout_ms: settings.timeout_ms,
            max_output_tokens: settings.max_output_tokens,
        })
    }

    /// The model every request names.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Most tokens an answer may have.
    pub fn max_output_tokens(&self) -> u32 {
        self.max_output_tokens
    }

    /// Sends one request and returns the first choice.
    pub async fn complete(
        &self,
        request: CreateChatCompletionRequest,
    ) -> Result<ChatReply, ChatError> {
        let timer = RequestTimer::start(self.operation, &self.model);
        let response = match self.client.chat().create(request).await {
            Ok(response) => response,
            Err(e) => {
                let error = self.classify(e);
                timer.finish(error.outcome());
                return Err(error);
            }
        };
        if let Some(usage) = &response.usage {
            let (prompt, completion) = (usage.prompt_tokens, usage.completion_tokens);
            metrics::record_tokens(self.operation, &self.model, prompt, completion);
        }
        let Some(choice) = response.choices.into_iter().next() else {
            timer.finish(Outcome::Invalid);
            return Err(ChatError::Unavailable(
                "the answer has no choices".to_owned(),
            ));
        };
        timer.finish(Outcome::Ok);
        Ok(ChatReply {
            content: choice.message.content,
            refusal: choice.message.refusal,
            finish_reason: choice.finish_reason,
        })
    }

    /// Decides whose fault an async-openai error is.
    fn classify(&self, e: OpenAIError) -> ChatError {
        match e {
            OpenAIError::ApiError(resp) => {
                let status = resp.status_code.as_u16();
                let message = format!("HTTP {status}: {}", resp.api_error);
                let quota = resp.api_error.r#type.as_deref() == Some("insufficient_quota")
                    || resp.api_error.code.as_deref() == Some("insufficient_quota");
                if (status == 429 && !quota) || status == 408 || resp.status_code.is_server_error()
                {
                    ChatError::Unavailable(message)
                } else {
                    ChatError::Rejected(message)
                }
            }
            OpenAIError::Reqwest(e) if e.is_timeout() => ChatError::Timeout(self.timeout_ms),
            OpenAIError::Reqwest(e) if e.is_builder() => {
                ChatError::Rejected(format!("bad request settings: {e}"))
            }
            OpenAIError::Reqwest(e) => ChatError::Unavailable(e.to_string()),
            OpenAIError::JSONDeserialize(e, body) => {
                let excerpt: String = body.chars().take(BODY_EXCERPT).collect();
                ChatError::Unavailable(format!(
                    "unreadable answer ({e}); body starts with: {excerpt}"
                ))
            }
            other => ChatError::Rejected(other.to_string()),
        }
    }
}
