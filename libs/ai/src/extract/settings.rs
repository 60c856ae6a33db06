//! Extractor configuration and the one function that turns it into an extractor.
//!
//! Owns [`ExtractorSettings`] (every field defaulted, so an empty section means the offline
//! rule extractor) and [`build_extractor`], the only place that matches on
//! [`ExtractorProvider`]. Invariants: the API key never appears in `Debug` output; bad settings
//! fail at start-up with a sentence saying why, never at the first call.

use std::sync::Arc;

use serde::Deserialize;

use super::{ChatModelSettings, ExtractError, Extractor, OpenAiExtractor, RuleExtractor};

/// Which extractor to use.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExtractorProvider {
    /// Hand-written rules tuned for phone calls: offline, deterministic, instant.
    #[default]
    Rules,
    /// One structured chat completion per call on an OpenAI-compatible server.
    #[serde(rename = "openai")]
    OpenAi,
}

/// How memvox extracts memories from calls.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractorSettings {
    /// Which extractor to use (default `rules`).
    pub provider: ExtractorProvider,
    /// Settings of the `openai` provider (ignored by `rules`). Its `timeout_ms` bounds one
    /// request; an invalid answer costs one more request.
    pub openai: ChatModelSettings,
}

/// Builds the configured extractor. The one place that matches on [`ExtractorProvider`].
pub fn build_extractor(settings: &ExtractorSettings) -> Result<Arc<dyn Extractor>, ExtractError> {
    let extractor: Arc<dyn Extractor> = match settings.provider {
        ExtractorProvider::Rules => Arc::new(RuleExtractor::new()),
        ExtractorProvider::OpenAi => Arc::new(OpenAiExtractor::new(&settings.openai)?),
    };
    tracing::info!(extractor = extractor.name(), "extractor ready");
    Ok(extractor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn defaults_to_rules_and_parses_openai() {
        let empty: ExtractorSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.provider, ExtractorProvider::Rules);
        assert_eq!(build_extractor(&empty).unwrap().name(), "rules");
        let openai: ExtractorSettings = serde_json::from_str(
            r#"{"provider": "openai", "openai": {"base_url": "http://localhost:11434/v1", "api_key": "sk-secret", "model": "llama3.1"}}"#,
        )
        .unwrap();
        assert_eq!(openai.openai.model, "llama3.1");
        assert_eq!(openai.openai.timeout_ms, 30_000);
        assert_eq!(build_extractor(&openai).unwrap().name(), "openai");
    }

    #[test]
    fn redacts_the_key_and_rejects_bad_urls() {
        let settings = ExtractorSettings {
            provider: ExtractorProvider::OpenAi,
            openai: ChatModelSettings {
                api_key: Some(SecretString::from("sk-secret")),
                base_url: "localhost:8080".into(),
                ..ChatModelSettings::default()
            },
        };
        assert!(!format!("{settings:?}").contains("sk-secret"));
        let err = build_extractor(&settings).unwrap_err();
        assert!(err.to_string().contains("must start with http"), "{err}");
        assert!(!err.is_retryable());
        assert!(serde_json::from_str::<ExtractorSettings>(r#"{"provder": "rules"}"#).is_err());
    }
}
