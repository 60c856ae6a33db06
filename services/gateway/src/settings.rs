//! The gateway's section (`[gateway]`, `MEMVOX_GATEWAY__*`): webhook secrets, signature
//! windows, body limits, the audio directory and rate limits.

use std::path::PathBuf;

use memvox_config::{ConfigError, Layers, Secret, sections};
use serde::Deserialize;

/// Post-call webhook gateway (`[gateway]`, `MEMVOX_GATEWAY__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewaySettings {
    /// ElevenLabs webhook signing secrets; several may be active at once during rotation.
    /// Without one, `memvox serve` refuses post-call webhooks (503) rather than accept unsigned
    /// traffic.
    pub webhook_secrets: Vec<Secret>,
    /// Oldest signature timestamp accepted, in seconds before now (ElevenLabs' SDKs: 1800).
    pub signature_tolerance_secs: u64,
    /// Newest signature timestamp accepted, in seconds after now; `None` accepts any (as the
    /// SDKs do).
    pub signature_future_skew_secs: Option<u64>,
    /// Largest transcription or failure webhook body, in bytes.
    pub max_body_bytes: usize,
    /// Largest audio webhook body, in bytes (whole-call base64 MP3).
    pub max_audio_body_bytes: usize,
    /// Where post-call audio is written; `None` acknowledges audio deliveries and drops them.
    pub audio_dir: Option<PathBuf>,
    /// Proxies (CIDR blocks, e.g. `10.0.0.0/8`, `203.0.113.7/32`) whose `X-Forwarded-For` /
    /// `Forwarded` headers name the client: behind an ingress, its addresses. A request from
    /// any other peer is limited by that peer's address, whatever headers it sends.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Requests per second allowed per client address.
    pub rate_limit_per_second: u32,
    /// Burst above the steady rate.
    pub rate_limit_burst: u32,
    /// How long a whole request body may take to arrive, in milliseconds; a slower one gets 408
    /// and changes nothing.
    pub body_read_timeout_ms: u64,
    /// Bodies larger than this (declared, or once this many bytes arrived) need one of the
    /// `max_concurrent_large_bodies` slots.
    pub large_body_bytes: usize,
    /// Large bodies read and processed at once; a signed delivery finding none free gets 503 with
    /// `Retry-After` (ElevenLabs retries it), so memory stays bounded.
    pub max_concurrent_large_bodies: usize,
}

impl GatewaySettings {
    /// The `[gateway]` section of `layers`, validated.
    ///
    /// # Errors
    /// [`ConfigError`] for a value that does not parse or breaks a rule.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        let settings: Self = layers.section(sections::GATEWAY)?;
        settings.validate().map_err(ConfigError::Invalid)?;
        Ok(settings)
    }

    /// Checks the body-handling limits.
    ///
    /// # Errors
    /// A sentence naming the setting and the rule it breaks.
    pub fn validate(&self) -> Result<(), String> {
        if self.body_read_timeout_ms == 0 {
            return Err(
                "gateway.body_read_timeout_ms must be at least 1: a zero timeout would \
                 refuse every webhook before its body arrives"
                    .into(),
            );
        }
        if self.max_concurrent_large_bodies == 0 {
            return Err(
                "gateway.max_concurrent_large_bodies must be at least 1: with no slot \
                 every audio delivery would be refused"
                    .into(),
            );
        }
        Ok(())
    }
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            webhook_secrets: Vec::new(),
            signature_tolerance_secs: 1_800,
            signature_future_skew_secs: None,
            max_body_bytes: 5 * 1024 * 1024,
            max_audio_body_bytes: 64 * 1024 * 1024,
            audio_dir: None,
            trusted_proxies: Vec::new(),
            rate_limit_per_second: 500,
            rate_limit_burst: 1_000,
            body_read_timeout_ms: 10_000,
            large_body_bytes: 1024 * 1024,
            max_concurrent_large_bodies: 4,
        }
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
