//! Erasure: a user erased in one transaction — their rows, their not-yet-processed events,
//! and the tombstones that keep them erased (see `tombstone`).

use std::collections::HashSet;

use async_trait::async_trait;
use memvox_core::UnixMillis;
use memvox_crypto::Keyring;

use crate::{
    Erased, ErasureReceipt, Events, StoreResult,
    backend::Backend,
    callers::user_numbers_in,
    dialect::{Conn, Dialect, Record, query},
    encryption::columns,
    tombstone::{self, bare_number, is_erased_in, mentions, tombstone_in},
};

/// Staged deliveries moved per transaction before an erasure.
const MOVE_BEFORE_ERASURE: usize = 512;

/// Erasure, child rows first so every count is exact; `$1` is the user id.
const ERASE_USER: [(&str, &str); 13] = [
    (
        "memory_links",
        "DELETE FROM memory_links WHERE source_memory_id IN (SELECT id FROM memories WHERE user_id = $1) \
         OR target_memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    (
        "memory_embeddings",
        "DELETE FROM memory_embeddings WHERE user_id = $1 \
         OR memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    (
        "conversation_memories",
        "DELETE FROM conversation_memories WHERE memory_id IN (SELECT id FROM memories WHERE user_id = $1) \
         OR conversation_fk IN (SELECT id FROM conversations WHERE user_id = $1)",
    ),
    (
        "memory_history",
        "DELETE FROM memory_history WHERE user_id = $1 \
         OR memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    (
        "memory_terms",
        "DELETE FROM memory_terms WHERE user_id = $1 \
         OR memory_id IN (SELECT id FROM memories WHERE user_id = $1)",
    ),
    ("memories", "DELETE FROM memories WHERE user_id = $1"),
    (
        "conversation_turns",
        "DELETE FROM conversation_turns WHERE conversation_fk IN (SELECT id FROM conversations WHERE user_id = $1)",
    ),
    (
        "conversation_analysis",
        "DELETE FROM conversation_analysis WHERE conversation_fk IN (SELECT id FROM conversations WHERE user_id = $1)",
    ),
    (
        "webhook_events",
        "DELETE FROM webhook_events WHERE conversation_id IN (SELECT conversation_id FROM conversations WHERE user_id = $1)",
    ),
    (
        "tool_invocations",
        "DELETE FROM tool_invocations WHERE user_id = $1 \
         OR conversation_id IN (SELECT conversation_id FROM conversations WHERE user_id = $1)",
    ),
    (
        "conversations",
        "DELETE FROM conversations WHERE user_id = $1",
    ),
    (
        "caller_identities",
        "DELETE FROM caller_identities WHERE user_id = $1",
    ),
    ("users", "DELETE FROM users WHERE user_id = $1"),
];

/// Erasing users, and asking whether something was erased.
#[async_trait]
pub trait Erasure: Send + Sync {
    /// Erases a user, in one transaction: every row in every table that mentions them, their
    /// events not processed yet (pending, retrying, dead-lettered: found by conversation, user
    /// id or number in the payload), and tombstones for their id, numbers and conversations,
    /// so no delivery, redelivery or replay brings them back (see [`Erased`]). Tombstones live
    /// `store.tombstone_lifetime_days` (forever by default).
    async fn erase_user(&self, user_id: &str, now: UnixMillis) -> StoreResult<ErasureReceipt>;

