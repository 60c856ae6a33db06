//! Settings of the custom-LLM proxy (`[query.llm_proxy]`, `MEMVOX_QUERY__LLM_PROXY__*`): the
//! upstream it forwards to, the tokens ElevenLabs presents, the model map and the memory
//! budget. Checked at start-up only when the proxy is enabled, each broken rule explained in a
//! sentence.

use std::collections::BTreeMap;

use memvox_config::{ExposeSecret, Secret};
use serde::Deserialize;

/// Where the memories go in the forwarded request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextPlacement {
    /// Appended to the system prompt (the first message when it is a system message; else a
    /// new system message first). Every chat template accepts it.
    #[default]
    System,
    /// A system message just before the latest user message: the conversation before it stays
    /// the same from turn to turn, so an upstream's prompt cache keeps matching it. Some chat
    /// templates (e.g. Mistral's) refuse a system message there.
    BeforeUser,
}

/// The custom-LLM proxy (`[query.llm_proxy]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmProxySettings {
    /// Serve `POST /llm/v1/chat/completions`. Off (the default): that route answers 503 and
    /// `memvox-llm-proxy` does not start.
    pub enabled: bool,
    /// SHA-256 (lower-case hex) of every accepted proxy token: the API key of the agent's
    /// Custom LLM settings, which ElevenLabs sends as `Authorization: Bearer`. Refused on every
    /// other route; several may be active during rotation. Empty: every request gets 401.
    pub token_sha256: Vec<String>,
    /// Base URL of the OpenAI-compatible upstream, up to its API version:
    /// `https://api.openai.com/v1`, `http://vllm:8000/v1`, `http://ollama:11434/v1`.
    /// `/chat/completions` is appended.
    pub upstream_url: String,
    /// The upstream's API key, sent as `Authorization: Bearer`; unset or empty for servers
    /// that need none (an empty value is what an optional secret gives when it is not set).
    pub upstream_api_key: Option<Secret>,
    /// Model names the agent sends → the names the upstream knows (`{ memvox = "gpt-4o-mini" }`);
    /// names not listed are forwarded as they are.
    pub models: BTreeMap<String, String>,
    /// Model forwarded when a request names none.
    pub default_model: Option<String>,
    /// Budget of the memory lookup of a request, in ms (caller, embedding, ranking); past it the
    /// request goes upstream without memories, and the lookup finishes in the background so
    /// the caller's index and answer cache are warm for the next turn.
    pub budget_ms: u64,
    /// Memories added to a request (clamped to `query.max_limit`).
    pub memories: u32,
    /// Where the memories go.
    pub placement: ContextPlacement,
    /// Memory lookups running at once, including those past their budget; past it requests go
    /// upstream without memories.
    pub max_lookups: usize,
    /// Largest request body, in bytes: a request carries the whole conversation, the system
    /// prompt and the tool definitions.
    pub max_body_bytes: usize,
    /// Connecting to the upstream, in ms; past it 504.
    pub connect_timeout_ms: u64,
    /// Longest silence of the upstream, in ms: before its response headers, or between two
    /// chunks of a stream (then the stream is cut).
    pub read_timeout_ms: u64,
}

impl Default for LlmProxySettings {
    fn default() -> Self {
        Self {
            enabled: false,
            token_sha256: Vec::new(),
            upstream_url: String::new(),
            upstream_api_key: None,
            models: BTreeMap::new(),
            default_model: None,
            budget_ms: 30,
            memories: 3,
            placement: ContextPlacement::System,
            max_lookups: 128,
            max_body_bytes: 4 * 1024 * 1024,
            connect_timeout_ms: 3_000,
            read_timeout_ms: 60_000,
        }
    }
}

