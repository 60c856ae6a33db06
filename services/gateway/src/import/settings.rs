//! `[elevenlabs]` (`MEMVOX_ELEVENLABS__*`): how memvox reaches the ElevenLabs API — its key,
//! address, retries and limits — and `[elevenlabs.poll]`, the gateway's periodic import of
//! calls whose webhook never arrived (off by default).
//!
//! The key may also come from `ELEVENLABS_API_KEY`, the variable ElevenLabs' own tools read,
//! when the configuration sets none (empty counts as unset). Only the processes that call the
//! API need it: a poll enabled without a key stops the gateway at start-up (see `poll_task`),
//! while other processes reading the same configuration start as usual.

use std::time::Duration;

use memvox_config::{ConfigError, ExposeSecret, Layers, Secret, sections};
use memvox_elevenlabs::api::{ApiClient, ApiError, ClientOptions, DEFAULT_BASE_URL, RetryPolicy};
use memvox_elevenlabs::conversations::MAX_PAGE_SIZE;
use serde::Deserialize;
use url::Url;

/// The variable ElevenLabs' tools read the API key from; used when `elevenlabs.api_key` is unset.
pub const API_KEY_ENV: &str = "ELEVENLABS_API_KEY";

/// The ElevenLabs API (`[elevenlabs]`, `MEMVOX_ELEVENLABS__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ElevenLabsSettings {
    /// API key, sent as `xi-api-key`; needs read access to conversations. Unset: the
    /// `ELEVENLABS_API_KEY` environment variable, else none (nothing is imported).
    pub api_key: Option<Secret>,
    /// Address of the API (a data-residency one, e.g. `https://api.eu.residency.elevenlabs.io`,
    /// where the workspace lives there).
    pub api_url: String,
    /// Longest time one request may take, in seconds.
    pub request_timeout_secs: u64,
    /// Attempts per request (429, 5xx and unanswered requests are retried).
    pub max_attempts: u32,
    /// Wait before the first retry when the answer names none (`Retry-After`), in ms; doubled
    /// for each further retry.
    pub backoff_base_ms: u64,
    /// Longest wait between two attempts, `Retry-After` included, in ms.
    pub backoff_max_ms: u64,
    /// Conversations per list page (at most 100).
    pub page_size: u32,
    /// Conversations whose details are fetched at once.
    pub concurrent_requests: usize,
    /// Largest answer read, in bytes (a conversation's details are the size of its webhook).
    pub max_response_bytes: usize,
    /// The periodic poll.
    pub poll: PollSettings,
}

/// The gateway's periodic import (`[elevenlabs.poll]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollSettings {
    /// Whether the gateway (and `memvox serve`) polls at all.
    pub enabled: bool,
    /// Time between two polls, in seconds.
    pub interval_secs: u64,
    /// How far back each poll lists calls, by start time, in seconds: longer than
    /// `settle_secs + interval_secs` plus the longest call.
    pub lookback_secs: u64,
    /// How long after a call ended the poll leaves it to its webhook, in seconds.
    pub settle_secs: u64,
    /// Agents whose calls are polled; empty: every agent of the key's workspace.
    pub agent_ids: Vec<String>,
}

impl Default for ElevenLabsSettings {
    fn default() -> Self {
        Self {
            api_key: None,
            api_url: DEFAULT_BASE_URL.to_owned(),
            request_timeout_secs: 30,
            max_attempts: 5,
            backoff_base_ms: 500,
            backoff_max_ms: 60_000,
            page_size: MAX_PAGE_SIZE,
            concurrent_requests: 4,
            max_response_bytes: 16 * 1024 * 1024,
            poll: PollSettings::default(),
        }
    }
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            interval_secs: 600,
            lookback_secs: 86_400,
            settle_secs: 300,
            agent_ids: Vec::new(),
        }
    }
}

impl ElevenLabsSettings {
    /// The `[elevenlabs]` section of `layers`, the key from a non-empty `ELEVENLABS_API_KEY`
    /// when it names none, validated.
    ///
    /// # Errors
    /// [`ConfigError`] for a value that does not parse or breaks a rule.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        let mut settings: Self = layers.section(sections::ELEVENLABS)?;
        if settings.api_key.is_none() {
            settings.api_key = std::env::var(API_KEY_ENV)
                .ok()
                .filter(|key| !key.trim().is_empty())
                .map(Secret::from);
        }
        settings.validate().map_err(ConfigError::Invalid)?;
        Ok(settings)
    }

    /// Checks the rules the types cannot express.
    ///
    /// # Errors
    /// A sentence naming the setting and the rule it breaks.
    pub fn validate(&self) -> Result<(), String> {
        if self
            .api_key
            .as_ref()
            .is_some_and(|key| key.expose_secret().trim().is_empty())
        {
            return Err(
                "elevenlabs.api_key is empty: set it to an ElevenLabs API key, or \
                        leave it (and ELEVENLABS_API_KEY) unset"
                    .into(),
            );
        }
        self.base_url()?;
        let counts = [
            ("request_timeout_secs", self.request_timeout_secs),
            ("max_attempts", u64::from(self.max_attempts)),
            ("concurrent_requests", self.concurrent_requests as u64),
            ("max_response_bytes", self.max_response_bytes as u64),
            ("poll.interval_secs", self.poll.interval_secs),
        ];
        if let Some((key, _)) = counts.iter().find(|(_, value)| *value == 0) {
            return Err(format!("elevenlabs.{key} must be at least 1"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(format!(
                "elevenlabs.page_size is {}: the conversations API returns 1 to {MAX_PAGE_SIZE} \
                 conversations per page",
                self.page_size
            ));
        }
        let poll = &self.poll;
        if poll.lookback_secs <= poll.settle_secs.saturating_add(poll.interval_secs) {
            return Err(format!(
                "elevenlabs.poll.lookback_secs ({}) must exceed settle_secs + interval_secs \
                 ({}): otherwise a call can leave the window between two polls before it is \
                 looked at",
                poll.lookback_secs,
                poll.settle_secs.saturating_add(poll.interval_secs)
            ));
        }
        Ok(())
    }

    /// The API client these settings describe, or `None` without a key.
    ///
    /// # Errors
    /// [`ApiError::Client`] if the client cannot be built.
    pub fn client(&self) -> Result<Option<ApiClient>, ApiError> {
        let Some(key) = &self.api_key else {
            return Ok(None);
        };
        let options = ClientOptions {
            base_url: self.base_url().map_err(ApiError::Client)?,
            timeout: Duration::from_secs(self.request_timeout_secs),
            retry: RetryPolicy {
                max_attempts: self.max_attempts,
                base_delay: Duration::from_millis(self.backoff_base_ms),
                max_delay: Duration::from_millis(self.backoff_max_ms),
            },
            max_response_bytes: self.max_response_bytes,
        };
        ApiClient::new(key.expose_secret().trim(), options).map(Some)
    }

    fn base_url(&self) -> Result<Url, String> {
        let url = Url::parse(&self.api_url)
            .map_err(|e| format!("elevenlabs.api_url `{}` is not a URL: {e}", self.api_url))?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(format!(
                "elevenlabs.api_url `{}` must be an http(s) address such as {DEFAULT_BASE_URL}",
                self.api_url
            ));
        }
        Ok(url)
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
