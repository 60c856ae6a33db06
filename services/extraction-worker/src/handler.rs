//! The extraction step for `EventAccepted` messages.
//!
//! 1. Read the raw event. Already completed (a redelivery after a crash between commit and ack):
//!    announce the recorded results again and stop. Dead-lettered: stop.
//! 2. Parse it, once: the parsed event travels with it to the commit; a malformed payload is
//!    permanent (dead letter, row marked).
//! 3. Resolve a transcription's caller, once nothing pending in the batch writes what that
//!    reads (the binding of its number): the caller joins the event's conflict keys, so two
//!    events of one caller never share a wave and each is prepared — and its extractor run —
//!    once, against what the earlier one committed.
//! 4. Prepare it ([`crate::prepare`]). Transcriptions: gather the caller's most
//!    relevant existing memories (top by salience plus nearest to the call's summary), run the
//!    extractor, plan the changes. Initiation failures: a failed conversation. Audio and
//!    unknown types: nothing to extract. Every transcription is also cut into episodes (each
//!    caller turn with the turns before it, `workers.episode_context_turns`), stored beside the
//!    facts so every call is searchable. Events of a batch that share no conversation, caller
//!    number or claimed user are prepared concurrently (none reads what another writes).
//! 5. Commit everything, and mark the event completed, in one store transaction, idempotent on
//!    the event. The events of one batch are committed together ([`Extraction::apply_extractions`](memvox_store::Extraction::apply_extractions),
//!    a group commit, `workers.events_per_commit` events to a transaction: 2 on SQLite, whose
//!    one writer the gateway's acknowledgements wait for, 8 on PostgreSQL) unless one concerns
//!    a caller or conversation already in the wave, which commits the group first so every
//!    event is prepared against what the earlier ones wrote.
//!    Then bump the user's cache version (once per call), so no query serves an answer from
//!    before the commit.
//! 6. Publish `MemoriesChanged` for the embedding worker; only then is the message acked.
//!
//! A failure on the last allowed attempt marks the row dead-lettered too, so the outbox
//! reconciler does not publish it again; so does a message the runner dead-letters because it
//! was delivered too often without completing (the worker crashed on it: `abandoned`). `memvox
//! dlq replay` reopens the row.
//!
//! An event whose caller was erased — its row deleted by the erasure, or its commit refused by
//! a tombstone (the store deletes the row then) — is dropped and acked: never retried,
//! dead-lettered or announced.

use std::{sync::Arc, time::Instant};

use async_trait::async_trait;
use futures::{StreamExt as _, stream};
use memvox_ai::{Embedder, Extractor};
use memvox_bus::{Bus, Envelope, Handler, HandlerError, MEMORIES, Message};
use memvox_cache::Versions;
use memvox_config::WorkerSettings;
use memvox_core::now_millis;
use memvox_core::redact::RedactionPolicy;
use memvox_elevenlabs::{EventPayload, WebhookEvent};
use memvox_identity::Identities;
use memvox_store::{EventStatus, ExtractionCommit, ExtractionOutcome, PlannedMemory, Store};
use memvox_telemetry::trace::{continue_trace, current_traceparent};
use tracing::Instrument as _;

