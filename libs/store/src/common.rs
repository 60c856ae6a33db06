//! The part of the [`Store`](crate::Store) implementation both backends share: row decoding and
//! a macro that implements the trait over a backend's pool with the SQL in `sql.rs`.
//!
//! A backend type using [`impl_store!`] has fields `pool` (reads), `space`, `index` (its
//! [`VectorIndex`](crate::vector_index::VectorIndex)) and `lexical` (its
//! [`LexicalKey`](crate::LexicalKey)), and inherent methods `writer` (the pool every write
//! uses), `backend_store_embeddings` and `push_row_vector` (vector storage),
//! `backend_similar_memories` (neighbours of a batch), and associated constants
//! `TOKEN_COUNT`, `TOKEN_SEARCH` and `TOKEN_OR` (the full-text index's SQL): the things that
//! differ. Vector search goes through the per-user vector index on both backends.

use memvox_core::{Memory, Provenance, Sector, UnixMillis};
use memvox_crypto::Keyring;
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::{EventStatus, StoreError, StoreResult, StoredEvent, encryption::columns};

/// The two times a memory write carries: when what it records was said (the call's time, which
/// memories, their history and episodes are stamped with, and recency decays from) and when
/// the write happens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) said: UnixMillis,
    pub(crate) now: UnixMillis,
}

impl Times {
    /// A write of something said now (a memory added through the API).
    pub(crate) fn now(now: UnixMillis) -> Self {
        Self { said: now, now }
    }
}

/// Memories indexed per transaction when earlier memories get their lexical tokens.
pub(crate) const INDEX_BATCH: usize = 500;

/// What an open write transaction has already made sure of — users that exist, conversations'
/// row ids — so that the statements for several memories (and several events of a group
/// commit) do not ask again.
///
/// It also gathers the rows that only follow from memory writes — lexical tokens and
/// conversation citations — so that they are written with one statement each when the
/// transaction is about to commit (`flush_written_in`) rather than one per memory.
#[derive(Debug, Default)]
pub(crate) struct Written {
    users: std::collections::HashSet<String>,
    conversations: std::collections::HashMap<String, i64>,
    terms: Vec<(memvox_core::MemoryId, String, String)>,
    citations: Vec<Citation>,
}

/// A conversation's mention of a memory, waiting to be written.
#[derive(Debug)]
pub(crate) struct Citation {
    pub(crate) conversation_fk: i64,
    pub(crate) memory_id: memvox_core::MemoryId,
    pub(crate) extraction_type: String,
    pub(crate) turn_indexes: String,
    pub(crate) at: memvox_core::UnixMillis,
}

impl Citation {
    /// Conversation `conversation_fk` (row id) mentioned memory `memory_id` at `provenance`'s
    /// turns; `extraction_type` says how (`auto`, `manual`, `reinforced`).
    pub(crate) fn new(
        conversation_fk: i64,
        memory_id: memvox_core::MemoryId,
        extraction_type: &str,
        provenance: &memvox_core::Provenance,
        at: memvox_core::UnixMillis,
    ) -> Self {
        Self {
            conversation_fk,
            memory_id,
            extraction_type: extraction_type.to_owned(),
            turn_indexes: serde_json::json!(provenance.turn_indexes).to_string(),
            at,
        }
    }
}

impl Written {
    /// Whether `user_id` is not yet known to exist in this transaction (from now on it is).
    pub(crate) fn user_is_new(&mut self, user_id: &str) -> bool {
        self.users.insert(user_id.to_owned())
    }

    /// The row id of a conversation this transaction wrote or looked up.
    pub(crate) fn conversation(&self, conversation_id: &str) -> Option<i64> {
        self.conversations.get(conversation_id).copied()
    }

    /// Remembers a conversation's row id.
    pub(crate) fn remember_conversation(&mut self, conversation_id: &str, fk: i64) {
        self.conversations.insert(conversation_id.to_owned(), fk);
    }

    /// A memory's lexical tokens, to write (replacing earlier ones) before commit.
    pub(crate) fn index_terms(
        &mut self,
        memory_id: memvox_core::MemoryId,
        user_id: &str,
        terms: String,
    ) {
        self.terms.push((memory_id, user_id.to_owned(), terms));
    }

    /// A conversation's mention of a memory, to write before commit (the first per pair wins).
    pub(crate) fn cite(&mut self, citation: Citation) {
        self.citations.push(citation);
    }

    /// The tokens to write, one row per memory (its latest).
    pub(crate) fn take_terms(&mut self) -> Vec<(memvox_core::MemoryId, String, String)> {
        let mut latest: std::collections::HashMap<memvox_core::MemoryId, usize> =
            std::collections::HashMap::new();
        for (i, (memory_id, _, _)) in self.terms.iter().enumerate() {
            latest.insert(*memory_id, i);
        }
        std::mem::take(&mut self.terms)
            .into_iter()
            .enumerate()
            .filter(|(i, (memory_id, _, _))| latest.get(memory_id) == Some(i))
            .map(|(_, row)| row)
            .collect()
    }

    /// The citations to write, one per conversation and memory (the first).
    pub(crate) fn take_citations(&mut self) -> Vec<Citation> {
        let mut seen = std::collections::HashSet::new();
        std::mem::take(&mut self.citations)
            .into_iter()
            .filter(|c| seen.insert((c.conversation_fk, c.memory_id)))
            .collect()
    }
}

/// Decodes a memory from a row selected with `memory_columns!()`, decrypting its content.
pub(crate) fn memory_from_row<'r, R>(keyring: &Keyring, row: &'r R) -> StoreResult<Memory>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    let sector: String = row.try_get("sector")?;
    let state: String = row.try_get("state")?;
    let source_conversation: Option<String> = row.try_get("source_conversation")?;
    let source_turns: Option<String> = row.try_get("source_turns")?;
    let provenance = match source_conversation {
        Some(conversation_id) => Some(Provenance {
            conversation_id,
            turn_indexes: match source_turns {
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("memories.source_turns: {e}")))?,
                None => Vec::new(),
            },
        }),
        None => None,
    };
    let user_id: String = row.try_get("user_id")?;
    let stored: String = row.try_get("content")?;
    let content = keyring.decrypt(&stored, columns::MEMORY_CONTENT.at(&user_id))?;
    Ok(Memory {
        id: row.try_get("id")?,
        user_id,
        content,
        kind: kind
            .parse()
            .map_err(|e: memvox_core::UnknownVariant| StoreError::Corrupt(e.to_string()))?,
        sector: sector
            .parse::<Sector>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        salience: row.try_get("salience")?,
        decay_per_day: row.try_get("decay_per_day")?,
        state: state
            .parse()
            .map_err(|e: memvox_core::UnknownVariant| StoreError::Corrupt(e.to_string()))?,
        last_seen_at: row.try_get("last_seen_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        provenance,
        superseded_by: row.try_get("superseded_by")?,
        superseded_at: row.try_get::<Option<UnixMillis>, _>("superseded_at")?,
    })
}

/// Decodes a raw event row, decrypting its payload.
pub(crate) fn event_from_row<'r, R>(keyring: &Keyring, row: &'r R) -> StoreResult<StoredEvent>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    let conversation_id: String = row.try_get("conversation_id")?;
    let stored: String = row.try_get("payload")?;
    let payload = keyring.decrypt(&stored, columns::EVENT_PAYLOAD.at(&conversation_id))?;
    Ok(StoredEvent {
        id: row.try_get("id")?,
        event_type: row.try_get("event_type")?,
        conversation_id,
        event_timestamp: row.try_get("event_timestamp")?,
        payload,
        status: status
            .parse::<EventStatus>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        attempts: row.try_get("attempts")?,
        error_message: row.try_get("error_message")?,
        received_at: row.try_get("received_at")?,
        published_at: row.try_get("published_at")?,
    })
}

/// Serialises an optional JSON value for a TEXT column.
pub(crate) fn json_text(value: Option<&serde_json::Value>) -> Option<String> {
    value.map(serde_json::Value::to_string)
}

/// Encrypts an optional value (`None` stays `None`).
pub(crate) fn encrypt_optional(
    keyring: &Keyring,
    value: Option<String>,
    context: memvox_crypto::Context<'_>,
) -> StoreResult<Option<String>> {
    Ok(value.map(|v| keyring.encrypt(&v, context)).transpose()?)
}

/// Decrypts an optional stored value (`None` stays `None`).
pub(crate) fn decrypt_optional(
    keyring: &Keyring,
    value: Option<String>,
    context: memvox_crypto::Context<'_>,
) -> StoreResult<Option<String>> {
    Ok(value.map(|v| keyring.decrypt(&v, context)).transpose()?)
}

/// Parses an optional TEXT column holding JSON.
pub(crate) fn parse_json_text(
    column: &str,
    text: Option<String>,
) -> StoreResult<Option<serde_json::Value>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
}

/// Salience added when a call repeats or refines a memory (on top of the larger of the two).
pub(crate) const UPDATE_SALIENCE_BUMP: f64 = 0.05;

/// Salience added when a call confirms a memory unchanged.
pub(crate) const REINFORCE_SALIENCE_BUMP: f64 = 0.05;

/// The salience an episode is stored with: below an extracted fact's usual 0.5–0.9, so that of
/// a fact and an episode matching a query equally, the compact fact ranks first.
pub const EPISODE_SALIENCE: f64 = 0.3;

/// Parses the stored JSON list of an event's result memory ids.
pub(crate) fn parse_result_ids(text: Option<String>) -> StoreResult<Vec<memvox_core::MemoryId>> {
    match text {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("webhook_events.result_memory_ids: {e}"))),
        None => Ok(Vec::new()),
    }
}