    /// Whether any of `subjects` was erased (has a live tombstone at `now`).
    async fn is_erased(&self, subjects: &[Erased<'_>], now: UnixMillis) -> StoreResult<bool>;
}

#[async_trait]
impl<B: Backend> Erasure for B {
    async fn erase_user(&self, user_id: &str, now: UnixMillis) -> StoreResult<ErasureReceipt> {
        // Deliveries acknowledged into SQLite's ingest file join the events table first, where
        // the erasure finds the user's (the rest are announced by the outbox reconciler).
        while self.move_staged(MOVE_BEFORE_ERASURE).await?.is_some() {}
        let core = self.core();
        let mut tx = self.begin().await?;
        let receipt =
            erase_user_in::<B::Sql>(&mut tx, &core.keyring, core.tombstone_days, user_id, now)
                .await?;
        tx.commit().await?;
        Ok(receipt)
    }

    async fn is_erased(&self, subjects: &[Erased<'_>], now: UnixMillis) -> StoreResult<bool> {
        let subjects: Vec<_> = subjects.iter().map(|s| (*s, i64::MIN)).collect();
        let mut conn = self.read().await?;
        is_erased_in::<B::Sql>(&mut conn, &self.core().keyring, &subjects, now).await
    }
}

/// Conversation ids of the user's recorded calls.
const SELECT_USER_CONVERSATIONS: &str =
    "SELECT conversation_id FROM conversations WHERE user_id = $1";

/// Every event not processed yet: pending, retrying (pending with attempts) or dead-lettered.
const SELECT_OPEN_EVENTS: &str =
    "SELECT id, conversation_id, payload FROM webhook_events WHERE status <> 'completed'";

/// Erases `user_id` inside an open transaction: their not-yet-processed events first (found by
/// conversation, id or number in the payload), then every row of `ERASE_USER`, then
/// tombstones for the id, numbers and conversations.
async fn erase_user_in<D: Dialect>(
    conn: &mut Conn<D>,
    keyring: &Keyring,
    lifetime_days: Option<u64>,
    user_id: &str,
    now: UnixMillis,
) -> StoreResult<ErasureReceipt> {
    let mut conversations = HashSet::new();
    let rows = query::<D>(SELECT_USER_CONVERSATIONS)
        .bind(user_id)
        .fetch_all(conn)
        .await?;
    for row in &rows {
        conversations.insert(row.value::<String>("conversation_id")?);
    }
    let mut numbers = Vec::new();
    for key in user_numbers_in::<D>(conn, keyring, user_id).await? {
        numbers.push(bare_number(&key).to_owned());
        numbers.push(key);
    }
    let mut named: HashSet<String> = numbers
        .iter()
        .cloned()
        .chain(conversations.iter().cloned())
        .collect();
    named.insert(user_id.to_owned());

    // Two passes: an event naming the user ties its conversation to them, and with it the
    // conversation's other events (its audio names nobody).
    let mut open = Vec::new();
    for row in &query::<D>(SELECT_OPEN_EVENTS).fetch_all(conn).await? {
        let conversation_id: String = row.value("conversation_id")?;
        let stored: String = row.value("payload")?;
        let payload = keyring.decrypt(&stored, columns::EVENT_PAYLOAD.at(&conversation_id))?;
        if mentions(&payload, &named) {
            conversations.insert(conversation_id.clone());
        }
        open.push((row.value::<i64>("id")?, conversation_id));
    }
    let mut open_events = 0;
    for (id, conversation_id) in &open {
        if conversations.contains(conversation_id) {
            query::<D>(tombstone::DELETE_EVENT)
                .bind(*id)
                .execute(conn)
                .await?;
            open_events += 1;
        }
    }

    let mut deleted = Vec::new();
    for (table, statement) in ERASE_USER {
        let mut rows = query::<D>(statement).bind(user_id).execute(conn).await?;
        if table == "webhook_events" {
            rows += open_events;
        }
        if rows > 0 {
            deleted.push((table.to_owned(), rows));
        }
    }

    let erased: Vec<Erased<'_>> = std::iter::once(Erased::User(user_id))
        .chain(numbers.iter().map(|n| Erased::Number(n)))
        .chain(conversations.iter().map(|c| Erased::Conversation(c)))
        .collect();
    tombstone_in::<D>(conn, keyring, lifetime_days, &erased, now).await?;
    let mut conversations: Vec<String> = conversations.into_iter().collect();
    conversations.sort();
    Ok(ErasureReceipt {
        user_id: user_id.to_owned(),
        deleted,
        conversations,
    })
}
