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

/// Salience added when a call repeats or refines a memory (on top of the larger of the two).
pub(crate) const UPDATE_SALIENCE_BUMP: f64 = 0.05;

/// Salience added when a call confirms a memory unchanged.
pub(crate) const REINFORCE_SALIENCE_BUMP: f64 = 0.05;

/// The salience an episode is stored with: below an extracted fact's usual 0.5–0.9, so that of
/// a fact and an episode matching a query equally, the compact fact ranks first.
pub const EPISODE_SALIENCE: f64 = 0.3;

/// Rows per multi-row insert: keeps every statement under SQLite's bound-parameter limit.
pub(crate) const INSERT_CHUNK: usize = 500;

/// Implements [`Store`](crate::Store) for a backend type; `$sql` turns shared SQL into the
/// backend's dialect.
macro_rules! impl_store {
    ($ty:ty, $db:ty, $backend:literal, $sql:path) => {
        #[async_trait::async_trait]
        impl $crate::StoreRest for $ty {
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
                Self::record_call_in(&mut *tx, &self.core.keyring, &mut $crate::written::Written::default(), call, now).await?;
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
                            .map(|m| self.core.keyring.decrypt(&m, turn_context))
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
                                .map(|s| self.core.keyring.decrypt(&s, summary_context))
                                .transpose()?,
                            outcome: memvox_core::CallOutcome::from_wire(&outcome),
                            evaluation: $crate::rows::parse_json_text(
                                "evaluation_json",
                                $crate::rows::decrypt_optional(
                                    &self.core.keyring,
                                    row.try_get("evaluation_json")?,
                                    $crate::encryption::columns::ANALYSIS_EVALUATION.at(&conversation_id),
                                )?,
                            )?,
                            data_collection: $crate::rows::parse_json_text(
                                "data_collection",
                                $crate::rows::decrypt_optional(
                                    &self.core.keyring,
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
                let mut written = $crate::written::Written::default();
                let mut outcomes = Vec::with_capacity(commits.len());
                for commit in commits {
                    outcomes.push(
                        Self::apply_extraction_in(&mut *tx, &self.core.keyring, self.core.tombstone_days, &self.core.lexical, &mut written, commit)
                            .await?,
                    );
                }
                $crate::written::flush_written_in::<$db>(&mut *tx, &mut written).await?;
                tx.commit().await?;
                Ok(outcomes)
            }

        }

        impl $ty {

            /// Applies one event's extraction inside an open transaction (see
            /// `Store::apply_extraction`).
            async fn apply_extraction_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lifetime_days: Option<u64>,
                lexical: &$crate::LexicalKey,
                written: &mut $crate::written::Written,
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
                        $crate::rows::parse_result_ids(row.try_get("result_memory_ids")?)?;
                    return Ok($crate::ExtractionOutcome {
                        memory_ids,
                        already_applied: true,
                        erased: false,
                    });
                }
                if $crate::tombstone::commit_erased_in::<$db>(&mut *conn, keyring, lifetime_days, commit).await? {
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
                    $crate::users::bind_caller_in::<$db>(&mut *conn, written, phone, user_id, now).await?;
                }
                let at = $crate::written::Times {
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
                written: &mut $crate::written::Written,
                plan: &$crate::PlannedMemory,
                at: $crate::written::Times,
            ) -> $crate::StoreResult<Option<memvox_core::MemoryId>> {
                match plan {
                    $crate::PlannedMemory::Add(memory) => {
                        Ok(Some($crate::memory_edits::insert_memory_in::<$db>(&mut *conn, keyring, lexical, written, memory, at, "auto").await?.id))
                    }
                    $crate::PlannedMemory::Update { target, memory } => {
                        let current = sqlx::query($sql($crate::sql::SELECT_MEMORY))
                            .bind(*target)
                            .bind(&memory.user_id)
                            .fetch_optional(&mut *conn)
                            .await?;
                        let Some(current) = current.as_ref().map(|r| $crate::rows::memory_from_row(keyring, r)).transpose()? else {
                            return Ok(Some($crate::memory_edits::insert_memory_in::<$db>(&mut *conn, keyring, lexical, written, memory, at, "auto").await?.id));
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
                        $crate::written::cite_in::<$db>(&mut *conn, written, current.id, "reinforced", memory.provenance.as_ref(), at.said).await?;
                        Ok(Some(current.id))
                    }
                    $crate::PlannedMemory::Supersede { target, replacement } => {
                        let new = $crate::memory_edits::insert_memory_in::<$db>(&mut *conn, keyring, lexical, written, replacement, at, "auto").await?;
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
                        $crate::written::cite_in::<$db>(&mut *conn, written, *target, "reinforced", provenance.as_ref(), at.said).await?;
                        Ok(Some(*target))
                    }
                }
            }

            /// Records a call inside an open transaction.
            async fn record_call_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                written: &mut $crate::written::Written,
                call: &$crate::CallRecord,
                now: memvox_core::UnixMillis,
            ) -> $crate::StoreResult<()> {
                use sqlx::Row;
                let conversation = &call.conversation;
                if let Some(user_id) = &conversation.user_id {
                    $crate::users::ensure_user_in::<$db>(&mut *conn, written, user_id, now).await?;
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
                        .bind($crate::rows::encrypt_optional(
                            keyring,
                            $crate::rows::json_text(analysis.evaluation.as_ref()),
                            $crate::encryption::columns::ANALYSIS_EVALUATION
                                .at(&conversation.conversation_id),
                        )?)
                        .bind($crate::rows::encrypt_optional(
                            keyring,
                            $crate::rows::json_text(analysis.data_collection.as_ref()),
                            $crate::encryption::columns::ANALYSIS_DATA_COLLECTION
                                .at(&conversation.conversation_id),
                        )?)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Stores a call's episodes for `user_id` inside an open transaction, replacing any an
            /// earlier recording of the conversation wrote, with one multi-row insert per chunk;
            /// returns their ids in `episodes` order. Each gets lexical tokens like a memory.
            #[allow(clippy::too_many_arguments)]
            async fn write_episodes_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                keyring: &memvox_crypto::Keyring,
                lexical: &$crate::LexicalKey,
                written: &mut $crate::written::Written,
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

        }
    };
}
pub(crate) use impl_store;
