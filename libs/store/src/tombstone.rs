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

use std::collections::{BTreeSet, HashSet};

use memvox_core::{SCOPE_SEPARATOR, UnixMillis};
use memvox_crypto::Keyring;
use serde_json::Value;

use crate::{
    ExtractionCommit, StoreResult, ToolInvocation,
    dialect::{Conn, Dialect, Record, query},
    sql,
};

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

/// Deletes one raw event.
pub(crate) const DELETE_EVENT: &str = "DELETE FROM webhook_events WHERE id = $1";

/// Records a tombstone (an existing one stands).
const INSERT_TOMBSTONE: &str = "INSERT INTO erasure_tombstones \
     (digest, created_at, expires_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING";

/// Forgets tombstones whose lifetime is over.
const PURGE_TOMBSTONES: &str =
    "DELETE FROM erasure_tombstones WHERE expires_at IS NOT NULL AND expires_at <= $1";

/// Records tombstones for `erased` (and forgets expired ones) in an open transaction.
pub(crate) async fn tombstone_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lifetime_days: Option<u64>,
    erased: &[Erased<'_>],
    now: UnixMillis,
) -> StoreResult<()> {
    query::<D>(PURGE_TOMBSTONES).bind(now).execute(conn).await?;
    let expires_at = expires_at(now, lifetime_days);
    for subject in erased {
        query::<D>(INSERT_TOMBSTONE)
            .bind(subject.digest(keyring))
            .bind(now)
            .bind(expires_at)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Whether a claimed commit is for an erased conversation, or for a user or number erased after
/// its event arrived (a caller who phones again after an erasure is a new caller); if so its
/// event row is deleted and its conversation tombstoned, in the open transaction.
pub(crate) async fn commit_erased_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lifetime_days: Option<u64>,
    commit: &ExtractionCommit,
    received_at: UnixMillis,
) -> StoreResult<bool> {
    let Some(call) = &commit.call else {
        return Ok(false);
    };
    let conversation = Erased::Conversation(&call.conversation.conversation_id);
    let mut subjects = vec![(conversation, i64::MIN)];
    if let Some(user_id) = &call.conversation.user_id {
        subjects.push((Erased::User(user_id), received_at));
    }
    if let Some((number, user_id)) = &commit.bind_caller {
        subjects.push((Erased::Number(number), received_at));
        subjects.push((Erased::User(user_id), received_at));
    }
    if !is_erased_in::<D>(conn, keyring, &subjects, commit.now).await? {
        return Ok(false);
    }
    query::<D>(DELETE_EVENT)
        .bind(commit.event_id)
        .execute(conn)
        .await?;
    tombstone_in::<D>(conn, keyring, lifetime_days, &[conversation], commit.now).await?;
    Ok(true)
}

/// The tool invocations to log: those of a conversation erased, or of a user erased since the
/// call (queued before the erasure, written after), are dropped. One read for the whole batch.
pub(crate) async fn unerased_invocations_in<'c, D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    calls: &'c [ToolInvocation],
) -> StoreResult<Vec<&'c ToolInvocation>> {
    let wanted: Vec<Vec<(String, UnixMillis)>> = calls
        .iter()
        .map(|call| {
            let conversation = call.conversation_id.as_deref();
            let user = call.user_id.as_deref();
            (conversation
                .map(|id| (Erased::Conversation(id), i64::MIN))
                .into_iter())
            .chain(user.map(|id| (Erased::User(id), call.created_at)))
            .map(|(subject, since)| (subject.digest(keyring), since))
            .collect()
        })
        .collect();
    let Some(earliest) = calls.iter().map(|call| call.created_at).min() else {
        return Ok(Vec::new());
    };
    let digests: BTreeSet<&str> = wanted.iter().flatten().map(|(d, _)| d.as_str()).collect();
    let tombstones = live_tombstones_in::<D>(conn, &digests, earliest).await?;
    Ok(calls
        .iter()
        .zip(&wanted)
        .filter(|(call, wanted)| !erases(&tombstones, wanted, call.created_at))
        .map(|(call, _)| call)
        .collect())
}

/// Whether any of `subjects` has a tombstone alive at `now` and made at or after the time
/// paired with it (`i64::MIN`: whenever), read on `conn` with one statement.
pub(crate) async fn is_erased_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    subjects: &[(Erased<'_>, UnixMillis)],
    now: UnixMillis,
) -> StoreResult<bool> {
    let wanted: Vec<(String, UnixMillis)> = subjects
        .iter()
        .map(|(subject, since)| (subject.digest(keyring), *since))
        .collect();
    let digests: BTreeSet<&str> = wanted.iter().map(|(d, _)| d.as_str()).collect();
    let tombstones = live_tombstones_in::<D>(conn, &digests, now).await?;
    Ok(erases(&tombstones, &wanted, now))
}

/// A tombstone as read: its digest, when it was made and when it expires (`None`: never).
struct Tombstone {
    digest: String,
    created_at: UnixMillis,
    expires_at: Option<UnixMillis>,
}

/// Whether one of `tombstones` alive at `now` names a digest of `wanted` and was made at or
/// after the time paired with it.
fn erases(tombstones: &[Tombstone], wanted: &[(String, UnixMillis)], now: UnixMillis) -> bool {
    tombstones.iter().any(|tombstone| {
        tombstone.expires_at.is_none_or(|expires| expires > now)
            && wanted.iter().any(|(digest, since)| {
                *digest == tombstone.digest && tombstone.created_at >= *since
            })
    })
}

/// The tombstones among `digests` alive at `now`, one statement per chunk of digests.
async fn live_tombstones_in<D: Dialect>(
    conn: &mut Conn<D>,
    digests: &BTreeSet<&str>,
    now: UnixMillis,
) -> StoreResult<Vec<Tombstone>> {
    let digests: Vec<&str> = digests.iter().copied().collect();
    let mut tombstones = Vec::new();
    for chunk in digests.chunks(sql::INSERT_CHUNK) {
        let statement = format!(
            "SELECT digest, created_at, expires_at FROM erasure_tombstones \
             WHERE (expires_at IS NULL OR expires_at > $1) AND digest IN ({})",
            sql::placeholders(2, chunk.len())
        );
        let rows = chunk
            .iter()
            .fold(query::<D>(statement).bind(now), |q, digest| q.bind(*digest))
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            tombstones.push(Tombstone {
                digest: row.value("digest")?,
                created_at: row.value("created_at")?,
                expires_at: row.value("expires_at")?,
            });
        }
    }
    Ok(tombstones)
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
