//! The extraction step for `EventAccepted` messages.
//!
//! 1. Read the raw event. Already completed (a redelivery after a crash between commit and ack):
//!    announce the recorded results again and stop. Dead-lettered: stop.
//! 2. Parse it; a malformed payload is permanent (dead letter, row marked).
//! 3. Transcriptions: resolve the caller, gather their most relevant existing memories (top by
//!    salience plus nearest to the call's summary), run the extractor, plan the changes.
//!    Initiation failures: a failed conversation. Audio and unknown types: nothing to extract.
//!    Every transcription is also cut into episodes (each caller turn with the turns before it,
//!    `workers.episode_context_turns`), stored beside the facts so every call is searchable.
//! 4. Commit everything, and mark the event completed, in one store transaction, idempotent on
//!    the event. The events of one batch are committed together ([`Extraction::apply_extractions`](memvox_store::Extraction::apply_extractions),
//!    a group commit) unless one concerns a caller or conversation already in the group, which
//!    commits the group first so every event is prepared against what the earlier ones wrote.
//!    Then bump the user's cache version, so no query serves an answer from before the commit.
//! 5. Publish `MemoriesChanged` for the embedding worker; only then is the message acked.
//!
//! A failure on the last allowed attempt marks the row dead-lettered too, so the outbox
//! reconciler does not publish it again; `memvox dlq replay` reopens it.
//!
//! An event whose caller was erased — its row deleted by the erasure, or its commit refused by
//! a tombstone (the store deletes the row then) — is dropped and acked: never retried,
//! dead-lettered or announced.

use std::{collections::HashSet, sync::Arc, time::Instant};

use async_trait::async_trait;
use memvox_ai::{CallTranscript, Embedder, ExistingMemory, Extractor};
use memvox_bus::{Bus, Envelope, Handler, HandlerError, MEMORIES, Message, now_unix_ms};
use memvox_cache::Versions;
use memvox_config::WorkerSettings;
use memvox_core::{CallOutcome, EpisodeWindows, UnixMillis};
use memvox_elevenlabs::{EventPayload, TranscriptionData, WebhookEvent};
use memvox_identity::{Claims, Identities};
use memvox_store::{
    EventStatus, ExtractionCommit, ExtractionOutcome, MemoryFilter, MemoryOrder, PlannedMemory,
    Store,
};

use crate::{
    call::{failure_record, transcription_record},
    error::ProcessError,
    identity,
    metrics::ExtractionMetrics,
    plan::plan,
};

/// Past calls looked at for reflective (time-of-day) patterns.
const PAST_CALLS: usize = 50;

/// Consumes the events stream.
pub struct ExtractionHandler {
    /// System of record.
    pub store: Arc<dyn Store>,
    /// Where `MemoriesChanged` goes.
    pub bus: Arc<dyn Bus>,
    /// Embeds the call summary to find similar existing memories.
    pub embedder: Arc<dyn Embedder>,
    /// Turns a call into memory candidates.
    pub extractor: Arc<dyn Extractor>,
    /// Worker tuning.
    pub settings: WorkerSettings,
    /// How callers are identified: our own numbers and the identity-token keys.
    pub identities: Identities,
    /// Deliveries after which the bus dead-letters a message.
    pub max_attempts: u32,
    /// Metrics.
    pub metrics: ExtractionMetrics,
    /// Per-user cache versions, bumped after each commit.
    pub versions: Versions,
}

/// The store changes one event produces, and whom they concern.
struct Prepared {
    commit: ExtractionCommit,
    user_id: Option<String>,
    conversation_id: Option<String>,
    outcome_label: &'static str,
}

/// A prepared event waiting in the group commit, with what to do once it is committed.
struct Member {
    /// Position in the batch.
    index: usize,
    /// The raw event.
    event_id: i64,
    /// Delivery attempts so far (to tell a last attempt).
    attempts: u32,
    /// `type` of the webhook, for metrics.
    event_type: String,
    /// The changes and whom they concern.
    prepared: Prepared,
}

