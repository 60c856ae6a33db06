//! Summarizer configuration and the one function that turns it into a summarizer.
//!
//! Owns [`SummarizerSettings`] (every field defaulted: an empty section means the extractive
//! summarizer) and [`build_summarizer`], the only place that matches on [`SummarizerProvider`].
//! Invariants: the `openai` provider is always wrapped in [`SummarizerWithFallback`], so the
//! read path never waits past `deadline_ms` and never fails for want of a model; bad settings
//! fail at start-up with a sentence saying why; the API key never appears in `Debug` output.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::extractive::{DEFAULT_QUERY_CHARS, DEFAULT_USER_CHARS};
use super::{
    ChatModelSettings, ExtractiveSummarizer, OpenAiSummarizer, SummarizeError, Summarizer,
    SummarizerWithFallback,
};

/// Which summarizer to use.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SummarizerProvider {
    /// Quotes the top memories within a character budget: instant, offline.
    #[default]
    Extractive,
    /// A chat model under a deadline, falling back to `extractive`.
    #[serde(rename = "openai")]
    OpenAi,
}

/// How memvox summarizes memories.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SummarizerSettings {
    /// Which summarizer to use (default `extractive`).
    pub provider: SummarizerProvider,
    /// Hard deadline of a model summary, in milliseconds (default 300); past it the extractive
    /// summary answers. Only used by `openai`.
    pub deadline_ms: u64,
    /// Character budget of a memory-query summary (default 240).
    pub query_chars: usize,
    /// Character budget of a user summary (default 400).
    pub user_chars: usize,
    /// Settings of the `openai` provider (ignored by `extractive`).
    pub openai: ChatModelSettings,
}

impl Default for SummarizerSettings {
    fn default() -> Self {
        Self {
            provider: SummarizerProvider::Extractive,
            deadline_ms: 300,
            query_chars: DEFAULT_QUERY_CHARS,
            user_chars: DEFAULT_USER_CHARS,
            openai: ChatModelSettings::default(),
        }
    }
}

/// Builds the configured summarizer. The one place that matches on [`SummarizerProvider`].
pub fn build_summarizer(
    settings: &SummarizerSettings,
) -> Result<Arc<dyn Summarizer>, SummarizeError> {
    if settings.query_chars == 0 || settings.user_chars == 0 {
        return Err(SummarizeError::Config(
            "query_chars and user_chars must be greater than zero, or every summary is empty"
                .to_owned(),
        ));
    }
    let extractive = ExtractiveSummarizer::new(settings.query_chars, settings.user_chars);
    let summarizer: Arc<dyn Summarizer> = match settings.provider {
        SummarizerProvider::Extractive => Arc::new(extractive),
        SummarizerProvider::OpenAi => {
            if settings.deadline_ms == 0 {
                return Err(SummarizeError::Config(
                    "deadline_ms must be greater than zero, or the model never answers in time"
                        .to_owned(),
                ));
            }
            let primary = Arc::new(OpenAiSummarizer::new(&settings.openai)?);
            Arc::new(SummarizerWithFallback::new(
                primary,
                extractive,
                Duration::from_millis(settings.deadline_ms),
            ))
        }
    };
    tracing::info!(summarizer = summarizer.name(), "summarizer ready");
    Ok(summarizer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_extractive_and_wraps_openai() {
        let empty: SummarizerSettings = serde_json::from_str("{}").unwrap();
        // Every field as the defaults (Debug shows each; a key, which it redacts, is absent).
        assert_eq!(
            format!("{empty:?}"),
            format!("{:?}", SummarizerSettings::default())
        );
        assert!(empty.openai.api_key.is_none());
        assert_eq!(build_summarizer(&empty).unwrap().name(), "extractive");
        let openai: SummarizerSettings = serde_json::from_str(
            r#"{"provider": "openai", "deadline_ms": 250, "openai": {"api_key": "sk-secret"}}"#,
        )
        .unwrap();
        assert!(!format!("{openai:?}").contains("sk-secret"));
        assert_eq!(build_summarizer(&openai).unwrap().name(), "llm+extractive");
    }

    #[test]
    fn rejects_a_zero_deadline() {
        let settings = SummarizerSettings {
            provider: SummarizerProvider::OpenAi,
            deadline_ms: 0,
            ..SummarizerSettings::default()
        };
        let err = build_summarizer(&settings).unwrap_err();
        assert!(err.to_string().contains("deadline_ms"), "{err}");
    }
}
