//! Embeddings from OpenAI or any server speaking its `/embeddings` API.
//!
//! Owns [`OpenAiEmbedder`]: batching, retries and the mapping of every failure to an
//! [`AiError`] that says whose fault it is. Invariants:
//! - texts are sent in batches of at most `batch_size`, one request after another, and the
//!   result is put back in input order by each item's `index`, which must cover the batch
//!   exactly once;
//! - a request is retried, with exponential backoff, only after a 429 (other than
//!   `insufficient_quota`), a 5xx, a timeout or a connection error; any other 4xx fails at once;
//! - async-openai's own retry layer is replaced by a plain HTTP service, so `max_retries` is
//!   the only retry budget;
//! - every returned vector must have the configured dimension (else
//!   [`AiError::DimensionMismatch`]) and is L2-normalised here, since not every compatible
//!   server normalises;
//! - every request (each retry too) is counted in the model-API metrics (`crate::metrics`)
//!   with its outcome, its time and the tokens the provider reported.

use secrecy::ExposeSecret as _;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::types::embeddings::{
    CreateEmbeddingRequest, CreateEmbeddingResponse, EmbeddingInput,
};
use async_trait::async_trait;

use super::{Embedder, OpenAiSettings, check_inputs};
use crate::AiError;
use crate::metrics::{self, Operation, Outcome, RequestTimer};
use memvox_core::vector::l2_normalize;

const PROVIDER: &str = "openai";
/// Longest wait between two attempts, whatever the backoff doubling reaches.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// How much of a malformed body is quoted in an error.
const BODY_EXCERPT: usize = 200;

/// An embedder backed by an OpenAI-compatible HTTP API.
#[derive(Debug)]
pub struct OpenAiEmbedder {
    client: Client<OpenAIConfig>,
    model: String,
    model_id: String,
    dimensions: Option<u32>,
    dimension: usize,
    batch_size: usize,
    max_retries: u32,
    initial_backoff: Duration,
}

impl OpenAiEmbedder {
    /// Builds a client from validated settings; makes no request.
    pub fn new(settings: &OpenAiSettings) -> Result<Self, AiError> {
        settings.validate()?;
        let dimension = settings.output_dimension()?;
        let dimensions = settings
            .dimensions
            .map(|d| {
                u32::try_from(d)
                    .map_err(|_| AiError::Config(format!("dimensions {d} is too large")))
            })
            .transpose()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()
            .map_err(|e| AiError::Config(format!("cannot build the HTTP client: {e}")))?;
        let mut config = OpenAIConfig::new().with_api_base(settings.base_url.trim_end_matches('/'));
        if let Some(key) = &settings.api_key {
            config = config.with_api_key(key.expose_secret());
        }
        let client = Client::with_config(config).with_http_service(ReqwestService::new(http));
        Ok(Self {
            client,
            model_id: format!("openai:{}:{dimension}", settings.model),
            model: settings.model.clone(),
            dimensions,
            dimension,
            batch_size: settings.batch_size,
            max_retries: settings.max_retries,
            initial_backoff: Duration::from_millis(settings.initial_backoff_ms),
        })
    }