/// Events prepared but not yet committed, and what they write (conversations, users, caller
/// bindings): an event whose preparation reads one of them commits the group first, so it is
/// prepared against what the earlier events wrote, exactly as one at a time.
#[derive(Default)]
struct Group {
    members: Vec<Member>,
    keys: HashSet<String>,
}

impl Group {
    fn touches(&self, keys: &[String]) -> bool {
        keys.iter().any(|k| self.keys.contains(k))
    }
}

/// Per-message results of a batch, filled in as events finish.
type Outcomes = Vec<Option<Result<(), HandlerError>>>;

#[async_trait]
impl Handler for ExtractionHandler {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(envelope))
            .await
            .pop()
            .unwrap_or_else(|| Err(HandlerError::Retryable("no outcome".into())))
    }

    /// Prepares the batch's events in order and commits them together (a group commit), so
    /// a burst of calls pays one transaction instead of one each. An event whose caller or
    /// conversation is already in the pending group first commits the group.
    async fn handle_batch(&self, batch: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        let mut outcomes: Outcomes = (0..batch.len()).map(|_| None).collect();
        let mut group = Group::default();
        for (index, envelope) in batch.iter().enumerate() {
            let Message::EventAccepted { event_id, .. } = &envelope.message else {
                outcomes[index] = Some(Err(HandlerError::Permanent(format!(
                    "the events stream carries EventAccepted, not {}",
                    envelope.message.kind()
                ))));
                continue;
            };
            let member = Member {
                index,
                event_id: *event_id,
                attempts: envelope.attempts,
                event_type: String::new(),
                prepared: empty_prepared(*event_id),
            };
            if let Err(error) = self.enter(member, &mut group, &mut outcomes).await {
                outcomes[index] = Some(self.failed(*event_id, envelope.attempts, error).await);
            }
        }
        self.commit_group(&mut group, &mut outcomes).await;
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(HandlerError::Retryable("no outcome".into()))))
            .collect()
    }
}

impl ExtractionHandler {
    /// Reads and prepares one event and adds it to the group; an event that needs no commit
    /// (dead-lettered, or already completed and announced again) gets its outcome at once.
    async fn enter(
        &self,
        mut member: Member,
        group: &mut Group,
        outcomes: &mut Outcomes,
    ) -> Result<(), ProcessError> {
        let event_id = member.event_id;
        let event = self
            .store
            .get_event(event_id)
            .await?
            .ok_or(ProcessError::MissingEvent(event_id))?;
        match event.status {
            EventStatus::DeadLetter => {
                outcomes[member.index] = Some(Ok(()));
                return Ok(());
            }
            EventStatus::Completed => {
                let outcome = self.store.apply_extraction(&empty_commit(event_id)).await?;
                let user = match self.store.get_call(&event.conversation_id).await? {
                    Some(call) => call.conversation.user_id,
                    None => None,
                };
                self.metrics.event(&event.event_type, "repeat");
                self.announce(user.as_deref(), Some(&event.conversation_id), &outcome)
                    .await?;
                outcomes[member.index] = Some(Ok(()));
                return Ok(());
            }
            EventStatus::Pending => {}
        }
        let parsed = WebhookEvent::parse(event.payload.as_bytes())?;
        let keys = conflict_keys(&self.identities, &parsed);
        if group.touches(&keys) {
            self.commit_group(group, outcomes).await;
        }
        parsed.event_type().clone_into(&mut member.event_type);
        member.prepared = self.prepare(event_id, &parsed).await?;
        if let Some(user_id) = &member.prepared.user_id
            && group.keys.contains(user_id)
        {
            self.commit_group(group, outcomes).await;
            member.prepared = self.prepare(event_id, &parsed).await?;
        }
        group.keys.extend(keys);
        group.keys.extend(member.prepared.user_id.clone());
        if let Some((number, _)) = &member.prepared.commit.bind_caller {
            group.keys.insert(number_key(number));
        }
        group.members.push(member);
        Ok(())
    }

