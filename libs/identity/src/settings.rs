//! Identity settings (`[identity]`, `MEMVOX_IDENTITY__*`), shared by the query service and the
//! extraction worker, which must agree on them.

use std::fmt;

use serde::Deserialize;

/// How callers are identified.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentitySettings {
    /// Our own phone numbers (E.164). A conversation-init request or tool call whose
    /// `caller_id` is one of them is an outbound call, keyed on the number dialled. The
    /// post-call webhook says the direction itself (`metadata.phone_call`); without this list
    /// an outbound call's init and tool calls find nobody (our number is never bound to a
    /// user), so outbound calls are safe but not personalised.
    pub own_numbers: Vec<String>,
    /// Key that signs identity tokens (32 bytes or more). Unset: derived from the encryption
    /// index key; with encryption off as well, no tokens are issued or accepted, and only the
    /// phone channel identifies callers.
    pub token_secret: Option<String>,
    /// Lifetime of an identity token from the conversation-init webhook, in seconds. It must
    /// outlast the longest call: the tool checks it on every call during the call (the
    /// post-call worker checks it at the call's start).
    pub token_ttl_secs: u64,
    /// Shared secrets with which integrators' backends sign their own users' ids, in the token
    /// format (README, security section). Empty: none are accepted.
    pub integrator_secrets: Vec<String>,
    /// The agents memvox serves; other agents' post-call events are acknowledged and ignored,
    /// their conversation-init and tool calls get nothing (each counted). Empty: every agent.
    pub agent_ids: Vec<String>,
    /// Which callers are one user: `workspace` (one scope: a caller is the same user on every
    /// agent) or `agent` (a scope per agent: ids, number bindings, caches, search, links and
    /// summaries never cross agents). Changing it later leaves existing users in their scope.
    pub scope: ScopeGranularity,
}

/// Granularity of user scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeGranularity {
    /// One scope for the whole deployment.
    #[default]
    Workspace,
    /// One scope per agent id.
    Agent,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            own_numbers: Vec::new(),
            token_secret: None,
            token_ttl_secs: 6 * 3600,
            integrator_secrets: Vec::new(),
            agent_ids: Vec::new(),
            scope: ScopeGranularity::Workspace,
        }
    }
}

impl fmt::Debug for IdentitySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentitySettings")
            .field("own_numbers", &self.own_numbers)
            .field("token_secret", &self.token_secret.as_ref().map(|_| "***"))
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("integrator_secrets", &self.integrator_secrets.len())
            .field("agent_ids", &self.agent_ids)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Shortest accepted signing or integrator secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

impl IdentitySettings {
    /// Rules the types cannot express, each broken one explained in a sentence.
    ///
    /// # Errors
    /// The explanation of the first broken rule.
    pub fn validate(&self) -> Result<(), String> {
        if self
            .token_secret
            .as_ref()
            .is_some_and(|s| s.len() < MIN_SECRET_BYTES)
        {
            return Err(format!(
                "identity.token_secret is shorter than {MIN_SECRET_BYTES} bytes: it signs every \
                 caller's identity, so it must be too long to guess"
            ));
        }
        if let Some(index) = self
            .integrator_secrets
            .iter()
            .position(|s| s.len() < MIN_SECRET_BYTES)
        {
            return Err(format!(
                "identity.integrator_secrets[{index}] is shorter than {MIN_SECRET_BYTES} bytes: \
                 whoever guesses it can sign any user id, so it must be long and random"
            ));
        }
        if let Some(agent) = self
            .agent_ids
            .iter()
            .find(|a| a.is_empty() || a.contains(memvox_core::SCOPE_SEPARATOR))
        {
            return Err(format!(
                "identity.agent_ids holds {agent:?}: an agent id is a non-empty ElevenLabs id \
                 without `{}`, which separates an agent's scope from its users' ids",
                memvox_core::SCOPE_SEPARATOR
            ));
        }
        if self.token_ttl_secs < 60 {
            return Err(
                "identity.token_ttl_secs is under 60: the tool checks the token during the \
                 whole call, so it must outlast a call"
                    .into(),
            );
        }
        Ok(())
    }

    /// Whether memvox serves calls of `agent_id` (`None`: the call does not say): every agent
    /// when the allowlist is empty, else only listed ones.
    pub fn serves_agent(&self, agent_id: Option<&str>) -> bool {
        self.agent_ids.is_empty()
            || agent_id.is_some_and(|agent| self.agent_ids.iter().any(|a| a == agent))
    }

    /// Whether `number` is one of ours.
    pub fn is_own_number(&self, number: &str) -> bool {
        let number = number.trim();
        self.own_numbers.iter().any(|own| own.trim() == number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_numbers_are_compared_trimmed() {
        let settings = IdentitySettings {
            own_numbers: vec!["+14155550142".into()],
            ..IdentitySettings::default()
        };
        assert!(settings.is_own_number(" +14155550142"));
        assert!(!settings.is_own_number("+14155550199"));
        assert!(!IdentitySettings::default().is_own_number("+14155550142"));
    }

    #[test]
    fn short_secrets_are_refused() {
        let short = IdentitySettings {
            integrator_secrets: vec!["x".repeat(40), "short".into()],
            ..IdentitySettings::default()
        };
        let error = short.validate().unwrap_err();
        assert!(
            error.starts_with("identity.integrator_secrets[1]"),
            "{error}"
        );
        assert!(IdentitySettings::default().validate().is_ok());
    }
}
