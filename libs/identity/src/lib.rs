//! Who a call is with, in a form a client cannot forge.
//!
//! * [`IdentityKeys::issue`] makes the memory identity the conversation-initiation webhook
//!   hands ElevenLabs: an opaque token `mvx1.<claims>.<signature>` whose claims (user, agent,
//!   conversation, expiry) are signed with HMAC-SHA256 under a key only memvox holds.
//! * [`IdentityKeys::verify`] is the only way the tool and the post-call worker accept an
//!   identity that arrives in a dynamic variable: signed by memvox, or by an integrator's
//!   backend with a shared secret ([`Issuer::Integrator`]), for the agent and conversation at
//!   hand, unexpired. A raw user id typed by a web-widget client verifies as nothing.
//! * [`IdentityKeys::guest_user_id`] derives a new caller's id from their number with a keyed
//!   hash, so knowing a number does not give its user id.
//!
//! The phone channel (`metadata.phone_call`, `system__caller_id`, the conversation-init
//! webhook's numbers), which clients cannot set, is the other trusted source; it is read
//! direction-aware by `memvox-elevenlabs`, with [`IdentitySettings::own_numbers`] saying which
//! numbers are ours.

mod settings;
mod token;

use std::sync::Arc;

pub use settings::IdentitySettings;
pub use token::{Claims, Expected, IdentityKeys, Issuer, TOKEN_PREFIX, TokenError, Verified};

/// The identity settings and the keys built from them: what every service that resolves
/// callers holds. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Identities {
    /// The `[identity]` settings.
    pub settings: Arc<IdentitySettings>,
    /// Signing and verifying keys.
    pub keys: IdentityKeys,
}

impl Default for Identities {
    /// No numbers of ours, no keys: no tokens issued or accepted, plain-hash guest ids.
    fn default() -> Self {
        Self::new(IdentitySettings::default(), None)
    }
}

impl Identities {
    /// `settings`, signing with `identity.token_secret` when set, else with `derived` (a key
    /// derived from the encryption index key), else not at all.
    pub fn new(settings: IdentitySettings, derived: Option<Vec<u8>>) -> Self {
        let signing = settings
            .token_secret
            .as_ref()
            .map(|secret| secret.as_bytes().to_vec())
            .or(derived);
        let keys = IdentityKeys::new(
            signing,
            &settings.integrator_secrets,
            settings.token_ttl_secs,
        );
        Self {
            settings: Arc::new(settings),
            keys,
        }
    }

    /// Whether `number` is one of ours.
    pub fn is_own_number(&self, number: &str) -> bool {
        self.settings.is_own_number(number)
    }
}