    /// Embeds one batch, retrying transient failures.
    #[tracing::instrument(name = "openai_embed", skip_all, fields(otel.kind = "client", model = %self.model, texts = batch.len()), err)]
    async fn embed_batch(&self, batch: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        let request = CreateEmbeddingRequest {
            model: self.model.clone(),
            input: EmbeddingInput::StringArray(batch.iter().map(|t| (*t).to_owned()).collect()),
            dimensions: self.dimensions,
            ..CreateEmbeddingRequest::default()
        };
        let mut attempt = 0;
        loop {
            let timer = RequestTimer::start(Operation::Embed, &self.model);
            match self.client.embeddings().create(request.clone()).await {
                Ok(response) => {
                    let usage = response.usage.prompt_tokens;
                    metrics::record_tokens(Operation::Embed, &self.model, usage, 0);
                    let vectors = self.take_vectors(response, batch.len());
                    timer.finish(vectors.as_ref().map_or(Outcome::Invalid, |_| Outcome::Ok));
                    return vectors;
                }
                Err(e) => {
                    let timed_out = matches!(&e, OpenAIError::Reqwest(r) if r.is_timeout());
                    let err = map_error(e);
                    timer.finish(if timed_out {
                        Outcome::Timeout
                    } else {
                        outcome_of(&err)
                    });
                    if !err.retryable() || attempt >= self.max_retries {
                        return Err(err);
                    }
                    let delay = backoff(self.initial_backoff, attempt);
                    tracing::warn!(error = %err, attempt = attempt + 1, delay_ms = delay.as_millis() as u64, "retrying embeddings request");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Orders the response's vectors by `index`, checking count, indexes and dimension.
    fn take_vectors(
        &self,
        response: CreateEmbeddingResponse,
        expected: usize,
    ) -> Result<Vec<Vec<f32>>, AiError> {
        if response.data.len() != expected {
            return Err(invalid(format!(
                "{} vectors for {expected} inputs",
                response.data.len()
            )));
        }
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
        for item in response.data {
            let slot = slots.get_mut(item.index as usize).ok_or_else(|| {
                invalid(format!(
                    "index {} out of range for {expected} inputs",
                    item.index
                ))
            })?;
            if slot.is_some() {
                return Err(invalid(format!("index {} returned twice", item.index)));
            }
            if item.embedding.len() != self.dimension {
                return Err(AiError::DimensionMismatch {
                    provider: PROVIDER,
                    model: self.model.clone(),
                    expected: self.dimension,
                    actual: item.embedding.len(),
                });
            }
            let mut v = item.embedding;
            l2_normalize(&mut v);
            *slot = Some(v);
        }
        // Every slot is filled: there are `expected` items, each in range and none twice.
        Ok(slots.into_iter().flatten().collect())
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        check_inputs(texts)?;
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.batch_size) {
            out.extend(self.embed_batch(batch).await?);
        }
        Ok(out)
    }
}

/// Wait before retry number `attempt + 1`: `initial`, doubled each time, capped.
fn backoff(initial: Duration, attempt: u32) -> Duration {
    initial
        .saturating_mul(2_u32.saturating_pow(attempt))
        .min(MAX_BACKOFF)
}

fn invalid(message: String) -> AiError {
    AiError::InvalidResponse {
        provider: PROVIDER,
        message,
    }
}

/// The `outcome` label of a failed request (timeouts are told apart before mapping).
fn outcome_of(err: &AiError) -> Outcome {
    match err {
        AiError::Unavailable { .. } => Outcome::Unavailable,
        AiError::InvalidResponse { .. } | AiError::DimensionMismatch { .. } => Outcome::Invalid,
        _ => Outcome::Rejected,
    }
}

/// Decides whose fault an async-openai error is.
fn map_error(e: OpenAIError) -> AiError {
    match e {
        OpenAIError::ApiError(resp) => {
            let status = resp.status_code.as_u16();
            let message = resp.api_error.to_string();
            let quota = resp.api_error.r#type.as_deref() == Some("insufficient_quota")
                || resp.api_error.code.as_deref() == Some("insufficient_quota");
            if (status == 429 && !quota) || status == 408 || resp.status_code.is_server_error() {
                AiError::Unavailable {
                    provider: PROVIDER,
                    message: format!("HTTP {status}: {message}"),
                }
            } else {
                AiError::Rejected {
                    provider: PROVIDER,
                    status,
                    message,
                }
            }
        }
        OpenAIError::Reqwest(e) if e.is_builder() => {
            AiError::Config(format!("bad request settings: {e}"))
        }
        OpenAIError::Reqwest(e) if e.is_decode() => invalid(e.to_string()),
        OpenAIError::Reqwest(e) => AiError::Unavailable {
            provider: PROVIDER,
            message: if e.is_timeout() {
                format!("request timed out: {e}")
            } else {
                e.to_string()
            },
        },
        OpenAIError::JSONDeserialize(e, body) => {
            let excerpt: String = body.chars().take(BODY_EXCERPT).collect();
            invalid(format!("{e}; body starts with: {excerpt}"))
        }
        OpenAIError::InvalidArgument(m) => AiError::Config(m),
        other => invalid(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff(base, 0), base);
        assert_eq!(backoff(base, 1), Duration::from_secs(1));
        assert_eq!(backoff(base, 3), Duration::from_secs(4));
        assert_eq!(backoff(base, 10), MAX_BACKOFF);
        assert_eq!(backoff(base, u32::MAX), MAX_BACKOFF);
    }
}