use crate::{
    batch::{Group, Loaded, Member, PREPARING_AT_ONCE, Wave},
    error::ProcessError,
    identity,
    metrics::ExtractionMetrics,
    prepare::{Prepared, empty_commit, empty_prepared},
};

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
    /// Most events written in one transaction (`WorkerSettings::events_per_commit` for the
    /// store's backend).
    pub events_per_commit: usize,
    /// What is redacted of each field a call writes (`privacy.redaction`).
    pub redaction: RedactionPolicy,
    /// How callers are identified: our own numbers and the identity-token keys.
    pub identities: Identities,
    /// Deliveries after which the bus dead-letters a message.
    pub max_attempts: u32,
    /// Metrics.
    pub metrics: ExtractionMetrics,
    /// Per-user cache versions, bumped after each commit.
    pub versions: Versions,
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

    /// Reads the batch's events in order, prepares those that touch nothing in common
    /// concurrently, and commits them together (a group commit), so a burst of calls pays one
    /// transaction instead of one each. An event whose caller or conversation is already in
    /// the group first commits the group.
    async fn handle_batch(&self, batch: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        let mut outcomes: Outcomes = (0..batch.len()).map(|_| None).collect();
        let mut group = Group::default();
        let mut wave = Wave::default();
        for (index, envelope) in batch.iter().enumerate() {
            let Message::EventAccepted { event_id, .. } = &envelope.message else {
                outcomes[index] = Some(Err(HandlerError::Permanent(format!(
                    "the events stream carries EventAccepted, not {}",
                    envelope.message.kind()
                ))));
                continue;
            };
            let span = tracing::debug_span!("extract_event", event_id, attempt = envelope.attempts);
            continue_trace(&span, envelope.traceparent.as_deref());
            let member = Member {
                index,
                event_id: *event_id,
                attempts: envelope.attempts,
                event_type: String::new(),
                prepared: empty_prepared(*event_id),
                span: span.clone(),
            };
            match self
                .load(member, &mut outcomes)
                .instrument(span.clone())
                .await
            {
                Ok(Some(mut loaded)) => {
                    // The group is empty here: every wave is committed as soon as it is
                    // entered, so only the wave can hold a conflicting key.
                    if wave.touches(&loaded.keys) {
                        self.flush(&mut wave, &mut group, &mut outcomes).await;
                    }
                    // Nothing pending writes its number's binding now: resolve the caller, and
                    // start a new wave if the caller is in this one.
                    if let Err(error) = self.resolve(&mut loaded).instrument(span.clone()).await {
                        outcomes[index] =
                            Some(self.failed(*event_id, envelope.attempts, error).await);
                        continue;
                    }
                    if wave.touches(&loaded.keys) {
                        self.flush(&mut wave, &mut group, &mut outcomes).await;
                    }
                    wave.keys.extend(loaded.keys.iter().cloned());
                    wave.events.push(loaded);
                }
                Ok(None) => {}
                Err(error) => {
                    outcomes[index] = Some(self.failed(*event_id, envelope.attempts, error).await);
                }
            }
        }
        self.flush(&mut wave, &mut group, &mut outcomes).await;
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(HandlerError::Retryable("no outcome".into()))))
            .collect()
    }

    /// An event whose message crashed its worker too often: its row is marked dead-lettered
    /// (unless it completed), so the outbox reconciler stops publishing it again.
    async fn abandoned(&self, envelope: &Envelope, reason: &str) {
        let Message::EventAccepted { event_id, .. } = &envelope.message else {
            return;
        };
        match self
            .store
            .abandon_event(*event_id, reason, now_millis())
            .await
        {
            Ok(true) => tracing::warn!(event_id, "event abandoned after too many deliveries"),
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(event_id, %error, "could not mark the abandoned event dead-lettered");
            }
        }
    }
}

impl ExtractionHandler {
    /// Reads and parses one event; an event that needs no commit (dead-lettered, or already
    /// completed and announced again) gets its outcome at once and `None`.
    async fn load(
        &self,
        mut member: Member,
        outcomes: &mut Outcomes,
    ) -> Result<Option<Loaded>, ProcessError> {
        let event_id = member.event_id;
        let event = self
            .store
            .get_event(event_id)
            .await?
            .ok_or(ProcessError::MissingEvent(event_id))?;
        match event.status {
            EventStatus::DeadLetter => {
                outcomes[member.index] = Some(Ok(()));
                return Ok(None);
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
                return Ok(None);
            }
            EventStatus::Pending => {}
        }
        let parsed = WebhookEvent::parse(event.payload.as_bytes())?;
        let keys = identity::conflict_keys(&self.identities, &parsed);
        parsed.event_type().clone_into(&mut member.event_type);
        Ok(Some(Loaded {
            member,
            parsed,
            keys,
            resolution: None,
        }))
    }

    /// Resolves a served transcription's caller (counting a refused identity) and adds the
    /// user to the event's keys.
    async fn resolve(&self, loaded: &mut Loaded) -> Result<(), ProcessError> {
        let EventPayload::Transcription(data) = &loaded.parsed.payload else {
            return Ok(());
        };
        if !self.identities.settings.serves_agent(Some(&data.agent_id)) {
            tracing::info!(agent_id = %data.agent_id, "call of an agent memvox does not serve: ignored");
            return Ok(());
        }
        let resolution = identity::resolve(self.store.as_ref(), &self.identities, data).await?;
        if let Some(reason) = resolution.refused {
            self.metrics.identity_refused(reason);
        }
        if let Some(identity) = &resolution.identity {
            loaded.keys.push(identity.user_id.clone());
        }
        loaded.resolution = Some(resolution);
        Ok(())
    }