    /// The store changes one pending event produces.
    async fn prepare(
        &self,
        event_id: i64,
        parsed: &WebhookEvent,
    ) -> Result<Prepared, ProcessError> {
        Ok(match &parsed.payload {
            EventPayload::Transcription(data) => self.prepare_transcription(event_id, data).await?,
            EventPayload::InitiationFailure(data)
                if !self.identities.settings.serves_agent(Some(&data.agent_id)) =>
            {
                Prepared {
                    conversation_id: Some(data.conversation_id.clone()),
                    outcome_label: "ignored_agent",
                    ..empty_prepared(event_id)
                }
            }
            EventPayload::InitiationFailure(data) => Prepared {
                commit: ExtractionCommit {
                    call: Some(failure_record(data, parsed.event_timestamp, None)),
                    ..empty_commit(event_id)
                },
                user_id: None,
                conversation_id: Some(data.conversation_id.clone()),
                outcome_label: "recorded",
            },
            EventPayload::Audio(_) | EventPayload::Unknown { .. } => Prepared {
                conversation_id: parsed.conversation_id().map(str::to_owned),
                outcome_label: "recorded",
                ..empty_prepared(event_id)
            },
        })
    }

    /// Commits the group's events in one transaction and finishes each. If the transaction
    /// fails, each event is committed on its own, so one bad event does not hold back others.
    async fn commit_group(&self, group: &mut Group, outcomes: &mut Outcomes) {
        let mut members = std::mem::take(&mut group.members);
        group.keys.clear();
        if members.is_empty() {
            return;
        }
        // No two members share a caller or conversation, so their order is free: writing the
        // callers' rows in one global order keeps two replicas' groups from deadlocking.
        members.sort_by(|a, b| a.prepared.user_id.cmp(&b.prepared.user_id));
        let commits: Vec<&ExtractionCommit> = members.iter().map(|m| &m.prepared.commit).collect();
        let started = Instant::now();
        let committed = self.store.apply_extractions(&commits).await;
        let per_event = started.elapsed().as_secs_f64() / commits.len() as f64;
        match committed {
            Ok(results) => {
                for (member, outcome) in members.iter().zip(&results) {
                    self.metrics.stage("commit", per_event);
                    let finished = self.committed(member, outcome).await;
                    outcomes[member.index] = Some(self.finish(member, finished).await);
                }
            }
            Err(error) if members.len() == 1 => {
                let member = &members[0];
                outcomes[member.index] = Some(self.finish(member, Err(error.into())).await);
            }
            Err(error) => {
                tracing::warn!(events = members.len(), %error, "group commit failed: committing its events one by one");
                for member in &members {
                    let finished = match self.store.apply_extraction(&member.prepared.commit).await
                    {
                        Ok(outcome) => self.committed(member, &outcome).await,
                        Err(error) => Err(error.into()),
                    };
                    outcomes[member.index] = Some(self.finish(member, finished).await);
                }
            }
        }
    }

    /// After an event's commit: bump the user's cache version, count, announce.
    async fn committed(
        &self,
        member: &Member,
        outcome: &ExtractionOutcome,
    ) -> Result<(), ProcessError> {
        let prepared = &member.prepared;
        if outcome.erased {
            tracing::info!(
                event_id = member.event_id,
                "event of an erased caller dropped"
            );
            self.metrics.event(&member.event_type, "erased");
            return Ok(());
        }
        if let Some(user_id) = &prepared.user_id {
            self.versions.bump(user_id).await;
        }
        if !outcome.already_applied {
            count_plans(&self.metrics, &prepared.commit.memories);
        }
        self.metrics
            .event(&member.event_type, prepared.outcome_label);
        self.announce(
            prepared.user_id.as_deref(),
            prepared.conversation_id.as_deref(),
            outcome,
        )
        .await
    }

    /// The handler result of a finished event.
    async fn finish(
        &self,
        member: &Member,
        result: Result<(), ProcessError>,
    ) -> Result<(), HandlerError> {
        match result {
            Ok(()) => Ok(()),
            Err(error) => self.failed(member.event_id, member.attempts, error).await,
        }
    }