impl LlmProxySettings {
    /// Rules the types cannot express, checked when the proxy is enabled.
    ///
    /// # Errors
    /// The explanation of the first broken rule.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        self.upstream()?;
        if let Some((from, to)) = self
            .models
            .iter()
            .find(|(from, to)| from.trim().is_empty() || to.trim().is_empty())
        {
            return Err(format!(
                "query.llm_proxy.models maps {from:?} to {to:?}: both the agent's model name \
                 and the upstream's must be non-empty"
            ));
        }
        let positive = [
            ("budget_ms", self.budget_ms),
            ("memories", u64::from(self.memories)),
            ("max_lookups", self.max_lookups as u64),
            ("max_body_bytes", self.max_body_bytes as u64),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("read_timeout_ms", self.read_timeout_ms),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!(
                "query.llm_proxy.{name} is 0: the proxy needs at least 1 (see the README's \
                 configuration table for its default)"
            ));
        }
        Ok(())
    }

    /// The upstream's chat-completions URL: `upstream_url` + `/chat/completions`.
    ///
    /// # Errors
    /// Why `upstream_url` is unusable.
    pub fn upstream(&self) -> Result<reqwest::Url, String> {
        let base = self.upstream_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return Err(
                "query.llm_proxy.upstream_url is empty: the enabled proxy needs the \
                        OpenAI-compatible server to forward to, e.g. https://api.openai.com/v1"
                    .to_owned(),
            );
        }
        let url = reqwest::Url::parse(&format!("{base}/chat/completions")).map_err(|error| {
            format!("query.llm_proxy.upstream_url {base:?} is not a URL ({error})")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(format!(
                "query.llm_proxy.upstream_url {base:?} must be an http(s) base URL without a \
                 query string: /chat/completions is appended to it"
            ));
        }
        Ok(url)
    }

    /// The upstream's API key, if one is set and not empty.
    pub fn upstream_key(&self) -> Option<&Secret> {
        self.upstream_api_key
            .as_ref()
            .filter(|key| !key.expose_secret().trim().is_empty())
    }

    /// The model to forward for `requested`: its mapping, else itself, else `default_model`.
    pub fn model(&self, requested: Option<&str>) -> Option<String> {
        match requested.filter(|name| !name.is_empty()) {
            Some(name) => Some(
                self.models
                    .get(name)
                    .map_or(name, String::as_str)
                    .to_owned(),
            ),
            None => self.default_model.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(url: &str) -> LlmProxySettings {
        LlmProxySettings {
            enabled: true,
            upstream_url: url.to_owned(),
            ..LlmProxySettings::default()
        }
    }

    #[test]
    fn a_disabled_proxy_needs_nothing() {
        assert_eq!(LlmProxySettings::default().validate(), Ok(()));
    }

    #[test]
    fn the_upstream_must_be_an_http_base_url() {
        let url = enabled("https://api.openai.com/v1/").upstream().unwrap();
        assert_eq!(url.as_str(), "https://api.openai.com/v1/chat/completions");
        for (bad, says) in [
            ("", "upstream_url is empty"),
            ("not a url", "is not a URL"),
            ("ftp://host/v1", "http(s) base URL"),
            ("http://host/v1?key=1", "without a query string"),
        ] {
            let error = enabled(bad).validate().unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn models_and_limits_are_checked_and_an_empty_key_is_none() {
        let mut settings = enabled("http://127.0.0.1:9/v1");
        settings.upstream_api_key = Some(Secret::from(" "));
        assert_eq!(settings.validate(), Ok(()));
        assert!(settings.upstream_key().is_none(), "an empty key is no key");
        settings.upstream_api_key = Some(Secret::from("sk-1"));
        assert_eq!(settings.upstream_key().unwrap().expose_secret(), "sk-1");
        settings.models.insert("memvox".into(), String::new());
        assert!(settings.validate().unwrap_err().contains("models maps"));
        settings.models.clear();
        settings.budget_ms = 0;
        assert!(settings.validate().unwrap_err().contains("budget_ms is 0"));
    }

    #[test]
    fn models_are_mapped_passed_through_or_defaulted() {
        let mut settings = enabled("http://127.0.0.1:9/v1");
        settings
            .models
            .insert("memvox".into(), "gpt-4o-mini".into());
        settings.default_model = Some("llama3".into());
        assert_eq!(settings.model(Some("memvox")).unwrap(), "gpt-4o-mini");
        assert_eq!(settings.model(Some("gpt-4o")).unwrap(), "gpt-4o");
        assert_eq!(settings.model(Some("")).unwrap(), "llama3");
        assert_eq!(settings.model(None).unwrap(), "llama3");
    }
}