/// Rows read per page when counting encrypted values.
pub(crate) const STATUS_PAGE: usize = 1_000;

/// Rows per multi-row insert: keeps every statement under SQLite's bound-parameter limit.
pub(crate) const INSERT_CHUNK: usize = 500;

/// Implements [`Store`](crate::Store) for a backend type; `$sql` turns shared SQL into the
/// backend's dialect.
macro_rules! impl_store {
    ($ty:ty, $db:ty, $backend:literal, $sql:path) => {
        $crate::erasure::impl_erasure!($ty, $db, $sql);

        #[async_trait::async_trait]
        impl $crate::Store for $ty {
            fn backend(&self) -> &'static str {
                $backend
            }

            fn embedding_space(&self) -> &$crate::EmbeddingSpace {
                &self.space
            }

            async fn ping(&self) -> $crate::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn ensure_user(
                &self,
                user_id: &str,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<memvox_core::User> {
                if user_id.trim().is_empty() {
                    return Err($crate::StoreError::Invalid("user id is empty".into()));
                }
                sqlx::query($sql($crate::sql::INSERT_USER_IF_MISSING))
                    .bind(user_id)
                    .bind(now)
                    .bind(memvox_core::scope_of(user_id))
                    .execute(self.writer())
                    .await?;
                self.get_user(user_id).await?.ok_or_else(|| $crate::StoreError::NotFound {
                    what: format!("user {user_id}"),
                })
            }

            async fn get_user(
                &self,
                user_id: &str,
            ) -> $crate::StoreResult<Option<memvox_core::User>> {
                use sqlx::Row;
                let row = sqlx::query($sql($crate::sql::SELECT_USER))
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| {
                    let user_id: String = row.try_get("user_id")?;
                    let summary: Option<String> = row.try_get("summary")?;
                    let summary = summary
                        .map(|s| self.keyring.decrypt(&s, $crate::encryption::columns::USER_SUMMARY.at(&user_id)))
                        .transpose()?;
                    Ok(memvox_core::User {
                        user_id,
                        display_name: row.try_get("display_name")?,
                        summary,
                        total_memories: row.try_get("total_memories")?,
                        last_interaction: row.try_get("last_interaction")?,
                        created_at: row.try_get("created_at")?,
                    })
                })
                .transpose()
            }

            async fn user_version(
                &self,
                user_id: &str,
            ) -> $crate::StoreResult<Option<$crate::UserVersion>> {
                use sqlx::Row;
                let row = sqlx::query($sql($crate::sql::SELECT_USER_VERSION))
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| {
                    Ok($crate::UserVersion {
                        vectors: row.try_get("vectors_version")?,
                        answers: row.try_get("answers_version")?,
                    })
                })
                .transpose()
            }

            async fn update_user_profile(
                &self,
                user_id: &str,
                display_name: Option<&str>,
                summary: Option<&str>,
            ) -> $crate::StoreResult<()> {
                let summary = summary
                    .map(|s| self.keyring.encrypt(s, $crate::encryption::columns::USER_SUMMARY.at(user_id)))
                    .transpose()?;
                let updated = sqlx::query($sql($crate::sql::UPDATE_USER_PROFILE))
                    .bind(display_name)
                    .bind(summary)
                    .bind(user_id)
                    .execute(self.writer())
                    .await?;
                if updated.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound {
                        what: format!("user {user_id}"),
                    });
                }
                Ok(())
            }

            async fn touch_user(
                &self,
                user_id: &str,
                at: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                sqlx::query($sql($crate::sql::TOUCH_USER))
                    .bind(at)
                    .bind(user_id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn bind_caller(
                &self,
                phone_number: &str,
                user_id: &str,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<memvox_core::CallerIdentity> {
                use sqlx::Row;
                if phone_number.trim().is_empty() {
                    return Err($crate::StoreError::Invalid("phone number is empty".into()));
                }
                let mut tx = self.writer().begin().await?;
                Self::bind_caller_in(&mut *tx, &mut $crate::common::Written::default(), phone_number, user_id, now).await?;
                let row = sqlx::query($sql($crate::sql::SELECT_CALLER))
                    .bind(phone_number)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(memvox_core::CallerIdentity {
                    phone_number: row.try_get("phone_number")?,
                    user_id: row.try_get("user_id")?,
                    created_at: row.try_get("created_at")?,
                })
            }

            async fn user_for_caller(
                &self,
                phone_number: &str,
            ) -> $crate::StoreResult<Option<String>> {
                use sqlx::Row;
                let row = sqlx::query($sql($crate::sql::SELECT_CALLER))
                    .bind(phone_number)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.try_get("user_id")).transpose()?)
            }

            async fn erase_user(
                &self,
                user_id: &str,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<$crate::ErasureReceipt> {
                let mut tx = self.writer().begin().await?;
                let receipt =
                    Self::erase_user_in(&mut *tx, &self.keyring, self.tombstone_days, user_id, now)
                        .await?;
                tx.commit().await?;
                Ok(receipt)
            }

            async fn is_erased(
                &self,
                subjects: &[$crate::Erased<'_>],
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<bool> {
                let mut conn = self.pool.acquire().await?;
                Self::is_erased_in(&mut *conn, &self.keyring, subjects, i64::MIN, now).await
            }

            async fn record_event(
                &self,
                event: &$crate::NewEvent,
            ) -> $crate::StoreResult<$crate::RecordedEvent> {
                use sqlx::Row;
                let payload = self.keyring.encrypt(
                    &event.payload,
                    $crate::encryption::columns::EVENT_PAYLOAD.at(&event.conversation_id),
                )?;
                let tombstone = $crate::Erased::Conversation(&event.conversation_id);
                let inserted = sqlx::query($sql($crate::sql::INSERT_EVENT))
                    .bind(&event.event_type)
                    .bind(&event.conversation_id)
                    .bind(event.event_timestamp)
                    .bind(&payload)
                    .bind(event.received_at)
                    .bind(tombstone.digest(&self.keyring))
                    .fetch_optional(self.writer())
                    .await?;
                if let Some(row) = inserted {
                    return Ok($crate::RecordedEvent {
                        id: row.try_get("id")?,
                        inserted: true,
                    });
                }
                // Neither inserted nor there: the conversation's tombstone refused it.
                let row = sqlx::query($sql($crate::sql::SELECT_EVENT_ID))
                    .bind(&event.event_type)
                    .bind(&event.conversation_id)
                    .fetch_optional(self.writer())
                    .await?
                    .ok_or_else(|| $crate::StoreError::Erased {
                        what: "the event's conversation".to_owned(),
                    })?;
                Ok($crate::RecordedEvent {
                    id: row.try_get("id")?,
                    inserted: false,
                })
            }

            async fn get_event(
                &self,
                id: i64,
            ) -> $crate::StoreResult<Option<$crate::StoredEvent>> {
                let row = sqlx::query($sql($crate::sql::SELECT_EVENT))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(|r| $crate::common::event_from_row(&self.keyring, r)).transpose()
            }

            async fn mark_events_published(
                &self,
                ids: &[i64],
                at: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                for chunk in ids.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "UPDATE webhook_events SET published_at = $1 WHERE id IN ({})",
                        $crate::sql::placeholders(2, chunk.len())
                    );
                    let mut query = sqlx::query($sql(statement)).bind(at);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.execute(self.writer()).await?;
                }
                Ok(())
            }

            async fn finish_event(
                &self,
                id: i64,
                status: $crate::EventStatus,
                error: Option<&str>,
                at: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                let result = sqlx::query($sql($crate::sql::FINISH_EVENT))
                    .bind(status.as_str())
                    .bind(error)
                    .bind(at)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                if result.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound {
                        what: format!("event {id}"),
                    });
                }
                Ok(())
            }

            async fn stale_pending_events(
                &self,
                cutoff: memvox_core::UnixMillis,
                limit: usize,
            ) -> $crate::StoreResult<Vec<$crate::StoredEvent>> {
                let rows = sqlx::query($sql($crate::sql::SELECT_STALE_EVENTS))
                    .bind(cutoff)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|r| $crate::common::event_from_row(&self.keyring, r)).collect()
            }

            async fn reopen_event(&self, id: i64) -> $crate::StoreResult<()> {
                let result = sqlx::query($sql($crate::sql::REOPEN_EVENT))
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                if result.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound {
                        what: format!("event {id}"),
                    });
                }
                Ok(())
            }

            async fn user_call_times(
                &self,
                user_id: &str,
                limit: usize,
            ) -> $crate::StoreResult<Vec<memvox_core::UnixMillis>> {
                use sqlx::Row;
                let rows = sqlx::query($sql($crate::sql::SELECT_CALL_TIMES))
                    .bind(user_id)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| Ok(row.try_get("started_at")?))
                    .collect()
            }

            async fn record_call(
                &self,
                call: &$crate::CallRecord,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.writer().begin().await?;
                Self::record_call_in(&mut *tx, &self.keyring, &mut $crate::common::Written::default(), call, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn get_call(
                &self,
                conversation_id: &str,
            ) -> $crate::StoreResult<Option<$crate::CallRecord>> {
                use sqlx::Row;
                let Some(row) = sqlx::query($sql($crate::sql::SELECT_CONVERSATION))
                    .bind(conversation_id)
                    .fetch_optional(&self.pool)
                    .await?
                else {
                    return Ok(None);
                };
                let fk: i64 = row.try_get("id")?;
                let status: String = row.try_get("status")?;
                let conversation_id: String = row.try_get("conversation_id")?;
                let turn_context = $crate::encryption::columns::TURN_MESSAGE.at(&conversation_id);
                let summary_context = $crate::encryption::columns::ANALYSIS_SUMMARY.at(&conversation_id);
                let conversation = memvox_core::Conversation {
                    conversation_id: conversation_id.clone(),
                    agent_id: row.try_get("agent_id")?,
                    user_id: row.try_get("user_id")?,
                    started_at: row.try_get("started_at")?,
                    duration_secs: row.try_get("duration_secs")?,
                    status: status
                        .parse()
                        .map_err(|e: memvox_core::UnknownVariant| {
                            $crate::StoreError::Corrupt(e.to_string())
                        })?,
                    failure_reason: row.try_get("failure_reason")?,
                };
                let turn_rows = sqlx::query($sql($crate::sql::SELECT_TURNS))
                    .bind(fk)
                    .fetch_all(&self.pool)
                    .await?;
                let mut turns = Vec::with_capacity(turn_rows.len());
                for row in &turn_rows {
                    let role: String = row.try_get("role")?;
                    let index: i64 = row.try_get("turn_index")?;
                    let message: Option<String> = row.try_get("message")?;
                    turns.push(memvox_core::Turn {
                        index: u32::try_from(index).map_err(|_| {
                            $crate::StoreError::Corrupt(format!("turn index {index}"))
                        })?,
                        role: role.parse().map_err(|e: memvox_core::UnknownVariant| {
                            $crate::StoreError::Corrupt(e.to_string())
                        })?,
                        message: message
                            .map(|m| self.keyring.decrypt(&m, turn_context))
                            .transpose()?,
                        time_in_call_secs: row.try_get("time_in_call_secs")?,
                    });
                }
                let analysis = match sqlx::query($sql($crate::sql::SELECT_ANALYSIS))
                    .bind(fk)
                    .fetch_optional(&self.pool)
                    .await?
                {
                    Some(row) => {
                        let outcome: String = row.try_get("call_successful")?;
                        let summary: Option<String> = row.try_get("summary")?;
                        Some($crate::CallAnalysis {
                            summary: summary
                                .map(|s| self.keyring.decrypt(&s, summary_context))
                                .transpose()?,
                            outcome: memvox_core::CallOutcome::from_wire(&outcome),
                            evaluation: $crate::common::parse_json_text(
                                "evaluation_json",
                                $crate::common::decrypt_optional(
                                    &self.keyring,
                                    row.try_get("evaluation_json")?,
                                    $crate::encryption::columns::ANALYSIS_EVALUATION.at(&conversation_id),
                                )?,
                            )?,
                            data_collection: $crate::common::parse_json_text(
                                "data_collection",
                                $crate::common::decrypt_optional(
                                    &self.keyring,
                                    row.try_get("data_collection")?,
                                    $crate::encryption::columns::ANALYSIS_DATA_COLLECTION.at(&conversation_id),
                                )?,
                            )?,
                        })
                    }
                    None => None,
                };
                Ok(Some($crate::CallRecord {
                    conversation,
                    turns,
                    analysis,
                }))
            }

            async fn apply_extraction(
                &self,
                commit: &$crate::ExtractionCommit,
            ) -> $crate::StoreResult<$crate::ExtractionOutcome> {
                let mut outcomes = self.apply_extractions(&[commit]).await?;
                outcomes.pop().ok_or_else(|| {
                    $crate::StoreError::Corrupt("a group commit of one event returned nothing".into())
                })
            }

            async fn apply_extractions(
                &self,
                commits: &[&$crate::ExtractionCommit],
            ) -> $crate::StoreResult<Vec<$crate::ExtractionOutcome>> {
                let mut tx = self.writer().begin().await?;
                let mut written = $crate::common::Written::default();
                let mut outcomes = Vec::with_capacity(commits.len());
                for commit in commits {
                    outcomes.push(
                        Self::apply_extraction_in(&mut *tx, &self.keyring, self.tombstone_days, &self.lexical, &mut written, commit)
                            .await?,
                    );
                }
                Self::flush_written_in(&mut *tx, &mut written).await?;
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn memory_history(
                &self,
                user_id: &str,
                id: memvox_core::MemoryId,
            ) -> $crate::StoreResult<Vec<(String, memvox_core::UnixMillis)>> {
                use sqlx::Row;
                let rows = sqlx::query($sql($crate::sql::SELECT_HISTORY))
                    .bind(id)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                let context = $crate::encryption::columns::HISTORY_CONTENT.at(user_id);
                rows.iter()
                    .map(|row| {
                        let stored: String = row.try_get("content")?;
                        Ok((self.keyring.decrypt(&stored, context)?, row.try_get("changed_at")?))
                    })
                    .collect()
            }

            async fn insert_memory(
                &self,
                memory: &memvox_core::NewMemory,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<memvox_core::Memory> {
                let mut tx = self.writer().begin().await?;
                let mut written = $crate::common::Written::default();
                let stored = Self::insert_memory_in(&mut *tx, &self.keyring, &self.lexical, &mut written, memory, $crate::common::Times::now(now), "manual").await?;
                Self::flush_written_in(&mut *tx, &mut written).await?;
                tx.commit().await?;
                Ok(stored)
            }

            async fn get_memory(
                &self,
                user_id: &str,
                id: memvox_core::MemoryId,
            ) -> $crate::StoreResult<Option<memvox_core::Memory>> {
                let row = sqlx::query($sql($crate::sql::SELECT_MEMORY))
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(|r| $crate::common::memory_from_row(&self.keyring, r)).transpose()
            }

            async fn get_memories(
                &self,
                user_id: &str,
                ids: &[memvox_core::MemoryId],
            ) -> $crate::StoreResult<Vec<memvox_core::Memory>> {
                let mut memories = Vec::with_capacity(ids.len());
                for chunk in ids.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "SELECT {} FROM memories m WHERE m.user_id = $1 AND m.id IN ({})",
                        $crate::sql::memory_columns!(),
                        $crate::sql::placeholders(2, chunk.len())
                    );
                    let mut fetch = sqlx::query($sql(statement)).bind(user_id);
                    for id in chunk {
                        fetch = fetch.bind(*id);
                    }
                    for row in fetch.fetch_all(&self.pool).await? {
                        memories.push($crate::common::memory_from_row(&self.keyring, &row)?);
                    }
                }
                Ok(memories)
            }

            async fn find_exact_duplicates(
                &self,
                user_id: &str,
                content: &str,
            ) -> $crate::StoreResult<Vec<memvox_core::Memory>> {
                let mut found = self.find_exact_duplicates_of(user_id, &[content]).await?;
                Ok(found.pop().unwrap_or_default())
            }

            async fn find_exact_duplicates_of(
                &self,
                user_id: &str,
                contents: &[&str],
            ) -> $crate::StoreResult<Vec<Vec<memvox_core::Memory>>> {
                use sqlx::Row;
                let fingerprints: Vec<String> =
                    contents.iter().map(|c| self.keyring.fingerprint(c)).collect();
                let mut found: Vec<Vec<memvox_core::Memory>> = vec![Vec::new(); contents.len()];
                for chunk in fingerprints.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "SELECT {}, m.content_fingerprint AS fingerprint FROM memories m \
                         WHERE m.user_id = $1 AND m.kind = 'fact' AND m.content_fingerprint IN ({}) \
                         ORDER BY m.id",
                        $crate::sql::memory_columns!(),
                        $crate::sql::placeholders(2, chunk.len())
                    );
                    let mut fetch = sqlx::query($sql(statement)).bind(user_id);
                    for fingerprint in chunk {
                        fetch = fetch.bind(fingerprint);
                    }
                    for row in fetch.fetch_all(&self.pool).await? {
                        let fingerprint: String = row.try_get("fingerprint")?;
                        let memory = $crate::common::memory_from_row(&self.keyring, &row)?;
                        for (slot, wanted) in found.iter_mut().zip(&fingerprints) {
                            if *wanted == fingerprint {
                                slot.push(memory.clone());
                            }
                        }
                    }
                }
                Ok(found)
            }

            async fn list_memories(
                &self,
                user_id: &str,
                filter: &$crate::MemoryFilter,
                order: $crate::MemoryOrder,
                limit: usize,
            ) -> $crate::StoreResult<Vec<memvox_core::Memory>> {
                let mut next = 2;
                let (conditions, binds) = $crate::sql::filter_conditions(filter, &mut next);
                let order_by = match order {
                    $crate::MemoryOrder::Newest => "m.created_at DESC, m.id DESC",
                    $crate::MemoryOrder::Salience => {
                        "m.salience DESC, m.last_seen_at DESC, m.id DESC"
                    }
                };
                let statement = format!(
                    "SELECT {} FROM memories m WHERE m.user_id = $1{conditions} \
                     ORDER BY {order_by} LIMIT ${next}",
                    $crate::sql::memory_columns!()
                );
                let mut query = sqlx::query($sql(statement)).bind(user_id);
                for bind in binds {
                    query = match bind {
                        $crate::sql::Bind::Text(text) => query.bind(text),
                        $crate::sql::Bind::Int(int) => query.bind(int),
                    };
                }
                let rows = query
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|r| $crate::common::memory_from_row(&self.keyring, r)).collect()
            }

            async fn edit_memory(
                &self,
                user_id: &str,
                id: memvox_core::MemoryId,
                edit: &$crate::MemoryEdit,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<memvox_core::Memory> {
                let current = self.get_memory(user_id, id).await?.ok_or_else(|| {
                    $crate::StoreError::NotFound {
                        what: format!("memory {id}"),
                    }
                })?;
                let content = edit.content.clone().unwrap_or_else(|| current.content.clone());
                if content.trim().is_empty() {
                    return Err($crate::StoreError::Invalid("memory content is empty".into()));
                }
                let sector = edit.sector.unwrap_or(current.sector);
                let decay = if edit.sector.is_some() {
                    sector.default_decay_per_day()
                } else {
                    current.decay_per_day
                };
                let mut tx = self.writer().begin().await?;
                if content != current.content {
                    sqlx::query($sql($crate::sql::INSERT_HISTORY))
                        .bind("edit")
                        .bind(Option::<String>::None)
                        .bind(now)
                        .bind(id)
                        .bind(self.keyring.encrypt(
                            &current.content,
                            $crate::encryption::columns::HISTORY_CONTENT.at(user_id),
                        )?)
                        .execute(&mut *tx)
                        .await?;
                }
                let sealed = self
                    .keyring
                    .encrypt(&content, $crate::encryption::columns::MEMORY_CONTENT.at(user_id))?;
                let row = sqlx::query($sql($crate::sql::UPDATE_MEMORY))
                    .bind(&sealed)
                    .bind(self.keyring.fingerprint(&content))
                    .bind(sector.as_str())
                    .bind(edit.salience.unwrap_or(current.salience).clamp(0.0, 1.0))
                    .bind(decay)
                    .bind(edit.state.unwrap_or(current.state).as_str())
                    .bind(now)
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound {
                        what: format!("memory {id}"),
                    })?;
                Self::index_terms_in(&mut *tx, &self.lexical, id, user_id, &content).await?;
                tx.commit().await?;
                $crate::common::memory_from_row(&self.keyring, &row)
            }

            async fn supersede_memory(
                &self,
                user_id: &str,
                old: memvox_core::MemoryId,
                new: memvox_core::MemoryId,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                if old == new {
                    return Err($crate::StoreError::Invalid(
                        "a memory cannot supersede itself".into(),
                    ));
                }
                let result = sqlx::query($sql($crate::sql::SUPERSEDE_MEMORY))
                    .bind(new)
                    .bind(now)
                    .bind(old)
                    .bind(user_id)
                    .execute(self.writer())
                    .await?;
                if result.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound {
                        what: format!("memory {old} or {new} of user {user_id}"),
                    });
                }
                Ok(())
            }

            async fn reinforce_memories(
                &self,
                user_id: &str,
                ids: &[memvox_core::MemoryId],
                bump: f64,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<u64> {
                let mut tx = self.writer().begin().await?;
                let mut touched = 0;
                for id in ids {
                    touched += sqlx::query($sql($crate::sql::REINFORCE_MEMORY))
                        .bind(bump)
                        .bind(now)
                        .bind(*id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                Ok(touched)
            }

            async fn delete_memory(
                &self,
                user_id: &str,
                id: memvox_core::MemoryId,
            ) -> $crate::StoreResult<bool> {
                let result = sqlx::query($sql($crate::sql::DELETE_MEMORY))
                    .bind(id)
                    .bind(user_id)
                    .execute(self.writer())
                    .await?;
                Ok(result.rows_affected() > 0)
            }

            async fn store_embeddings(
                &self,
                vectors: &[(memvox_core::MemoryId, Vec<f32>)],
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                for (_, vector) in vectors {
                    self.space.check_dimension(vector.len())?;
                }
                self.backend_store_embeddings(vectors, now).await
            }

            async fn search_memories(
                &self,
                user_id: &str,
                query: &[f32],
                filter: &$crate::MemoryFilter,
                limit: usize,
            ) -> $crate::StoreResult<Vec<$crate::SearchHit>> {
                self.space.check_dimension(query.len())?;
                if limit == 0 {
                    return Ok(Vec::new());
                }
                self.indexed_search(user_id, query, filter, limit).await
            }

            async fn search_lexical(
                &self,
                user_id: &str,
                query: &str,
                query_vector: &[f32],
                filter: &$crate::MemoryFilter,
                limit: usize,
                min_memories: usize,
            ) -> $crate::StoreResult<$crate::LexicalSearch> {
                self.space.check_dimension(query_vector.len())?;
                let tokens = self.lexical.query_tokens(user_id, query);
                if tokens.is_empty() || limit == 0 {
                    return Ok($crate::LexicalSearch::default());
                }
                let index = self.user_index(user_id).await?;
                if index.1.memories.len() < min_memories {
                    return Ok($crate::LexicalSearch {
                        memories: index.1.memories.len(),
                        ..$crate::LexicalSearch::default()
                    });
                }
                let (memories, document_frequency) = self.token_frequencies(&index.1, user_id, &tokens).await?;
                let selective = $crate::lexical::searched_tokens(&tokens, &document_frequency);
                if selective.is_empty() {
                    return Ok($crate::LexicalSearch {
                        memories,
                        document_frequency,
                        hits: Vec::new(),
                    });
                }
                let rows = self
                    .backend_search_tokens(user_id, &selective, filter, limit)
                    .await?;
                let hits = rows
                    .into_iter()
                    .map(|(memory, terms)| $crate::LexicalHit {
                        similarity: index
                            .1
                            .similarity(query_vector, memory.id)
                            .map_or(0.0, f64::from),
                        matched: $crate::lexical::matched_tokens(&tokens, &terms),
                        memory,
                    })
                    .collect();
                Ok($crate::LexicalSearch {
                    memories,
                    document_frequency,
                    hits,
                })
            }

            async fn similar_memories(
                &self,
                user_id: &str,
                ids: &[memvox_core::MemoryId],
                filter: &$crate::MemoryFilter,
                threshold: f64,
                limit: usize,
            ) -> $crate::StoreResult<Vec<$crate::Neighbour>> {
                let mut position = std::collections::HashMap::with_capacity(ids.len());
                let mut unique = Vec::with_capacity(ids.len());
                for id in ids {
                    if !position.contains_key(id) {
                        position.insert(*id, unique.len());
                        unique.push(*id);
                    }
                }
                if unique.is_empty() || limit == 0 {
                    return Ok(Vec::new());
                }
                let mut found = self
                    .backend_similar_memories(user_id, &unique, filter, threshold, limit)
                    .await?;
                found.sort_by(|a, b| {
                    position.get(&a.memory)
                        .cmp(&position.get(&b.memory))
                        .then(b.similarity.total_cmp(&a.similarity))
                        .then(a.neighbour.cmp(&b.neighbour))
                });
                Ok(found)
            }

            async fn upsert_links(
                &self,
                links: &[memvox_core::MemoryLink],
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                for link in links {
                    if link.source == link.target {
                        return Err($crate::StoreError::Invalid(format!(
                            "memory {} cannot link to itself",
                            link.source
                        )));
                    }
                }
                let mut tx = self.writer().begin().await?;
                for chunk in links.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "INSERT INTO memory_links (source_memory_id, target_memory_id, weight, \
                         kind, created_at, updated_at) VALUES {}{}",
                        $crate::sql::values_rows(chunk.len(), 6),
                        $crate::sql::UPSERT_LINK_ON_CONFLICT
                    );
                    let mut query = sqlx::query($sql(statement));
                    for link in chunk {
                        query = query
                            .bind(link.source)
                            .bind(link.target)
                            .bind(link.weight.clamp(0.0, 1.0))
                            .bind(link.kind.as_str())
                            .bind(now)
                            .bind(now);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn links_from(
                &self,
                ids: &[memvox_core::MemoryId],
            ) -> $crate::StoreResult<Vec<memvox_core::MemoryLink>> {
                use sqlx::Row;
                let mut links = Vec::new();
                for chunk in ids.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "SELECT source_memory_id, target_memory_id, weight, kind FROM memory_links \
                         WHERE source_memory_id IN ({}) ORDER BY source_memory_id, weight DESC",
                        $crate::sql::placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query($sql(statement));
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    for row in query.fetch_all(&self.pool).await? {
                        let kind: String = row.try_get("kind")?;
                        links.push(memvox_core::MemoryLink {
                            source: row.try_get("source_memory_id")?,
                            target: row.try_get("target_memory_id")?,
                            weight: row.try_get("weight")?,
                            kind: kind.parse().map_err(|e: memvox_core::UnknownVariant| {
                                $crate::StoreError::Corrupt(e.to_string())
                            })?,
                        });
                    }
                }
                Ok(links)
            }

            async fn encryption_status(
                &self,
            ) -> $crate::StoreResult<Vec<$crate::ColumnStatus>> {
                let mut status = Vec::with_capacity($crate::encryption::WALKS.len());
                for walk in &$crate::encryption::WALKS {
                    let mut by_key = std::collections::BTreeMap::new();
                    let mut after = None;
                    loop {
                        let (page, next) =
                            self.encryption_page(walk, after.as_ref(), $crate::common::STATUS_PAGE).await?;
                        for (_, _, value) in &page {
                            *by_key
                                .entry(memvox_crypto::key_id_of(value).map(str::to_owned))
                                .or_insert(0) += 1;
                        }
                        match next {
                            Some(cursor) => after = Some(cursor),
                            None => break,
                        }
                    }
                    status.push($crate::ColumnStatus {
                        column: walk.column.name,
                        by_key,
                    });
                }
                Ok(status)
            }

            async fn reencrypt_batch(
                &self,
                column: &str,
                after: Option<&$crate::Cursor>,
                limit: usize,
            ) -> $crate::StoreResult<$crate::ReencryptBatch> {
                let walk = $crate::encryption::walk(column)?;
                if !self.keyring.is_enabled() {
                    return Err($crate::StoreError::Invalid(
                        "encryption is off: there is nothing to re-encrypt with".into(),
                    ));
                }
                let (page, next) = self.encryption_page(walk, after, limit.max(1)).await?;
                let mut tx = self.pool.begin().await?;
                let (mut rewritten, mut raced) = (0, 0);
                for (key, owner, stored) in &page {
                    if !self.keyring.needs_reencryption(stored) {
                        continue;
                    }
                    let context = walk.column.at(owner);
                    let plain = self.keyring.decrypt(stored, context)?;
                    let sealed = self.keyring.encrypt(&plain, context)?;
                    let query = sqlx::query($sql(walk.swap)).bind(sealed);
                    let query = match key {
                        $crate::Cursor::Int(id) => query.bind(*id),
                        $crate::Cursor::Text(id) => query.bind(id.clone()),
                    };
                    let mut query = query.bind(stored.clone());
                    if walk.column == $crate::encryption::columns::MEMORY_CONTENT {
                        query = query.bind(self.keyring.fingerprint(&plain));
                    }
                    if query.execute(&mut *tx).await?.rows_affected() == 1 {
                        rewritten += 1;
                    } else {
                        raced += 1;
                    }
                }
                tx.commit().await?;
                Ok($crate::ReencryptBatch {
                    next,
                    rewritten,
                    raced,
                })
            }

            async fn retire_inactive_keys(&self) -> $crate::StoreResult<()> {
                let Some(active) = self.keyring.active_key_id() else {
                    return Ok(());
                };
                let rows = $crate::encryption::key_rows(
                    &self.keyring,
                    &[active],
                    self.keyring.index_check().unwrap_or_default(),
                )?;
                self.upsert_meta(rows).await
            }

            async fn purge_expired(
                &self,
                cutoffs: &$crate::RetentionCutoffs,
                limit: usize,
            ) -> $crate::StoreResult<$crate::RetentionReport> {
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let mut report = $crate::RetentionReport::default();
                let steps = [
                    (cutoffs.payloads_before, $crate::retention::PURGE_PAYLOADS, &mut report.payloads),
                    (cutoffs.turns_before, $crate::retention::PURGE_TURNS, &mut report.turns),
                ];
                for (cutoff, statement, deleted) in steps {
                    if let Some(cutoff) = cutoff {
                        *deleted = sqlx::query($sql(statement))
                            .bind(cutoff)
                            .bind(limit)
                            .execute(self.writer())
                            .await?
                            .rows_affected();
                    }
                }
                Ok(report)
            }

            async fn log_tool_invocations(
                &self,
                calls: &[$crate::ToolInvocation],
            ) -> $crate::StoreResult<()> {
                let mut tx = self.writer().begin().await?;
                let calls = Self::unerased_invocations_in(&mut *tx, &self.keyring, calls).await?;
                for chunk in calls.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "INSERT INTO tool_invocations (tool_name, conversation_id, user_id, \
                         request_params, response_data, latency_ms, success, error_message, \
                         created_at) VALUES {}",
                        $crate::sql::values_rows(chunk.len(), 9)
                    );
                    let mut query = sqlx::query($sql(statement));
                    for call in chunk {
                        let owner = $crate::encryption::tool_owner(call);
                        query = query
                            .bind(&call.tool_name)
                            .bind(&call.conversation_id)
                            .bind(&call.user_id)
                            .bind(self.keyring.encrypt(
                                &call.request_params.to_string(),
                                $crate::encryption::columns::TOOL_REQUEST.at(owner),
                            )?)
                            .bind($crate::common::encrypt_optional(
                                &self.keyring,
                                $crate::common::json_text(call.response_data.as_ref()),
                                $crate::encryption::columns::TOOL_RESPONSE.at(owner),
                            )?)
                            .bind(call.latency_ms)
                            .bind(call.success)
                            .bind(&call.error_message)
                            .bind(call.created_at);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }

        impl $ty {
            /// The `limit` memories most similar to `query` through the user's vector index,
            /// (re)loaded when the user's vectors version moved; hits are re-read from the
            /// database and re-checked against the filter.
            async fn indexed_search(
                &self,
                user_id: &str,
                query: &[f32],
                filter: &$crate::MemoryFilter,
                limit: usize,
            ) -> $crate::StoreResult<Vec<$crate::SearchHit>> {
                let entry = self.user_index(user_id).await?;
                let top = entry.1.top(query, filter, limit);
                if top.is_empty() {
                    return Ok(Vec::new());
                }
                let ids: Vec<memvox_core::MemoryId> = top.iter().map(|(_, id)| *id).collect();
                let mut memories: std::collections::HashMap<_, _> =
                    <Self as $crate::Store>::get_memories(self, user_id, &ids)
                    .await?
                    .into_iter()
                    .map(|memory| (memory.id, memory))
                    .collect();
                Ok(top
                    .into_iter()
                    .filter_map(|(similarity, id)| {
                        let memory = memories.remove(&id)?;
                        filter.matches(&memory).then(|| $crate::SearchHit {
                            memory,
                            similarity: f64::from(similarity),
                        })
                    })
                    .collect())
            }

            /// The user's vector index at their current vectors version: the cached one if it was
            /// loaded at that version, else loaded now (after reading the version).
            async fn user_index(
                &self,
                user_id: &str,
            ) -> $crate::StoreResult<std::sync::Arc<(i64, $crate::vector_index::UserVectors)>> {
                use sqlx::Row;
                let version: Option<i64> = sqlx::query($sql($crate::sql::SELECT_VECTORS_VERSION))
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|row| row.try_get("vectors_version"))
                    .transpose()?;
                let Some(version) = version else {
                    // Not a user yet: no memories, so nothing to load.
                    return Ok(std::sync::Arc::new((0, $crate::vector_index::UserVectors::default())));
                };
                if let Some(entry) = self.index.get(user_id, version).await {
                    return Ok(entry);
                }
                let loaded = self.load_user_vectors(user_id).await?;
                Ok(self.index.insert(user_id, version, loaded).await)
            }

            /// Reads a user's vectors and filter attributes into an index.
            async fn load_user_vectors(
                &self,
                user_id: &str,
            ) -> $crate::StoreResult<$crate::vector_index::UserVectors> {
                use sqlx::Row;
                let corrupt =
                    |e: memvox_core::UnknownVariant| $crate::StoreError::Corrupt(e.to_string());
                let rows = sqlx::query($sql($crate::sql::SELECT_USER_VECTORS))
                    .bind(user_id)
                    .bind(&self.space.model)
                    .fetch_all(&self.pool)
                    .await?;
                let mut vectors = $crate::vector_index::UserVectors {
                    memories: Vec::with_capacity(rows.len()),
                    matrix: Vec::with_capacity(rows.len() * self.space.dimension),
                    ..$crate::vector_index::UserVectors::default()
                };
                for row in &rows {
                    self.push_row_vector(row, &mut vectors.matrix)?;
                    let superseded: Option<i64> = row.try_get("superseded_by")?;
                    let sector: String = row.try_get("sector")?;
                    let state: String = row.try_get("state")?;
                    let kind: String = row.try_get("kind")?;
                    vectors.memories.push($crate::vector_index::IndexedMemory {
                        id: row.try_get("id")?,
                        kind: kind.parse().map_err(corrupt)?,
                        sector: sector.parse().map_err(corrupt)?,
                        state: state.parse().map_err(corrupt)?,
                        superseded: superseded.is_some(),
                        created_at: row.try_get("created_at")?,
                    });
                }
                Ok(vectors)
            }


            /// Applies one event's extraction inside an open transaction (see
            /// `Store::apply_extraction`).
            async fn apply_extraction_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lifetime_days: Option<u64>,
                lexical: &$crate::LexicalKey,
                written: &mut $crate::common::Written,
                commit: &$crate::ExtractionCommit,
            ) -> $crate::StoreResult<$crate::ExtractionOutcome> {
                use sqlx::Row;
                let now = commit.now;
                let claimed = sqlx::query($sql($crate::sql::CLAIM_EVENT))
                    .bind(now)
                    .bind(commit.event_id)
                    .execute(&mut *conn)
                    .await?;
                if claimed.rows_affected() == 0 {
                    let row = sqlx::query($sql($crate::sql::SELECT_EVENT_RESULT))
                        .bind(commit.event_id)
                        .fetch_optional(&mut *conn)
                        .await?
                        .ok_or_else(|| $crate::StoreError::Erased {
                            what: format!("event {}", commit.event_id),
                        })?;
                    let status: String = row.try_get("status")?;
                    if status != "completed" {
                        return Err($crate::StoreError::Conflict(format!(
                            "event {} is {status}, not pending",
                            commit.event_id
                        )));
                    }
                    let memory_ids =
                        $crate::common::parse_result_ids(row.try_get("result_memory_ids")?)?;
                    return Ok($crate::ExtractionOutcome {
                        memory_ids,
                        already_applied: true,
                        erased: false,
                    });
                }
                if Self::commit_erased_in(&mut *conn, keyring, lifetime_days, commit).await? {
                    return Ok($crate::ExtractionOutcome {
                        memory_ids: Vec::new(),
                        already_applied: false,
                        erased: true,
                    });
                }
                if let Some(call) = &commit.call {
                    Self::record_call_in(&mut *conn, keyring, written, call, now).await?;
                }
                if let Some((phone, user_id)) = &commit.bind_caller {
                    Self::bind_caller_in(&mut *conn, written, phone, user_id, now).await?;
                }
                let at = $crate::common::Times {
                    said: commit.call.as_ref().map_or(now, |c| c.conversation.started_at),
                    now,
                };
                let mut memory_ids = Vec::with_capacity(commit.memories.len() + commit.episodes.len());
                for plan in &commit.memories {
                    if let Some(id) = Self::apply_plan_in(&mut *conn, keyring, lexical, written, plan, at).await? {
                        memory_ids.push(id);
                    }
                }
                if let Some(call) = &commit.call
                    && let Some(user_id) = &call.conversation.user_id
                {
                    let episodes = Self::write_episodes_in(
                        &mut *conn, keyring, lexical, written, user_id,
                        &call.conversation.conversation_id, &commit.episodes, now,
                    ).await?;
                    memory_ids.extend(episodes);
                }
                if let Some(user_id) = commit.call.as_ref().and_then(|c| c.conversation.user_id.as_ref()) {
                    sqlx::query($sql($crate::sql::TOUCH_USER))
                        .bind(now)
                        .bind(user_id)
                        .execute(&mut *conn)
                        .await?;
                }
                sqlx::query($sql($crate::sql::SAVE_EVENT_RESULT))
                    .bind(serde_json::json!(memory_ids).to_string())
                    .bind(commit.event_id)
                    .execute(&mut *conn)
                    .await?;
                Ok($crate::ExtractionOutcome {
                    memory_ids,
                    already_applied: false,
                    erased: false,
                })
            }

            /// Applies one planned memory change inside the extraction transaction; returns the
            /// memory it produced or touched (`None` when its target no longer exists).
            async fn apply_plan_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lexical: &$crate::LexicalKey,
                written: &mut $crate::common::Written,
                plan: &$crate::PlannedMemory,
                at: $crate::common::Times,
            ) -> $crate::StoreResult<Option<memvox_core::MemoryId>> {
                match plan {
                    $crate::PlannedMemory::Add(memory) => {
                        Ok(Some(Self::insert_memory_in(&mut *conn, keyring, lexical, written, memory, at, "auto").await?.id))
                    }
                    $crate::PlannedMemory::Update { target, memory } => {
                        let current = sqlx::query($sql($crate::sql::SELECT_MEMORY))
                            .bind(*target)
                            .bind(&memory.user_id)
                            .fetch_optional(&mut *conn)
                            .await?;
                        let Some(current) = current.as_ref().map(|r| $crate::common::memory_from_row(keyring, r)).transpose()? else {
                            return Ok(Some(Self::insert_memory_in(&mut *conn, keyring, lexical, written, memory, at, "auto").await?.id));
                        };
                        let conversation_id = memory.provenance.as_ref().map(|p| p.conversation_id.clone());
                        if current.content != memory.content {
                            sqlx::query($sql($crate::sql::INSERT_HISTORY))
                                .bind("update")
                                .bind(&conversation_id)
                                .bind(at.said)
                                .bind(current.id)
                                .bind(keyring.encrypt(
                                    &current.content,
                                    $crate::encryption::columns::HISTORY_CONTENT.at(&memory.user_id),
                                )?)
                                .execute(&mut *conn)
                                .await?;
                        }
                        sqlx::query($sql($crate::sql::MERGE_MEMORY))
                            .bind(keyring.encrypt(
                                &memory.content,
                                $crate::encryption::columns::MEMORY_CONTENT.at(&memory.user_id),
                            )?)
                            .bind(keyring.fingerprint(&memory.content))
                            .bind($crate::common::UPDATE_SALIENCE_BUMP)
                            .bind(memory.salience.clamp(0.0, 1.0))
                            .bind(at.said)
                            .bind(current.id)
                            .bind(&memory.user_id)
                            .bind(at.now)
                            .execute(&mut *conn)
                            .await?;
                        written.index_terms(current.id, &memory.user_id, lexical.memory_terms(&memory.user_id, &memory.content));
                        Self::cite_in(&mut *conn, written, current.id, "reinforced", memory.provenance.as_ref(), at.said).await?;
                        Ok(Some(current.id))
                    }
                    $crate::PlannedMemory::Supersede { target, replacement } => {
                        let new = Self::insert_memory_in(&mut *conn, keyring, lexical, written, replacement, at, "auto").await?;
                        sqlx::query($sql($crate::sql::SUPERSEDE_MEMORY))
                            .bind(new.id)
                            .bind(at.said)
                            .bind(*target)
                            .bind(&replacement.user_id)
                            .execute(&mut *conn)
                            .await?;
                        Ok(Some(new.id))
                    }
                    $crate::PlannedMemory::Reinforce { user_id, target, provenance } => {
                        let touched = sqlx::query($sql($crate::sql::REINFORCE_MEMORY))
                            .bind($crate::common::REINFORCE_SALIENCE_BUMP)
                            .bind(at.said)
                            .bind(*target)
                            .bind(user_id)
                            .execute(&mut *conn)
                            .await?;
                        if touched.rows_affected() == 0 {
                            return Ok(None);
                        }
                        Self::cite_in(&mut *conn, written, *target, "reinforced", provenance.as_ref(), at.said).await?;
                        Ok(Some(*target))
                    }
                }
            }

            /// Links a memory to the conversation that (re)stated it, when that is recorded.
            async fn cite_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                written: &mut $crate::common::Written,
                memory_id: memvox_core::MemoryId,
                extraction_type: &str,
                provenance: Option<&memvox_core::Provenance>,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                let Some(provenance) = provenance else {
                    return Ok(());
                };
                if let Some(fk) = Self::conversation_fk_in(&mut *conn, written, &provenance.conversation_id).await? {
                    written.cite($crate::common::Citation::new(fk, memory_id, extraction_type, provenance, now));
                }
                Ok(())
            }

            /// Creates the user if needed and binds the number to it, unless the number is bound
            /// already (the first binding wins), inside an open transaction.
            async fn bind_caller_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                written: &mut $crate::common::Written,
                phone_number: &str,
                user_id: &str,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                Self::ensure_user_in(&mut *conn, written, user_id, now).await?;
                sqlx::query($sql($crate::sql::INSERT_CALLER))
                    .bind(phone_number)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// Records a call inside an open transaction.
            async fn record_call_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                written: &mut $crate::common::Written,
                call: &$crate::CallRecord,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                use sqlx::Row;
                let conversation = &call.conversation;
                if let Some(user_id) = &conversation.user_id {
                    Self::ensure_user_in(&mut *conn, written, user_id, now).await?;
                }
                let row = sqlx::query($sql($crate::sql::UPSERT_CONVERSATION))
                    .bind(&conversation.conversation_id)
                    .bind(&conversation.agent_id)
                    .bind(&conversation.user_id)
                    .bind(conversation.started_at)
                    .bind(conversation.duration_secs)
                    .bind(conversation.status.as_str())
                    .bind(&conversation.failure_reason)
                    .bind(now)
                    .fetch_one(&mut *conn)
                    .await?;
                let fk: i64 = row.try_get("id")?;
                written.remember_conversation(&conversation.conversation_id, fk);
                let turn_context =
                    $crate::encryption::columns::TURN_MESSAGE.at(&conversation.conversation_id);
                sqlx::query($sql($crate::sql::DELETE_TURNS))
                    .bind(fk)
                    .execute(&mut *conn)
                    .await?;
                for chunk in call.turns.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "INSERT INTO conversation_turns \
                         (conversation_fk, turn_index, role, message, time_in_call_secs) VALUES {}",
                        $crate::sql::values_rows(chunk.len(), 5)
                    );
                    let mut query = sqlx::query($sql(statement));
                    for turn in chunk {
                        let message = turn
                            .message
                            .as_deref()
                            .map(|m| keyring.encrypt(m, turn_context))
                            .transpose()?;
                        query = query
                            .bind(fk)
                            .bind(i64::from(turn.index))
                            .bind(turn.role.as_str())
                            .bind(message)
                            .bind(turn.time_in_call_secs);
                    }
                    query.execute(&mut *conn).await?;
                }
                if let Some(analysis) = &call.analysis {
                    let summary = analysis
                        .summary
                        .as_deref()
                        .map(|s| {
                            keyring.encrypt(
                                s,
                                $crate::encryption::columns::ANALYSIS_SUMMARY
                                    .at(&conversation.conversation_id),
                            )
                        })
                        .transpose()?;
                    sqlx::query($sql($crate::sql::UPSERT_ANALYSIS))
                        .bind(fk)
                        .bind(summary)
                        .bind(analysis.outcome.as_str())
                        .bind($crate::common::encrypt_optional(
                            keyring,
                            $crate::common::json_text(analysis.evaluation.as_ref()),
                            $crate::encryption::columns::ANALYSIS_EVALUATION
                                .at(&conversation.conversation_id),
                        )?)
                        .bind($crate::common::encrypt_optional(
                            keyring,
                            $crate::common::json_text(analysis.data_collection.as_ref()),
                            $crate::encryption::columns::ANALYSIS_DATA_COLLECTION
                                .at(&conversation.conversation_id),
                        )?)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Inserts a memory inside an open transaction; `extraction_type` labels its link
            /// to the conversation it came from (`auto` or `manual`).
            async fn insert_memory_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lexical: &$crate::LexicalKey,
                written: &mut $crate::common::Written,
                memory: &memvox_core::NewMemory,
                at: $crate::common::Times,
                extraction_type: &str,
            ) -> $crate::StoreResult<memvox_core::Memory> {
                if memory.content.trim().is_empty() {
                    return Err($crate::StoreError::Invalid("memory content is empty".into()));
                }
                Self::ensure_user_in(&mut *conn, written, &memory.user_id, at.said).await?;
                let conversation_fk = match &memory.provenance {
                    Some(provenance) => Some(
                        Self::conversation_fk_in(&mut *conn, written, &provenance.conversation_id)
                            .await?
                            .ok_or_else(|| {
                                $crate::StoreError::Invalid(format!(
                                    "memory cites conversation {} which is not recorded",
                                    provenance.conversation_id
                                ))
                            })?,
                    ),
                    None => None,
                };
                let turns_json = memory
                    .provenance
                    .as_ref()
                    .map(|p| serde_json::json!(p.turn_indexes).to_string());
                let sealed = keyring.encrypt(
                    &memory.content,
                    $crate::encryption::columns::MEMORY_CONTENT.at(&memory.user_id),
                )?;
                let row = sqlx::query($sql($crate::sql::INSERT_MEMORY))
                    .bind(&memory.user_id)
                    .bind(&sealed)
                    .bind(keyring.fingerprint(&memory.content))
                    .bind(memory.sector.as_str())
                    .bind(memory.salience.clamp(0.0, 1.0))
                    .bind(memory.sector.default_decay_per_day())
                    .bind(at.said)
                    .bind(memory.provenance.as_ref().map(|p| p.conversation_id.clone()))
                    .bind(&turns_json)
                    .bind(at.now)
                    .fetch_one(&mut *conn)
                    .await?;
                let stored = $crate::common::memory_from_row(keyring, &row)?;
                written.index_terms(stored.id, &memory.user_id, lexical.memory_terms(&memory.user_id, &memory.content));
                if let (Some(fk), Some(provenance)) = (conversation_fk, &memory.provenance) {
                    written.cite($crate::common::Citation::new(fk, stored.id, extraction_type, provenance, at.said));
                }
                Ok(stored)
            }

            /// Stores a call's episodes for `user_id` inside an open transaction, replacing any an
            /// earlier recording of the conversation wrote, with one multi-row insert per chunk;
            /// returns their ids in `episodes` order. Each gets lexical tokens like a memory.
            #[allow(clippy::too_many_arguments)]
            async fn write_episodes_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lexical: &$crate::LexicalKey,
                written: &mut $crate::common::Written,
                user_id: &str,
                conversation_id: &str,
                episodes: &[memvox_core::NewEpisode],
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<Vec<memvox_core::MemoryId>> {
                use sqlx::Row;
                sqlx::query($sql($crate::sql::DELETE_CONVERSATION_EPISODES))
                    .bind(user_id)
                    .bind(conversation_id)
                    .execute(&mut *conn)
                    .await?;
                let sector = memvox_core::Sector::Episodic;
                let context = $crate::encryption::columns::MEMORY_CONTENT.at(user_id);
                let mut ids = Vec::with_capacity(episodes.len());
                for chunk in episodes.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "INSERT INTO memories (user_id, content, content_fingerprint, kind, sector, \
                         salience, decay_per_day, state, last_seen_at, source_conversation, \
                         source_turns, created_at, updated_at) VALUES {} RETURNING id, source_turns",
                        $crate::sql::values_rows(chunk.len(), 13)
                    );
                    let mut insert = sqlx::query($sql(statement));
                    let turns: Vec<String> = chunk
                        .iter()
                        .map(|e| serde_json::json!(e.turn_indexes).to_string())
                        .collect();
                    for (episode, turns) in chunk.iter().zip(&turns) {
                        insert = insert
                            .bind(user_id)
                            .bind(keyring.encrypt(&episode.content, context)?)
                            .bind(keyring.fingerprint(&episode.content))
                            .bind(memvox_core::MemoryKind::Episode.as_str())
                            .bind(sector.as_str())
                            .bind($crate::common::EPISODE_SALIENCE)
                            .bind(sector.default_decay_per_day())
                            .bind(memvox_core::MemoryState::Active.as_str())
                            .bind(episode.said_at)
                            .bind(conversation_id)
                            .bind(turns)
                            .bind(episode.said_at)
                            .bind(now);
                    }
                    let mut by_turns: std::collections::HashMap<String, memvox_core::MemoryId> =
                        std::collections::HashMap::with_capacity(chunk.len());
                    for row in insert.fetch_all(&mut *conn).await? {
                        by_turns.insert(row.try_get("source_turns")?, row.try_get("id")?);
                    }
                    for (episode, turns) in chunk.iter().zip(&turns) {
                        let id = by_turns.get(turns).copied().ok_or_else(|| {
                            $crate::StoreError::Corrupt(format!("episode at turns {turns} was not returned"))
                        })?;
                        written.index_terms(id, user_id, lexical.memory_terms(user_id, &episode.content));
                        ids.push(id);
                    }
                }
                Ok(ids)
            }

            /// Writes a memory's lexical tokens (replacing earlier ones).
            async fn index_terms_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                lexical: &$crate::LexicalKey,
                memory_id: memvox_core::MemoryId,
                user_id: &str,
                content: &str,
            ) -> $crate::StoreResult<()> {
                let mut written = $crate::common::Written::default();
                written.index_terms(memory_id, user_id, lexical.memory_terms(user_id, content));
                Self::flush_written_in(&mut *conn, &mut written).await
            }

            /// Makes the lexical index match the store's key and words: tokens made under
            /// another key (the key changed, or encryption was turned on) or by another version
            /// of `memvox_core::text::lexical_words` are dropped, then every memory
            /// without tokens (those, and memories from before the index existed) gets them.
            /// Safe to interrupt: the next open carries on.
            async fn ensure_lexical_index(&self) -> $crate::StoreResult<()> {
                use sqlx::Row;
                let check = self.lexical.check();
                let recorded: Option<String> = sqlx::query($sql($crate::sql::SELECT_META))
                    .bind("lexical_key_check")
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.try_get("value"))
                    .transpose()?;
                if recorded.as_deref() != Some(check.as_str()) {
                    let mut tx = self.writer().begin().await?;
                    let dropped = sqlx::query("DELETE FROM memory_terms")
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    sqlx::query($sql($crate::sql::UPSERT_META))
                        .bind("lexical_key_check")
                        .bind(&check)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    if dropped > 0 {
                        tracing::info!(dropped, "lexical index key or words changed: re-indexing memories");
                    }
                }
                let indexed = self.index_unindexed_memories().await?;
                if indexed > 0 {
                    tracing::info!(indexed, "lexical index complete");
                }
                Ok(())
            }

            /// How many memories the user has in the lexical index, and how many contain each
            /// token: remembered by the user's index since its version, else counted (and
            /// remembered).
            async fn token_frequencies(
                &self,
                index: &$crate::vector_index::UserVectors,
                user_id: &str,
                tokens: &[String],
            ) -> $crate::StoreResult<(usize, Vec<usize>)> {
                let (memories, known) = index.lexical.lookup(tokens);
                let missing: Vec<String> = tokens
                    .iter()
                    .zip(&known)
                    .filter(|(_, frequency)| frequency.is_none())
                    .map(|(token, _)| token.clone())
                    .collect();
                if let Some(memories) = memories
                    && missing.is_empty()
                {
                    return Ok((memories, known.into_iter().flatten().collect()));
                }
                let (memories, counted) = self.backend_token_frequencies(user_id, &missing).await?;
                index.lexical.record(memories, &missing, &counted);
                let mut counted = counted.into_iter();
                let frequencies = known
                    .into_iter()
                    .map(|frequency| frequency.or_else(|| counted.next()).unwrap_or(0))
                    .collect();
                Ok((memories, frequencies))
            }

            /// How many memories the user has in the lexical index, and how many contain each
            /// token, in one statement (tokens are per user, so each count reads one user's
            /// posting list).
            async fn backend_token_frequencies(
                &self,
                user_id: &str,
                tokens: &[String],
            ) -> $crate::StoreResult<(usize, Vec<usize>)> {
                use sqlx::Row;
                let counts: Vec<String> = (0..tokens.len())
                    .map(|i| Self::TOKEN_COUNT.replace("{n}", &(i + 2).to_string()))
                    .collect();
                let statement = format!(
                    "SELECT (SELECT COUNT(*) FROM memory_terms WHERE user_id = $1){}",
                    counts.iter().map(|count| format!(", {count}")).collect::<String>()
                );
                let mut query = sqlx::query($sql(statement)).bind(user_id);
                for token in tokens {
                    query = query.bind(token);
                }
                let row = query.fetch_one(&self.pool).await?;
                let count = |i: usize| -> $crate::StoreResult<usize> {
                    Ok(usize::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
                };
                let frequencies = (0..tokens.len())
                    .map(|i| count(i + 1))
                    .collect::<$crate::StoreResult<_>>()?;
                Ok((count(0)?, frequencies))
            }

            /// The user's memories holding any of `tokens` and passing `filter`, best match
            /// first, each with its stored tokens.
            async fn backend_search_tokens(
                &self,
                user_id: &str,
                tokens: &[String],
                filter: &$crate::MemoryFilter,
                limit: usize,
            ) -> $crate::StoreResult<Vec<(memvox_core::Memory, String)>> {
                use sqlx::Row;
                let mut next = 3;
                let (conditions, binds) = $crate::sql::filter_conditions(filter, &mut next);
                let statement = Self::TOKEN_SEARCH
                    .replace("{columns}", $crate::sql::memory_columns!())
                    .replace("{conditions}", &conditions)
                    .replace("{next}", &next.to_string());
                let mut fetch = sqlx::query($sql(statement))
                    .bind(tokens.join(Self::TOKEN_OR))
                    .bind(user_id);
                for bind in binds {
                    fetch = match bind {
                        $crate::sql::Bind::Text(text) => fetch.bind(text),
                        $crate::sql::Bind::Int(int) => fetch.bind(int),
                    };
                }
                let rows = fetch
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            $crate::common::memory_from_row(&self.keyring, row)?,
                            row.try_get("terms")?,
                        ))
                    })
                    .collect()
            }

            /// Gives every memory without lexical tokens its tokens, a batch per transaction;
            /// returns how many it indexed.
            async fn index_unindexed_memories(&self) -> $crate::StoreResult<usize> {
                let mut indexed = 0;
                loop {
                    let mut tx = self.writer().begin().await?;
                    let rows = sqlx::query($sql($crate::sql::SELECT_UNINDEXED_MEMORIES))
                        .bind(i64::try_from($crate::common::INDEX_BATCH).unwrap_or(i64::MAX))
                        .fetch_all(&mut *tx)
                        .await?;
                    let mut written = $crate::common::Written::default();
                    for row in &rows {
                        let memory = $crate::common::memory_from_row(&self.keyring, row)?;
                        written.index_terms(
                            memory.id,
                            &memory.user_id,
                            self.lexical.memory_terms(&memory.user_id, &memory.content),
                        );
                    }
                    Self::flush_written_in(&mut *tx, &mut written).await?;
                    tx.commit().await?;
                    indexed += rows.len();
                    if rows.len() < $crate::common::INDEX_BATCH {
                        break;
                    }
                    tracing::info!(indexed, "indexing earlier memories for lexical search");
                }
                Ok(indexed)
            }

            /// The row id of a recorded conversation.
            async fn conversation_fk_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                written: &mut $crate::common::Written,
                conversation_id: &str,
            ) -> $crate::StoreResult<Option<i64>> {
                use sqlx::Row;
                if let Some(fk) = written.conversation(conversation_id) {
                    return Ok(Some(fk));
                }
                let row = sqlx::query($sql($crate::sql::SELECT_CONVERSATION_FK))
                    .bind(conversation_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                let fk: Option<i64> = row.map(|r| r.try_get("id")).transpose()?;
                if let Some(fk) = fk {
                    written.remember_conversation(conversation_id, fk);
                }
                Ok(fk)
            }

            /// Creates the user unless this transaction already made sure it exists.
            async fn ensure_user_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                written: &mut $crate::common::Written,
                user_id: &str,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                if written.user_is_new(user_id) {
                    sqlx::query($sql($crate::sql::INSERT_USER_IF_MISSING))
                        .bind(user_id)
                        .bind(now)
                        .bind(memvox_core::scope_of(user_id))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Writes the tokens and citations a transaction gathered, one statement per table
            /// (and per chunk of rows).
            async fn flush_written_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                written: &mut $crate::common::Written,
            ) -> $crate::StoreResult<()> {
                let terms = written.take_terms();
                for chunk in terms.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "INSERT INTO memory_terms (memory_id, user_id, terms) VALUES {} \
                         ON CONFLICT (memory_id) DO UPDATE SET terms = excluded.terms",
                        $crate::sql::values_rows(chunk.len(), 3)
                    );
                    let mut query = sqlx::query($sql(statement));
                    for (memory_id, user_id, tokens) in chunk {
                        query = query.bind(*memory_id).bind(user_id).bind(tokens);
                    }
                    query.execute(&mut *conn).await?;
                }
                let citations = written.take_citations();
                for chunk in citations.chunks($crate::common::INSERT_CHUNK) {
                    let statement = format!(
                        "INSERT INTO conversation_memories (conversation_fk, memory_id, \
                         extraction_type, turn_indexes, confidence, created_at) VALUES {} \
                         ON CONFLICT (conversation_fk, memory_id) DO NOTHING",
                        $crate::sql::values_rows(chunk.len(), 6)
                    );
                    let mut query = sqlx::query($sql(statement));
                    for citation in chunk {
                        query = query
                            .bind(citation.conversation_fk)
                            .bind(citation.memory_id)
                            .bind(&citation.extraction_type)
                            .bind(&citation.turn_indexes)
                            .bind(Option::<f64>::None)
                            .bind(citation.at);
                    }
                    query.execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// One page of an encrypted column after `after` (from the start when `None`):
            /// `(primary key, owner, stored value)` rows and the cursor of the next page.
            async fn encryption_page(
                &self,
                walk: &$crate::encryption::ColumnWalk,
                after: Option<&$crate::Cursor>,
                limit: usize,
            ) -> $crate::StoreResult<(Vec<($crate::Cursor, String, String)>, Option<$crate::Cursor>)> {
                use sqlx::Row;
                let query = sqlx::query($sql(walk.select_page));
                let query = match (after, walk.text_key) {
                    (Some($crate::Cursor::Int(id)), _) => query.bind(*id),
                    (Some($crate::Cursor::Text(id)), _) => query.bind(id.clone()),
                    (None, true) => query.bind(String::new()),
                    (None, false) => query.bind(i64::MIN),
                };
                let rows = query
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                let mut page = Vec::with_capacity(rows.len());
                for row in &rows {
                    let key = if walk.text_key {
                        $crate::Cursor::Text(row.try_get("k")?)
                    } else {
                        $crate::Cursor::Int(row.try_get("k")?)
                    };
                    page.push((key, row.try_get("owner")?, row.try_get("v")?));
                }
                let next = if page.len() < limit {
                    None
                } else {
                    page.last().map(|(key, _, _)| key.clone())
                };
                Ok((page, next))
            }

            /// Writes `store_meta` rows.
            async fn upsert_meta(&self, rows: Vec<(String, String)>) -> $crate::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for (key, value) in rows {
                    sqlx::query($sql($crate::sql::UPSERT_META))
                        .bind(key)
                        .bind(value)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            /// Checks the keyring against the keys the database records (see
            /// `encryption::check_keys`) and records the active key.
            async fn check_encryption(&self) -> $crate::StoreResult<()> {
                use sqlx::Row;
                let mut recorded = std::collections::BTreeMap::new();
                for row in sqlx::query($sql($crate::sql::SELECT_ALL_META))
                    .fetch_all(&self.pool)
                    .await?
                {
                    recorded.insert(row.try_get::<String, _>("key")?, row.try_get::<String, _>("value")?);
                }
                let rows = $crate::encryption::check_keys(&self.keyring, &recorded)?;
                if !rows.is_empty() {
                    self.upsert_meta(rows).await?;
                }
                Ok(())
            }

            /// Records the embedding space in a new store, or checks it against the recorded
            /// one. A store with no vectors yet adopts the configured space.
            async fn check_embedding_space(&self) -> $crate::StoreResult<()> {
                use sqlx::Row;
                let model: Option<String> = sqlx::query($sql($crate::sql::SELECT_META))
                    .bind("embedding_model")
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.try_get("value"))
                    .transpose()?;
                let dimension: Option<String> = sqlx::query($sql($crate::sql::SELECT_META))
                    .bind("embedding_dimension")
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.try_get("value"))
                    .transpose()?;
                if let (Some(model), Some(dimension)) = (model, dimension) {
                    let stored_dimension: usize = dimension.parse().map_err(|_| {
                        $crate::StoreError::Corrupt(format!("embedding_dimension `{dimension}`"))
                    })?;
                    let vectors: i64 = sqlx::query($sql($crate::sql::COUNT_EMBEDDINGS))
                        .fetch_one(&self.pool)
                        .await?
                        .try_get(0)?;
                    let same = model == self.space.model && stored_dimension == self.space.dimension;
                    if !same && vectors > 0 {
                        return Err($crate::StoreError::EmbeddingMismatch {
                            stored_model: model,
                            stored_dimension,
                            model: self.space.model.clone(),
                            dimension: self.space.dimension,
                        });
                    }
                    if same {
                        return Ok(());
                    }
                }
                for (key, value) in [
                    ("embedding_model", self.space.model.clone()),
                    ("embedding_dimension", self.space.dimension.to_string()),
                ] {
                    sqlx::query($sql($crate::sql::UPSERT_META))
                        .bind(key)
                        .bind(value)
                        .execute(self.writer())
                        .await?;
                }
                Ok(())
            }
        }
    };
}
pub(crate) use impl_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathered_rows_are_written_once_per_key() {
        let mut written = Written::default();
        written.index_terms(1, "u", "ta".into());
        written.index_terms(2, "u", "tb".into());
        written.index_terms(1, "u", "tc".into());
        let terms = written.take_terms();
        assert_eq!(
            terms,
            [
                (2, "u".to_owned(), "tb".to_owned()),
                (1, "u".to_owned(), "tc".to_owned())
            ],
            "a memory's latest tokens win"
        );
        assert!(written.take_terms().is_empty(), "taken once");

        let provenance = memvox_core::Provenance {
            conversation_id: "c".into(),
            turn_indexes: vec![3],
        };
        written.cite(Citation::new(7, 1, "auto", &provenance, 10));
        written.cite(Citation::new(7, 1, "reinforced", &provenance, 11));
        written.cite(Citation::new(8, 1, "reinforced", &provenance, 12));
        let citations = written.take_citations();
        assert_eq!(
            citations
                .iter()
                .map(|c| (
                    c.conversation_fk,
                    c.extraction_type.as_str(),
                    c.turn_indexes.as_str()
                ))
                .collect::<Vec<_>>(),
            [(7, "auto", "[3]"), (8, "reinforced", "[3]")],
            "the first mention per conversation wins, as ON CONFLICT DO NOTHING"
        );
    }
}
