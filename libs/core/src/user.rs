//! Users (the callers memvox remembers) and the mapping from phone numbers to users.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::UnixMillis;

/// A caller memvox keeps memories for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Stable id: the agent builder's own id, or a generated guest id (`guest_…`).
    pub user_id: String,
    /// Name when known (from a memory or set through the API).
    pub display_name: Option<String>,
    /// Generated summary of who this caller is.
    pub summary: Option<String>,
    /// Number of memories currently stored.
    pub total_memories: i64,
    /// Last call or API interaction.
    pub last_interaction: Option<UnixMillis>,
    /// Creation time.
    pub created_at: UnixMillis,
}

/// A phone number (E.164, as ElevenLabs reports `system__caller_id`) bound to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    /// The caller's number.
    pub phone_number: String,
    /// The user it belongs to.
    pub user_id: String,
    /// When the binding was made.
    pub created_at: UnixMillis,
}

/// The scope of users created before scopes existed, and of every user when one scope spans
/// the workspace.
pub const DEFAULT_SCOPE: &str = "default";

/// Separates an agent scope from the id within it (`<agent_id>:<id>`).
pub const SCOPE_SEPARATOR: char = ':';

/// The scope a user id belongs to: the prefix of an agent-scoped id, else [`DEFAULT_SCOPE`].
pub fn scope_of(user_id: &str) -> &str {
    user_id
        .split_once(SCOPE_SEPARATOR)
        .map_or(DEFAULT_SCOPE, |(scope, _)| scope)
}

/// The id of `local` within `scope` (`None`: the default scope, where ids are unprefixed).
pub fn scoped(scope: Option<&str>, local: &str) -> String {
    match scope {
        Some(scope) => format!("{scope}{SCOPE_SEPARATOR}{local}"),
        None => local.to_owned(),
    }
}

/// A number binding key (`<number>` or `<scope>:<number>`) as its blind index sees it: the
/// number without whitespace or the separators people and systems write (`-`, `.`, `(`, `)`),
/// so `+1 (415) 555-0199` and `+14155550199` are one caller. The scope is kept as it is.
pub fn normalized_number_key(key: &str) -> String {
    let (scope, number) = match key.rsplit_once(SCOPE_SEPARATOR) {
        Some((scope, number)) => (Some(scope.trim()), number),
        None => (None, key),
    };
    let number: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '(' | ')'))
        .collect();
    scoped(scope, &number)
}

/// The unkeyed guest id of a phone number: `guest_` + the first 16 hex digits of SHA-256 of the
/// number. Anyone who knows the number can compute it, so memvox uses it only without a key
/// (`memvox-identity` derives guest ids with a keyed hash whenever it holds one).
pub fn guest_user_id(phone_number: &str) -> String {
    let digest = Sha256::digest(phone_number.trim().as_bytes());
    format!("guest_{}", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_ids_are_stable_and_distinct() {
        let id = guest_user_id("+14155550199");
        assert_eq!(id, guest_user_id(" +14155550199 "));
        assert_eq!(id.len(), "guest_".len() + 16);
        assert_ne!(id, guest_user_id("+14155550100"));
    }

    #[test]
    fn number_keys_lose_their_separators_but_keep_their_scope() {
        assert_eq!(normalized_number_key(" +1 (415) 555-0199 "), "+14155550199");
        assert_eq!(normalized_number_key("+1.415.555.0199"), "+14155550199");
        assert_eq!(
            normalized_number_key("agent_1:+1 415 555 0199"),
            "agent_1:+14155550199"
        );
        assert_ne!(
            normalized_number_key("agent_1:+14155550199"),
            normalized_number_key("agent_2:+14155550199")
        );
    }

    #[test]
    fn a_scope_is_the_prefix_of_a_scoped_id() {
        assert_eq!(scope_of("guest_0123"), DEFAULT_SCOPE);
        let id = scoped(Some("agent_1"), "guest_0123");
        assert_eq!(id, "agent_1:guest_0123");
        assert_eq!(scope_of(&id), "agent_1");
        assert_eq!(scoped(None, "crm_42"), "crm_42");
    }
}
