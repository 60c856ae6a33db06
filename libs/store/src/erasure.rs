//! Erasure inside one transaction: the user's rows, their not-yet-processed events, and the
//! tombstones that keep them erased (see `tombstone`).
//!
//! [`impl_erasure!`] adds the transaction steps to a backend type that has the fields
//! `impl_store!` expects plus `tombstone_days` (the tombstone lifetime, `None` forever).

/// Conversation ids of the user's recorded calls.
pub(crate) const SELECT_USER_CONVERSATIONS: &str =
    "SELECT conversation_id FROM conversations WHERE user_id = $1";

/// The user's number bindings (binding keys).
pub(crate) const SELECT_USER_NUMBERS: &str =
    "SELECT phone_number FROM caller_identities WHERE user_id = $1";

/// Every event not processed yet: pending, retrying (pending with attempts) or dead-lettered.
pub(crate) const SELECT_OPEN_EVENTS: &str =
    "SELECT id, conversation_id, payload FROM webhook_events WHERE status <> 'completed'";

/// When a raw event arrived.
pub(crate) const SELECT_EVENT_RECEIVED: &str =
    "SELECT received_at FROM webhook_events WHERE id = $1";

/// Deletes one raw event.
pub(crate) const DELETE_EVENT: &str = "DELETE FROM webhook_events WHERE id = $1";

/// Records a tombstone (an existing one stands).
pub(crate) const INSERT_TOMBSTONE: &str = "INSERT INTO erasure_tombstones \
     (digest, created_at, expires_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING";

/// Forgets tombstones whose lifetime is over.
pub(crate) const PURGE_TOMBSTONES: &str =
    "DELETE FROM erasure_tombstones WHERE expires_at IS NOT NULL AND expires_at <= $1";

