//! [`ProviderError`]: a chat model provider gave no answer — shared by extraction and
//! summaries, which call the same kind of chat-completions endpoint and fail the same ways.

/// Why a model provider gave no answer, and whether asking again later could help.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider is temporarily unavailable (429, 5xx, connection error). Retry later.
    #[error("{provider} is unavailable: {message} (a retry may help)")]
    Unavailable {
        /// Which provider.
        provider: &'static str,
        /// What happened, with the HTTP status when there was one.
        message: String,
    },
    /// The provider did not answer within the configured time. Retry later.
    #[error("{provider} did not answer within {after_ms} ms (a retry may help)")]
    Timeout {
        /// Which provider.
        provider: &'static str,
        /// The time limit that passed.
        after_ms: u64,
    },
    /// The provider refused the request (bad key, model or URL, exhausted quota). An operator
    /// must act; retrying the same request fails again.
    #[error("{provider} rejected the request: {message} (retrying will not help)")]
    Rejected {
        /// Which provider.
        provider: &'static str,
        /// The provider's explanation, with the HTTP status.
        message: String,
    },
}

impl ProviderError {
    /// The error without the provider's message (it may quote the request): what may be
    /// stored with a dead letter.
    pub fn summary(&self) -> String {
        match self {
            ProviderError::Unavailable { provider, .. } => format!("{provider} is unavailable"),
            ProviderError::Rejected { provider, .. } => format!("{provider} rejected the request"),
            ProviderError::Timeout { .. } => self.to_string(),
        }
    }

    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, ProviderError::Rejected { .. })
    }
}