    /// Prepares the wave and commits the group.
    async fn flush(&self, wave: &mut Wave, group: &mut Group, outcomes: &mut Outcomes) {
        self.enter_wave(wave, group, outcomes).await;
        self.commit_group(group, outcomes).await;
    }

    /// Prepares the wave's events, [`PREPARING_AT_ONCE`] at a time, and adds each to the
    /// group in batch order.
    async fn enter_wave(&self, wave: &mut Wave, group: &mut Group, outcomes: &mut Outcomes) {
        wave.keys.clear();
        let events = std::mem::take(&mut wave.events);
        let prepared: Vec<(Member, Result<Prepared, ProcessError>)> = stream::iter(events)
            .map(|loaded| async move {
                let Loaded {
                    member,
                    parsed,
                    resolution,
                    ..
                } = loaded;
                let prepared = self
                    .prepare(member.event_id, &parsed, resolution)
                    .instrument(member.span.clone())
                    .await;
                (member, prepared)
            })
            .buffered(PREPARING_AT_ONCE)
            .collect()
            .await;
        for (mut member, prepared) in prepared {
            match prepared {
                Ok(prepared) => {
                    member.prepared = prepared;
                    group.push(member);
                }
                Err(error) => {
                    outcomes[member.index] =
                        Some(self.failed(member.event_id, member.attempts, error).await);
                }
            }
        }
    }

    /// Commits the group's events, [`ExtractionHandler::events_per_commit`] to a transaction, and finishes
    /// each.
    async fn commit_group(&self, group: &mut Group, outcomes: &mut Outcomes) {
        let mut members = std::mem::take(group);
        // No two members share a caller or conversation, so their order is free: writing the
        // callers' rows in one global order keeps two replicas' groups from deadlocking.
        members.sort_by(|a, b| a.prepared.user_id.cmp(&b.prepared.user_id));
        for members in members.chunks(self.events_per_commit.max(1)) {
            self.commit_members(members, outcomes).await;
        }
    }

    /// Commits events in one transaction and finishes each. If the transaction fails, each
    /// event is committed on its own, so one bad event does not hold back others.
    async fn commit_members(&self, members: &[Member], outcomes: &mut Outcomes) {
        let commits: Vec<&ExtractionCommit> = members.iter().map(|m| &m.prepared.commit).collect();
        let started = Instant::now();
        // One transaction for several events: a child of the first event's span, linked to
        // the others'.
        let parent = members.first().map(|m| m.span.id());
        let span = tracing::debug_span!(parent: parent.flatten(), "commit_extractions", events = members.len());
        for member in members.iter().skip(1) {
            span.follows_from(&member.span);
        }
        let committed = self
            .store
            .apply_extractions(&commits)
            .instrument(span)
            .await;
        let per_event = started.elapsed().as_secs_f64() / commits.len() as f64;
        match committed {
            Ok(results) => {
                for (member, outcome) in members.iter().zip(&results) {
                    self.metrics.stage("commit", per_event);
                    let finished = self
                        .committed(member, outcome)
                        .instrument(member.span.clone())
                        .await;
                    outcomes[member.index] = Some(self.finish(member, finished).await);
                }
            }
            Err(error) if members.len() == 1 => {
                let member = &members[0];
                outcomes[member.index] = Some(self.finish(member, Err(error.into())).await);
            }
            Err(error) => {
                tracing::warn!(events = members.len(), %error, "group commit failed: committing its events one by one");
                for member in members {
                    let finished = async {
                        match self.store.apply_extraction(&member.prepared.commit).await {
                            Ok(outcome) => self.committed(member, &outcome).await,
                            Err(error) => Err(error.into()),
                        }
                    }
                    .instrument(member.span.clone())
                    .await;
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
            if prepared.commit.episodes_owner().is_some() {
                self.metrics.episodes(prepared.commit.episodes.len());
            }
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
                .finish_event(
                    event_id,
                    EventStatus::DeadLetter,
                    Some(&reason),
                    now_millis(),
                )
                .await;
            if let Err(mark_error) = marked {
                tracing::warn!(event_id, %mark_error, "could not mark the event dead-lettered");
            }
        }
        Err(error.into())
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
        let envelope = Envelope::new(message).with_trace_context(current_traceparent());
        self.bus.publish(MEMORIES, &envelope).await?;
        Ok(())
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