    /// Logs a failed event; on its last attempt (or a permanent failure) marks its row
    /// dead-lettered, so the outbox reconciler does not publish it again.
    async fn failed(
        &self,
        event_id: i64,
        attempts: u32,
        error: ProcessError,
    ) -> Result<(), HandlerError> {
        if error.erased() {
            tracing::info!(event_id, "event of an erased caller dropped");
            self.metrics.event("unknown", "erased");
            return Ok(());
        }
        let last = !error.retryable() || attempts >= self.max_attempts;
        let reason = error.reason();
        tracing::warn!(event_id, attempt = attempts, last, %reason, "event failed");
        if last {
            let marked = self
                .store
                .finish_event(event_id, EventStatus::DeadLetter, Some(&reason), now())
                .await;
            if let Err(mark_error) = marked {
                tracing::warn!(event_id, %mark_error, "could not mark the event dead-lettered");
            }
        }
        Err(error.into())
    }

    async fn prepare_transcription(
        &self,
        event_id: i64,
        data: &TranscriptionData,
    ) -> Result<Prepared, ProcessError> {
        if !self.identities.settings.serves_agent(Some(&data.agent_id)) {
            tracing::info!(agent_id = %data.agent_id, "call of an agent memvox does not serve: ignored");
            return Ok(Prepared {
                conversation_id: Some(data.conversation_id.clone()),
                outcome_label: "ignored_agent",
                ..empty_prepared(event_id)
            });
        }
        let resolution = identity::resolve(self.store.as_ref(), &self.identities, data).await?;
        if let Some(reason) = resolution.refused {
            self.metrics.identity_refused(reason);
        }
        let Some(identity) = resolution.identity else {
            tracing::info!(conversation_id = %data.conversation_id, "call has no verified identity and no caller number: recorded without memories");
            return Ok(Prepared {
                commit: ExtractionCommit {
                    call: Some(transcription_record(data, None)),
                    ..empty_commit(event_id)
                },
                user_id: None,
                conversation_id: Some(data.conversation_id.clone()),
                outcome_label: "no_identity",
            });
        };
        let record = transcription_record(data, Some(&identity.user_id));
        let started = Instant::now();
        let existing = self.existing_memories(&identity.user_id, data).await?;
        let previous_call_times: Vec<UnixMillis> = self
            .store
            .user_call_times(&identity.user_id, PAST_CALLS)
            .await?
            .into_iter()
            .filter(|t| *t != record.conversation.started_at)
            .collect();
        self.metrics
            .stage("existing", started.elapsed().as_secs_f64());
        let transcript = CallTranscript {
            user_id: identity.user_id.clone(),
            conversation_id: data.conversation_id.clone(),
            started_at: record.conversation.started_at,
            utc_offset_minutes: None,
            turns: record.turns.clone(),
            summary: record.analysis.as_ref().and_then(|a| a.summary.clone()),
            action_items: data.action_items(),
            outcome: record
                .analysis
                .as_ref()
                .map_or(CallOutcome::Unknown, |a| a.outcome),
            existing,
            previous_call_times,
        };
        let started = Instant::now();
        let candidates = self.extractor.extract(&transcript).await?;
        self.metrics
            .stage("extract", started.elapsed().as_secs_f64());
        let started = Instant::now();
        let memories = plan(
            self.store.as_ref(),
            &identity.user_id,
            &data.conversation_id,
            candidates,
        )
        .await?;
        self.metrics.stage("plan", started.elapsed().as_secs_f64());
        let episodes = EpisodeWindows {
            context_turns: self.settings.episode_context_turns,
            reply_turns: self.settings.episode_reply_turns,
        }
        .cut(&record.turns, record.conversation.started_at);
        Ok(Prepared {
            commit: ExtractionCommit {
                event_id,
                call: Some(record),
                bind_caller: identity.bind_caller,
                memories,
                episodes,
                now: now(),
            },
            user_id: Some(identity.user_id),
            conversation_id: Some(data.conversation_id.clone()),
            outcome_label: "extracted",
        })
    }