/// Adds the erasure steps to a backend type; `$sql` turns shared SQL into its dialect.
macro_rules! impl_erasure {
    ($ty:ty, $db:ty, $sql:path) => {
        impl $ty {
            /// Erases `user_id` inside an open transaction: their not-yet-processed events
            /// first (found by conversation, id or number in the payload), then every row of
            /// `sql::ERASE_USER`, then tombstones for the id, numbers and conversations.
            async fn erase_user_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lifetime_days: Option<u64>,
                user_id: &str,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<$crate::ErasureReceipt> {
                use sqlx::Row;
                let mut conversations = std::collections::HashSet::new();
                for row in sqlx::query($sql($crate::erasure::SELECT_USER_CONVERSATIONS))
                    .bind(user_id)
                    .fetch_all(&mut *conn)
                    .await?
                {
                    conversations.insert(row.try_get::<String, _>("conversation_id")?);
                }
                let mut numbers = Vec::new();
                for row in sqlx::query($sql($crate::erasure::SELECT_USER_NUMBERS))
                    .bind(user_id)
                    .fetch_all(&mut *conn)
                    .await?
                {
                    let key: String = row.try_get("phone_number")?;
                    numbers.push($crate::tombstone::bare_number(&key).to_owned());
                    numbers.push(key);
                }
                let mut named: std::collections::HashSet<String> =
                    numbers.iter().cloned().chain(conversations.iter().cloned()).collect();
                named.insert(user_id.to_owned());

                // Two passes: an event naming the user ties its conversation to them, and with
                // it the conversation's other events (its audio names nobody).
                let mut open = Vec::new();
                for row in sqlx::query($sql($crate::erasure::SELECT_OPEN_EVENTS))
                    .fetch_all(&mut *conn)
                    .await?
                {
                    let conversation_id: String = row.try_get("conversation_id")?;
                    let stored: String = row.try_get("payload")?;
                    let payload = keyring.decrypt(
                        &stored,
                        $crate::encryption::columns::EVENT_PAYLOAD.at(&conversation_id),
                    )?;
                    if $crate::tombstone::mentions(&payload, &named) {
                        conversations.insert(conversation_id.clone());
                    }
                    open.push((row.try_get::<i64, _>("id")?, conversation_id));
                }
                let mut open_events = 0;
                for (id, conversation_id) in &open {
                    if conversations.contains(conversation_id) {
                        sqlx::query($sql($crate::erasure::DELETE_EVENT))
                            .bind(*id)
                            .execute(&mut *conn)
                            .await?;
                        open_events += 1;
                    }
                }

                let mut deleted = Vec::new();
                for (table, statement) in $crate::sql::ERASE_USER {
                    let result = sqlx::query($sql(statement))
                        .bind(user_id)
                        .execute(&mut *conn)
                        .await?;
                    let mut rows = result.rows_affected();
                    if table == "webhook_events" {
                        rows += open_events;
                    }
                    if rows > 0 {
                        deleted.push((table.to_owned(), rows));
                    }
                }

                let erased: Vec<$crate::Erased<'_>> = std::iter::once($crate::Erased::User(user_id))
                    .chain(numbers.iter().map(|n| $crate::Erased::Number(n)))
                    .chain(conversations.iter().map(|c| $crate::Erased::Conversation(c)))
                    .collect();
                Self::tombstone_in(&mut *conn, keyring, lifetime_days, &erased, now).await?;
                let mut conversations: Vec<String> = conversations.into_iter().collect();
                conversations.sort();
                Ok($crate::ErasureReceipt {
                    user_id: user_id.to_owned(),
                    deleted,
                    conversations,
                })
            }

            /// Records tombstones for `erased` (and forgets expired ones) in an open transaction.
            async fn tombstone_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lifetime_days: Option<u64>,
                erased: &[$crate::Erased<'_>],
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                sqlx::query($sql($crate::erasure::PURGE_TOMBSTONES))
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                let expires_at = $crate::tombstone::expires_at(now, lifetime_days);
                for subject in erased {
                    sqlx::query($sql($crate::erasure::INSERT_TOMBSTONE))
                        .bind(subject.digest(keyring))
                        .bind(now)
                        .bind(expires_at)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Whether a claimed commit is for an erased conversation, or for a user or number
            /// erased after its event arrived (a caller who phones again after an erasure is
            /// a new caller); if so its event row is deleted and its conversation tombstoned, in
            /// the open transaction.
            async fn commit_erased_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lifetime_days: Option<u64>,
                commit: &$crate::ExtractionCommit,
            ) -> $crate::StoreResult<bool> {
                let Some(call) = &commit.call else {
                    return Ok(false);
                };
                let conversation = [$crate::Erased::Conversation(&call.conversation.conversation_id)];
                let mut callers: Vec<_> =
                    call.conversation.user_id.as_deref().map($crate::Erased::User).into_iter().collect();
                if let Some((number, user_id)) = &commit.bind_caller {
                    callers.push($crate::Erased::Number(number));
                    callers.push($crate::Erased::User(user_id));
                }
                let received_at: i64 = sqlx::query_scalar($sql($crate::erasure::SELECT_EVENT_RECEIVED))
                    .bind(commit.event_id)
                    .fetch_one(&mut *conn)
                    .await?;
                let erased = Self::is_erased_in(&mut *conn, keyring, &conversation, i64::MIN, commit.now).await?
                    || Self::is_erased_in(&mut *conn, keyring, &callers, received_at, commit.now).await?;
                if !erased {
                    return Ok(false);
                }
                sqlx::query($sql($crate::erasure::DELETE_EVENT))
                    .bind(commit.event_id)
                    .execute(&mut *conn)
                    .await?;
                Self::tombstone_in(&mut *conn, keyring, lifetime_days, &conversation, commit.now).await?;
                Ok(true)
            }

            /// The tool invocations to log: those of a conversation erased, or of a user erased
            /// since the call (queued before the erasure, written after), are dropped.
            async fn unerased_invocations_in<'c>(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                calls: &'c [$crate::ToolInvocation],
            ) -> $crate::StoreResult<Vec<&'c $crate::ToolInvocation>> {
                let mut kept = Vec::with_capacity(calls.len());
                for call in calls {
                    let at = call.created_at;
                    let conversation: Vec<_> =
                        call.conversation_id.as_deref().map($crate::Erased::Conversation).into_iter().collect();
                    let user: Vec<_> = call.user_id.as_deref().map($crate::Erased::User).into_iter().collect();
                    let erased = Self::is_erased_in(&mut *conn, keyring, &conversation, i64::MIN, at).await?
                        || Self::is_erased_in(&mut *conn, keyring, &user, at, at).await?;
                    if !erased {
                        kept.push(call);
                    }
                }
                Ok(kept)
            }

            /// Whether any of `subjects` has a tombstone made at or after `since` and alive at
            /// `now`, read on `conn`.
            async fn is_erased_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                subjects: &[$crate::Erased<'_>],
                since: memvox_core::UnixMillis,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<bool> {
                if subjects.is_empty() {
                    return Ok(false);
                }
                let statement = format!(
                    "SELECT 1 AS hit FROM erasure_tombstones WHERE (expires_at IS NULL OR expires_at > $1) \
                     AND created_at >= $2 AND digest IN ({}) LIMIT 1",
                    $crate::sql::placeholders(3, subjects.len())
                );
                let mut query = sqlx::query($sql(statement)).bind(now).bind(since);
                for subject in subjects {
                    query = query.bind(subject.digest(keyring));
                }
                Ok(query.fetch_optional(&mut *conn).await?.is_some())
            }
        }
    };
}
pub(crate) use impl_erasure;
