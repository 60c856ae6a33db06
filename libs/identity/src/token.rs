//! Identity tokens: `mvx1.<base64url(claims JSON)>.<base64url(HMAC-SHA256(key, "mvx1.<claims>"))>`.
//!
//! memvox signs with its own key; an integrator's backend may sign its users' ids with a shared
//! secret in exactly the same format (see the README). Verification recomputes the MAC under
//! each accepted key and compares in constant time (`hmac`'s `verify_slice`); only then are the
//! claims read, and they must name the expected agent and conversation and be unexpired at the
//! given time. Guest ids use the same key, under another label, so the two never collide.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The prefix (format version) of every token.
pub const TOKEN_PREFIX: &str = "mvx1.";

/// What a token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The memory user id.
    pub sub: String,
    /// The agent the identity is for.
    pub agt: String,
    /// The conversation it was issued for; integrator tokens may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnv: Option<String>,
    /// Expiry, unix seconds.
    pub exp: u64,
}

impl Claims {
    /// The claims of `token` **without verifying it**: for grouping work and for tools that
    /// show whom a token names, never for deciding access.
    pub fn peek(token: &str) -> Option<Self> {
        let rest = token.strip_prefix(TOKEN_PREFIX)?;
        let (payload, _) = rest.split_once('.')?;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// Who signed a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuer {
    /// memvox's conversation-init webhook.
    Memvox,
    /// An integrator's backend, with one of `identity.integrator_secrets`.
    Integrator,
}

/// A token whose signature and claims held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Its claims.
    pub claims: Claims,
    /// Who signed it.
    pub issuer: Issuer,
}

/// What the claims must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The agent of the call, when the request names it.
    pub agent: Option<&'a str>,
    /// The conversation of the call, when the request names it.
    pub conversation: Option<&'a str>,
    /// The time the token must be valid at, unix seconds (now for the tool; the call's start
    /// for the post-call worker, whose events may be replayed long after).
    pub at_secs: u64,
}

/// Why a presented identity was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token at all (e.g. a raw user id a client typed).
    #[error("not an identity token")]
    NotAToken,
    /// No key could have signed it, or none did.
    #[error("identity token signature does not verify")]
    BadSignature,
    /// Signed, but the claims are unreadable.
    #[error("identity token claims are malformed")]
    Malformed,
    /// Past its expiry.
    #[error("identity token expired")]
    Expired,
    /// Issued for another agent.
    #[error("identity token is for another agent")]
    WrongAgent,
    /// Issued for another conversation.
    #[error("identity token is for another conversation")]
    WrongConversation,
}

impl TokenError {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotAToken => "not_a_token",
            Self::BadSignature => "bad_signature",
            Self::Malformed => "malformed",
            Self::Expired => "expired",
            Self::WrongAgent => "wrong_agent",
            Self::WrongConversation => "wrong_conversation",
        }
    }
}

/// The keys that sign and verify identities.
#[derive(Clone)]
pub struct IdentityKeys {
    signing: Option<Vec<u8>>,
    guest: Option<Vec<u8>>,
    integrators: Vec<Vec<u8>>,
    ttl_secs: u64,
}

impl std::fmt::Debug for IdentityKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityKeys")
            .field("signing", &self.signing.as_ref().map(|_| "***"))
            .field("guest", &self.guest.as_ref().map(|_| "***"))
            .field("integrators", &self.integrators.len())
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl IdentityKeys {
    /// memvox's `signing` key (none: no tokens are issued or accepted from memvox), the
    /// integrators' secrets, and the lifetime of issued tokens. Guest ids are keyed with the
    /// signing key until [`IdentityKeys::with_guest_key`] says otherwise.
    pub fn new(signing: Option<Vec<u8>>, integrator_secrets: &[String], ttl_secs: u64) -> Self {
        Self {
            guest: signing.clone(),
            signing,
            integrators: integrator_secrets
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
            ttl_secs,
        }
    }

    /// These keys with guest ids keyed by `key` (none: plain hashes of the number).
    #[must_use]
    pub fn with_guest_key(mut self, key: Option<Vec<u8>>) -> Self {
        self.guest = key;
        self
    }

    /// Whether memvox can issue tokens.
    pub fn can_issue(&self) -> bool {
        self.signing.is_some()
    }

    /// A token for `user_id` on `agent_id`'s call `conversation_id`, valid for the configured
    /// lifetime from `now_secs`; `None` without a signing key.
    pub fn issue(
        &self,
        user_id: &str,
        agent_id: &str,
        conversation_id: Option<&str>,
        now_secs: u64,
    ) -> Option<String> {
        let key = self.signing.as_deref()?;
        let claims = Claims {
            sub: user_id.to_owned(),
            agt: agent_id.to_owned(),
            cnv: conversation_id.map(str::to_owned),
            exp: now_secs.saturating_add(self.ttl_secs),
        };
        Some(sign(key, &claims))
    }

    /// Checks `token` against every accepted key and its claims against `expected`.
    ///
    /// # Errors
    /// [`TokenError`] saying why it is refused.
    pub fn verify(&self, token: &str, expected: &Expected<'_>) -> Result<Verified, TokenError> {
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(TokenError::NotAToken)?;
        let (payload, signature) = rest.split_once('.').ok_or(TokenError::NotAToken)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::NotAToken)?;
        let signed = &token[..TOKEN_PREFIX.len() + payload.len()];
        let issuer = self
            .signing
            .iter()
            .map(|key| (key, Issuer::Memvox))
            .chain(self.integrators.iter().map(|key| (key, Issuer::Integrator)))
            .find(|(key, _)| mac(key, signed).verify_slice(&signature).is_ok())
            .map(|(_, issuer)| issuer)
            .ok_or(TokenError::BadSignature)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .filter(|claims: &Claims| !claims.sub.is_empty())
            .ok_or(TokenError::Malformed)?;
        if claims.exp <= expected.at_secs {
            return Err(TokenError::Expired);
        }
        if expected.agent.is_some_and(|agent| agent != claims.agt) {
            return Err(TokenError::WrongAgent);
        }
        if let (Some(want), Some(have)) = (expected.conversation, claims.cnv.as_deref())
            && want != have
        {
            return Err(TokenError::WrongConversation);
        }
        Ok(Verified { claims, issuer })
    }

    /// The id of a caller memvox has never seen: `guest_` + 16 hex digits of an HMAC of the
    /// number under the guest key, so the id cannot be computed from the number alone.
    /// Without a key, a plain hash of the number (`memvox_core::guest_user_id`).
    pub fn guest_user_id(&self, phone_number: &str) -> String {
        match &self.guest {
            Some(key) => {
                let digest = mac(key, &format!("guest|{}", phone_number.trim())).finalize();
                format!("guest_{}", hex::encode(&digest.into_bytes()[..8]))
            }
            None => memvox_core::guest_user_id(phone_number),
        }
    }
}

/// The token of `claims` under `key`.
fn sign(key: &[u8], claims: &Claims) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let signed = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(json));
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &signed).finalize().into_bytes());
    format!("{signed}.{signature}")
}

fn mac(key: &[u8], message: &str) -> HmacSha256 {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message.as_bytes());
    mac
}

#[cfg(test)]
mod tests;
