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
//!   hash, so knowing a number does not give its user id: keyed from the encryption index key
//!   whenever encryption is on (whatever `identity.token_secret` is), else with the token
//!   secret; only with neither is it a plain hash of the number.
//!
//! The phone channel (`metadata.phone_call`, `system__caller_id`, the conversation-init
//! webhook's numbers), which clients cannot set, is the other trusted source; it is read
//! direction-aware by `memvox-elevenlabs`, with [`IdentitySettings::own_numbers`] saying which
//! numbers are ours.

mod settings;
mod token;

use std::sync::Arc;

pub use settings::{IdentitySettings, ScopeGranularity};
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
    /// derived from the encryption index key, present when encryption is on), else not at all.
    /// Guest ids are keyed with `derived` whenever it is present, so with encryption on no guest
    /// id can be computed from a number without the index key (a token secret, shared more
    /// widely and changeable, does not decide them); else with the token secret; with neither
    /// they are plain hashes.
    pub fn new(settings: IdentitySettings, derived: Option<Vec<u8>>) -> Self {
        let secret = settings
            .token_secret
            .as_ref()
            .map(|secret| secret.as_bytes().to_vec());
        let guest = derived.clone().or_else(|| secret.clone());
        let keys = IdentityKeys::new(
            secret.or(derived),
            &settings.integrator_secrets,
            settings.token_ttl_secs,
        )
        .with_guest_key(guest);
        Self {
            settings: Arc::new(settings),
            keys,
        }
    }

    /// Whether `number` is one of ours.
    pub fn is_own_number(&self, number: &str) -> bool {
        self.settings.is_own_number(number)
    }

    /// The scope of a call of `agent_id`: `Some(None)` for the workspace scope, `Some(agent)`
    /// per agent; `None` when scopes are per agent and the call names no agent (it can reach
    /// nobody by number).
    pub fn scope<'a>(&self, agent_id: Option<&'a str>) -> Option<Option<&'a str>> {
        match self.settings.scope {
            ScopeGranularity::Workspace => Some(None),
            ScopeGranularity::Agent => agent_id.filter(|a| !a.is_empty()).map(Some),
        }
    }

    /// The key a phone number is bound under in `scope` (the number itself in the workspace
    /// scope, so bindings made before scopes keep working).
    pub fn phone_key(&self, scope: Option<&str>, number: &str) -> String {
        memvox_core::scoped(scope, number.trim())
    }

    /// The id of a new caller from `number` in `scope`: a keyed hash of the scoped number,
    /// prefixed with the scope outside the workspace scope.
    pub fn guest_user_id(&self, scope: Option<&str>, number: &str) -> String {
        let guest = self.keys.guest_user_id(&self.phone_key(scope, number));
        memvox_core::scoped(scope, &guest)
    }

    /// The user a verified token names in `scope`: memvox's tokens name the scoped user
    /// already; an integrator's id is placed in the scope.
    pub fn user_of(&self, scope: Option<&str>, verified: &Verified) -> String {
        match verified.issuer {
            Issuer::Memvox => verified.claims.sub.clone(),
            Issuer::Integrator => memvox_core::scoped(scope, &verified.claims.sub),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_agent() -> Identities {
        let settings = IdentitySettings {
            scope: ScopeGranularity::Agent,
            ..IdentitySettings::default()
        };
        Identities::new(settings, Some(b"a 32-byte key for scope tests!!!".to_vec()))
    }

    #[test]
    fn a_number_is_one_user_per_agent_scope_and_one_in_the_workspace() {
        let agents = per_agent();
        let a = agents.scope(Some("agent_a")).unwrap();
        let b = agents.scope(Some("agent_b")).unwrap();
        let (in_a, in_b) = (
            agents.guest_user_id(a, "+14155550199"),
            agents.guest_user_id(b, "+14155550199"),
        );
        assert_ne!(in_a, in_b);
        assert_eq!(memvox_core::scope_of(&in_a), "agent_a");
        assert_eq!(agents.phone_key(a, "+14155550199"), "agent_a:+14155550199");
        assert_eq!(agents.scope(None), None, "no agent, no scope");
        let workspace = Identities::new(IdentitySettings::default(), None);
        let everywhere = workspace.scope(Some("agent_a")).unwrap();
        assert_eq!(everywhere, None);
        assert_eq!(
            workspace.phone_key(everywhere, "+14155550199"),
            "+14155550199"
        );
        assert_eq!(
            workspace.guest_user_id(everywhere, "+14155550199"),
            memvox_core::guest_user_id("+14155550199")
        );
    }

    #[test]
    fn guest_ids_follow_the_index_key_whatever_the_token_secret() {
        let with_secret = || IdentitySettings {
            token_secret: Some("a token secret of 32 bytes or more!".into()),
            ..IdentitySettings::default()
        };
        let (key_a, key_b) = (
            b"index-derived key a, 32 bytes!!!",
            b"index-derived key b, 32 bytes!!!",
        );
        let a = Identities::new(with_secret(), Some(key_a.to_vec()));
        let b = Identities::new(with_secret(), Some(key_b.to_vec()));
        let plain = memvox_core::guest_user_id("+14155550199");
        assert_ne!(
            a.guest_user_id(None, "+14155550199"),
            b.guest_user_id(None, "+14155550199"),
            "another index key, another guest id: the token secret alone does not give it"
        );
        assert_eq!(
            a.guest_user_id(None, "+14155550199"),
            Identities::new(IdentitySettings::default(), Some(key_a.to_vec()))
                .guest_user_id(None, "+14155550199"),
            "the same index key, the same guest id, with or without a token secret"
        );
        let secret_only = Identities::new(with_secret(), None);
        assert_ne!(secret_only.guest_user_id(None, "+14155550199"), plain);
        assert_eq!(
            Identities::default().guest_user_id(None, "+14155550199"),
            plain,
            "only with neither key is a guest id the plain hash"
        );
        let token = a.keys.issue("u", "agent_a", None, 0).unwrap();
        let expected = Expected {
            agent: Some("agent_a"),
            conversation: None,
            at_secs: 1,
        };
        assert!(
            secret_only.keys.verify(&token, &expected).is_ok(),
            "tokens are still signed with the token secret"
        );
    }

    #[test]
    fn integrator_ids_are_placed_in_the_scope() {
        let agents = per_agent();
        let verified = Verified {
            claims: Claims {
                sub: "crm_42".into(),
                agt: "agent_a".into(),
                cnv: None,
                exp: 1,
            },
            issuer: Issuer::Integrator,
        };
        assert_eq!(agents.user_of(Some("agent_a"), &verified), "agent_a:crm_42");
        let ours = Verified {
            issuer: Issuer::Memvox,
            ..verified.clone()
        };
        assert_eq!(agents.user_of(Some("agent_a"), &ours), "crm_42");
    }

    #[test]
    fn the_allowlist_serves_only_listed_agents() {
        let open = IdentitySettings::default();
        assert!(open.serves_agent(Some("agent_x")) && open.serves_agent(None));
        let listed = IdentitySettings {
            agent_ids: vec!["agent_a".into()],
            ..IdentitySettings::default()
        };
        assert!(listed.serves_agent(Some("agent_a")));
        assert!(!listed.serves_agent(Some("agent_b")));
        assert!(!listed.serves_agent(None));
        assert!(
            IdentitySettings {
                agent_ids: vec!["a:b".into()],
                ..IdentitySettings::default()
            }
            .validate()
            .is_err()
        );
    }
}