    /// The user's memories an extractor should compare against: those nearest to what the
    /// caller said (or the call summary), then the most salient, without repeats.
    async fn existing_memories(
        &self,
        user_id: &str,
        data: &TranscriptionData,
    ) -> Result<Vec<ExistingMemory>, ProcessError> {
        let limit = self.settings.existing_memories;
        let caller_text: Vec<&str> = data
            .messages()
            .filter(|m| matches!(m.role, memvox_elevenlabs::post_call::Role::User))
            .map(|m| m.text)
            .collect();
        let probe = match data.summary() {
            Some(summary) if !summary.trim().is_empty() => summary.to_owned(),
            _ => caller_text.join(" "),
        };
        let filter = MemoryFilter::default();
        let mut seen = HashSet::new();
        let mut existing = Vec::new();
        if !probe.trim().is_empty() {
            let vectors = self.embedder.embed(&[probe.as_str()]).await?;
            if let Some(vector) = vectors.first() {
                for hit in self
                    .store
                    .search_memories(user_id, vector, &filter, limit)
                    .await?
                {
                    if seen.insert(hit.memory.id) {
                        existing.push(ExistingMemory {
                            id: hit.memory.id,
                            content: hit.memory.content,
                            sector: hit.memory.sector,
                        });
                    }
                }
            }
        }
        let salient = self
            .store
            .list_memories(user_id, &filter, MemoryOrder::Salience, limit)
            .await?;
        for memory in salient {
            if seen.insert(memory.id) {
                existing.push(ExistingMemory {
                    id: memory.id,
                    content: memory.content,
                    sector: memory.sector,
                });
            }
        }
        Ok(existing)
    }

    /// Tells the embedding worker which memories changed.
    async fn announce(
        &self,
        user_id: Option<&str>,
        conversation_id: Option<&str>,
        outcome: &ExtractionOutcome,
    ) -> Result<(), ProcessError> {
        let Some(user_id) = user_id else {
            return Ok(());
        };
        if outcome.memory_ids.is_empty() {
            return Ok(());
        }
        let message = Message::MemoriesChanged {
            user_id: user_id.to_owned(),
            memory_ids: outcome.memory_ids.clone(),
            conversation_id: conversation_id.map(str::to_owned),
        };
        self.bus.publish(MEMORIES, &Envelope::new(message)).await?;
        Ok(())
    }
}

/// What preparing an event reads that an earlier event in the group may write: its
/// conversation, the caller number it is resolved by and the user its claimed identity names.
fn conflict_keys(identities: &Identities, parsed: &WebhookEvent) -> Vec<String> {
    let mut keys: Vec<String> = parsed
        .conversation_id()
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let EventPayload::Transcription(data) = &parsed.payload {
        keys.extend(identity::remote_number(identities, data).map(number_key));
        // Unverified, only to group: a token names its user, a raw id itself.
        keys.extend(
            data.user_id()
                .map(|claimed| Claims::peek(claimed).map_or(claimed.to_owned(), |c| c.sub)),
        );
    }
    keys
}

/// The group key of a caller number.
fn number_key(number: &str) -> String {
    format!("tel:{}", number.trim())
}

fn empty_prepared(event_id: i64) -> Prepared {
    Prepared {
        commit: empty_commit(event_id),
        user_id: None,
        conversation_id: None,
        outcome_label: "recorded",
    }
}

fn empty_commit(event_id: i64) -> ExtractionCommit {
    ExtractionCommit {
        event_id,
        call: None,
        bind_caller: None,
        memories: Vec::new(),
        episodes: Vec::new(),
        now: now(),
    }
}

fn count_plans(metrics: &ExtractionMetrics, plans: &[PlannedMemory]) {
    for plan in plans {
        let op = match plan {
            PlannedMemory::Add(_) => "add",
            PlannedMemory::Update { .. } => "update",
            PlannedMemory::Supersede { .. } => "supersede",
            PlannedMemory::Reinforce { .. } => "reinforce",
        };
        metrics.memories(op, 1);
    }
}

/// The current time.
pub(crate) fn now() -> UnixMillis {
    i64::try_from(now_unix_ms()).unwrap_or(i64::MAX)
}
