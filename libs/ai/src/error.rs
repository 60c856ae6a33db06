//! The error type of every model call in this crate.
//!
//! Owns [`AiError`] and [`Fault`]. Invariant: provider error types (async-openai, reqwest,
//! model2vec, candle) never leak through the [`crate::Embedder`] trait; each failure is mapped
//! once, here or in its provider module, to a variant that says whose fault it is, and
//! [`AiError::retryable`] is true only when the same call may succeed later unchanged.

use std::path::PathBuf;

/// Whose fault an error is, which decides what the caller does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Our setup: a missing or failing local model, a wrong setting, a rejected API key, a
    /// model that returns another dimension than configured. Retrying will not help; an operator must act.
    Config,
    /// The provider failed in passing (429, 5xx, timeout, connection refused). Retry later.
    Provider,
    /// The provider answered something that is not a valid response (malformed JSON, missing
    /// or duplicated indexes). Not retried by this crate; a bug or a misbehaving server.
    Protocol,
    /// The input itself is unacceptable (e.g. an empty text). Retrying the same input fails again.
    Input,
}

/// What went wrong while embedding.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// A local model directory or file is missing.
    #[error("embedding model not found at {path}: {fix}")]
    ModelMissing {
        /// The path that was looked for (the first candidate when several were tried).
        path: PathBuf,
        /// What to do about it, in one sentence naming the command or setting.
        fix: String,
    },
    /// A local model exists but could not be loaded (corrupt file, unexpected layout).
    #[error("could not load the embedding model at {path}: {reason}")]
    ModelLoad {
        /// The model directory.
        path: PathBuf,
        /// The loader's explanation.
        reason: String,
    },
    /// A model running in this process failed on valid input (a bug or a corrupt model).
    #[error("the local embedding model failed: {0}")]
    LocalModel(String),
    /// A setting is wrong or two settings contradict each other.
    #[error("invalid embedder settings: {0}")]
    Config(String),
    /// The provider is temporarily unavailable (429, 5xx, timeout, connection error).
    #[error("{provider} is unavailable: {message}")]
    Unavailable {
        /// Which provider (e.g. `openai`).
        provider: &'static str,
        /// What happened, including the HTTP status when there was one.
        message: String,
    },
    /// The provider refused the request for a reason that will not go away (401, 403, 404,
    /// 400, quota exhausted): a wrong key, model name or base URL.
    #[error("{provider} rejected the request (HTTP {status}): {message}")]
    Rejected {
        /// Which provider.
        provider: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The provider's error message.
        message: String,
    },
    /// The provider answered, but not with something usable.
    #[error("{provider} returned an invalid response: {message}")]
    InvalidResponse {
        /// Which provider.
        provider: &'static str,
        /// What was wrong with it.
        message: String,
    },
    /// The provider returned vectors of another size than the embedder is configured for.
    #[error(
        "{provider} returned {actual}-dimensional vectors but {expected} were configured; \
         set the embedder's dimensions to match the model `{model}`"
    )]
    DimensionMismatch {
        /// Which provider.
        provider: &'static str,
        /// The model that answered.
        model: String,
        /// The configured dimension.
        expected: usize,
        /// The dimension received.
        actual: usize,
    },
    /// An input text cannot be embedded.
    #[error("text #{index} cannot be embedded: {reason}")]
    InvalidInput {
        /// Position of the text in the request.
        index: usize,
        /// Why.
        reason: String,
    },
}

impl AiError {
    /// Whose fault this error is.
    pub fn fault(&self) -> Fault {
        match self {
            AiError::ModelMissing { .. }
            | AiError::ModelLoad { .. }
            | AiError::LocalModel(_)
            | AiError::Config(_)
            | AiError::Rejected { .. }
            | AiError::DimensionMismatch { .. } => Fault::Config,
            AiError::Unavailable { .. } => Fault::Provider,
            AiError::InvalidResponse { .. } => Fault::Protocol,
            AiError::InvalidInput { .. } => Fault::Input,
        }
    }

    /// Whether the same call may succeed if tried again later.
    pub fn retryable(&self) -> bool {
        self.fault() == Fault::Provider
    }

    /// The error without the provider's message, a response body or a loader's explanation
    /// (any of which may quote the texts sent): what may be stored with a dead letter.
    pub fn summary(&self) -> String {
        match self {
            AiError::ModelMissing { .. }
            | AiError::Config(_)
            | AiError::DimensionMismatch { .. } => self.to_string(),
            AiError::ModelLoad { path, .. } => {
                format!("could not load the embedding model at {}", path.display())
            }
            AiError::LocalModel(_) => "the local embedding model failed".to_owned(),
            AiError::Unavailable { provider, .. } => format!("{provider} is unavailable"),
            AiError::Rejected {
                provider, status, ..
            } => format!("{provider} rejected the request (HTTP {status})"),
            AiError::InvalidResponse { provider, .. } => {
                format!("{provider} returned an invalid response")
            }
            AiError::InvalidInput { index, .. } => format!("text #{index} cannot be embedded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_quote_nothing_the_provider_said() {
        let said = "my card is 4111 1111 1111 1111";
        for error in [
            AiError::Unavailable {
                provider: "openai",
                message: format!("HTTP 503: {said}"),
            },
            AiError::Rejected {
                provider: "openai",
                status: 400,
                message: format!("input `{said}` is too long"),
            },
            AiError::InvalidResponse {
                provider: "openai",
                message: format!("body starts with: {said}"),
            },
            AiError::InvalidInput {
                index: 1,
                reason: said.to_owned(),
            },
            AiError::LocalModel(said.to_owned()),
        ] {
            let summary = error.summary();
            assert!(!summary.contains("4111"), "{summary}");
            assert!(!summary.is_empty());
        }
    }
}
