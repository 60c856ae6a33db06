//! Privacy settings (`[privacy]`, `MEMVOX_PRIVACY__*`): what is redacted at write time, and which
//! variant of ElevenLabs' post-call webhooks is stored.

use memvox_core::redact::RedactionSettings;
use serde::{Deserialize, Serialize};

/// `[privacy]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// Per-kind, per-field redaction modes (`[privacy.redaction]`); by default card numbers and
    /// national ids are masked everywhere and the rest kept.
    pub redaction: RedactionSettings,
    /// What the gateway does with `unredacted_transcript` and `unredacted_audio` deliveries.
    pub unredacted_webhooks: UnredactedWebhooks,
}

/// What the gateway does with the `unredacted_transcript` and `unredacted_audio` webhooks,
/// which carry what ElevenLabs' own conversation-history redaction removed from the
/// `post_call_transcription` and `post_call_audio` ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnredactedWebhooks {
    /// Acknowledge them (200, `ignored`), count them and store nothing: the redacted variant
    /// is the one kept.
    #[default]
    Drop,
    /// Store them in place of the redacted variant: under the same idempotency key (the first
    /// of the two variants of a conversation to arrive is kept, the other acknowledged as a
    /// duplicate), processed as a transcription or audio delivery, and redacted by
    /// `privacy.redaction` like every transcript.
    Store,
}
