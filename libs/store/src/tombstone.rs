//! Erasure tombstones: what an erased user leaves behind so nothing brings them back.
//!
//! An erasure records one tombstone per erased user id, phone number (the binding key and the
//! bare number) and conversation id: a keyed hash ([`Keyring::tombstone`]), never the value.
//! `record_event` refuses an event of a tombstoned conversation in the same statement that would
//! insert it, and `apply_extraction` refuses a commit for a tombstoned conversation, or for a
//! user or number tombstoned after the event arrived, so a delivery, redelivery, reconciler
//! pass or replay racing the erasure cannot recreate them either. A caller who phones again
//! after the erasure is a new caller: their new conversation is not tombstoned, and its event
//! arrived after the tombstones were made.
//!
//! Events that are not completed yet have no conversation row to find them by; erasure reads
//! each such event (pending, retrying or dead-lettered) and deletes those whose payload names
//! one of the user's conversations, their id or one of their numbers ([`mentions`]).

use std::collections::HashSet;

use memvox_core::{SCOPE_SEPARATOR, UnixMillis};
use memvox_crypto::Keyring;
use serde_json::Value;

/// Something an erasure may have tombstoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased<'a> {
    /// A user id.
    User(&'a str),
    /// A phone number, bare or as a binding key in a scope.
    Number(&'a str),
    /// A conversation id.
    Conversation(&'a str),
}

impl Erased<'_> {
    /// The tombstone digest of this value.
    pub fn digest(&self, keyring: &Keyring) -> String {
        match self {
            Erased::User(id) => keyring.tombstone("user", id),
            Erased::Number(number) => keyring.tombstone("number", number.trim()),
            Erased::Conversation(id) => keyring.tombstone("conversation", id),
        }
    }
}

/// The bare number of a binding key (`<scope>:<number>` or the number itself).
pub(crate) fn bare_number(key: &str) -> &str {
    key.rsplit(SCOPE_SEPARATOR).next().unwrap_or(key).trim()
}

/// When a tombstone made at `now` expires: never without a lifetime.
pub(crate) fn expires_at(now: UnixMillis, lifetime_days: Option<u64>) -> Option<UnixMillis> {
    lifetime_days.map(|days| {
        let millis = i64::try_from(days.saturating_mul(86_400_000)).unwrap_or(i64::MAX);
        now.saturating_add(millis)
    })
}

/// Whether a raw event payload names one of `values` as a whole JSON string (a user id, a
/// number, a conversation id), anywhere in the document. A payload that is not JSON names
/// nothing.
pub(crate) fn mentions(payload: &str, values: &HashSet<String>) -> bool {
    fn walk(value: &Value, values: &HashSet<String>) -> bool {
        match value {
            Value::String(text) => values.contains(text.trim()),
            Value::Array(items) => items.iter().any(|item| walk(item, values)),
            Value::Object(fields) => fields.values().any(|field| walk(field, values)),
            _ => false,
        }
    }
    serde_json::from_str::<Value>(payload).is_ok_and(|document| walk(&document, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_mentions_whole_values_only() {
        let values: HashSet<String> = ["+15550001111".to_owned(), "u1".to_owned()].into();
        let payload = r#"{"data":{"metadata":{"phone_call":{"external_number":"+15550001111"}}}}"#;
        assert!(mentions(payload, &values));
        assert!(mentions(r#"{"data":{"user_id":"u1"}}"#, &values));
        assert!(!mentions(r#"{"data":{"user_id":"u10"}}"#, &values));
        assert!(!mentions("not json u1", &values));
    }

    #[test]
    fn binding_keys_give_their_number() {
        assert_eq!(bare_number("agent_1:+15550001111"), "+15550001111");
        assert_eq!(bare_number("+15550001111"), "+15550001111");
    }

    #[test]
    fn tombstones_last_forever_unless_given_a_lifetime() {
        assert_eq!(expires_at(1_000, None), None);
        assert_eq!(expires_at(1_000, Some(1)), Some(86_401_000));
    }
}
