//! Preparing an event: what one pending event will write — for a transcription of a caller the
//! handler resolved, their relevant memories read, the extractor run, the changes planned and
//! the call cut into episodes — and for whom, before the group commit writes it.

use std::{borrow::Cow, collections::HashSet, time::Instant};
use tracing::Instrument as _;

use memvox_ai::{CallTranscript, ExistingMemory};
use memvox_core::redact::{Field, FieldPolicy};
use memvox_core::{CallOutcome, EpisodeWindows, Turn, UnixMillis, now_millis};
use memvox_elevenlabs::{EventPayload, TranscriptionData, WebhookEvent};
use memvox_store::{ExtractionCommit, MemoryFilter, MemoryOrder};

use crate::{
    call::{self, failure_record, transcription_record},
    error::ProcessError,
    handler::ExtractionHandler,
    identity::Resolution,
    plan::{plan, screen},
};

/// Past calls looked at for reflective (time-of-day) patterns.
const PAST_CALLS: usize = 50;

/// The store changes one event produces, and whom they concern.
pub(crate) struct Prepared {
    pub(crate) commit: ExtractionCommit,
    pub(crate) user_id: Option<String>,
    pub(crate) conversation_id: Option<String>,
    pub(crate) outcome_label: &'static str,
}

impl ExtractionHandler {
    /// The store changes one pending event produces; a transcription's `resolution` is its
    /// caller (`None`: a call of an agent memvox does not serve).
    pub(crate) async fn prepare(
        &self,
        event_id: i64,
        parsed: &WebhookEvent,
        resolution: Option<Resolution>,
    ) -> Result<Prepared, ProcessError> {
        Ok(match (&parsed.payload, resolution) {
            (EventPayload::Transcription(data), Some(resolution)) => {
                self.prepare_transcription(event_id, data, resolution)
                    .await?
            }
            (EventPayload::Transcription(data), None) => Prepared {
                conversation_id: Some(data.conversation_id.clone()),
                outcome_label: "ignored_agent",
                ..empty_prepared(event_id)
            },
            (EventPayload::InitiationFailure(data), _)
                if !self.identities.settings.serves_agent(Some(&data.agent_id)) =>
            {
                Prepared {
                    conversation_id: Some(data.conversation_id.clone()),
                    outcome_label: "ignored_agent",
                    ..empty_prepared(event_id)
                }
            }
            (EventPayload::InitiationFailure(data), _) => Prepared {
                commit: ExtractionCommit {
                    call: Some(failure_record(data, parsed.event_timestamp, None)),
                    ..empty_commit(event_id)
                },
                user_id: None,
                conversation_id: Some(data.conversation_id.clone()),
                outcome_label: "recorded",
            },
            (EventPayload::Audio(_) | EventPayload::Unknown { .. }, _) => Prepared {
                conversation_id: parsed.conversation_id().map(str::to_owned),
                outcome_label: "recorded",
                ..empty_prepared(event_id)
            },
        })
    }

    async fn prepare_transcription(
        &self,
        event_id: i64,
        data: &TranscriptionData,
        resolution: Resolution,
    ) -> Result<Prepared, ProcessError> {
        let Some(identity) = resolution.identity else {
            tracing::info!(conversation_id = %data.conversation_id, "call has no verified identity and no caller number: recorded without memories");
            return Ok(Prepared {
                commit: ExtractionCommit {
                    call: Some(transcription_record(data, None, &self.redaction)),
                    ..empty_commit(event_id)
                },
                user_id: None,
                conversation_id: Some(data.conversation_id.clone()),
                outcome_label: "no_identity",
            });
        };
        let record = transcription_record(data, Some(&identity.user_id), &self.redaction);
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
        // The extractor reads the call as memory content may hold it; a kind dropped from memory
        // content is masked here, and a memory citing its placeholder is then dropped too.
        let memory_content = self.redaction.field(Field::MemoryContent);
        let read = memory_content.masking_drops();
        let transcript = CallTranscript {
            user_id: identity.user_id.clone(),
            conversation_id: data.conversation_id.clone(),
            started_at: record.conversation.started_at,
            utc_offset_minutes: None,
            turns: self.turns_under(data, &record.turns, read).into_owned(),
            summary: data.summary().map(|s| read.apply(s).into_owned()),
            action_items: data
                .action_items()
                .iter()
                .map(|item| read.apply(item).into_owned())
                .collect(),
            outcome: record
                .analysis
                .as_ref()
                .map_or(CallOutcome::Unknown, |a| a.outcome),
            existing,
            previous_call_times,
        };
        let started = Instant::now();
        let candidates = self
            .extractor
            .extract(&transcript)
            .instrument(tracing::debug_span!("extractor"))
            .await?;
        self.metrics
            .stage("extract", started.elapsed().as_secs_f64());
        let (candidates, dropped) = screen(memory_content, candidates);
        for kind in dropped {
            tracing::info!(conversation_id = %data.conversation_id, %kind, "extracted memory not stored: it holds personal data the redaction policy drops from memory content");
            self.metrics.memory_dropped(kind);
        }
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
        .cut(
            &self.turns_under(data, &record.turns, self.redaction.field(Field::Episodes)),
            record.conversation.started_at,
        );
        Ok(Prepared {
            commit: ExtractionCommit {
                event_id,
                call: Some(record),
                bind_caller: identity.bind_caller,
                memories,
                episodes,
                now: now_millis(),
            },
            user_id: Some(identity.user_id),
            conversation_id: Some(data.conversation_id.clone()),
            outcome_label: "extracted",
        })
    }

    /// The call's turns redacted under `policy`: the stored ones (`stored`) when it is the
    /// transcript's policy, else redacted again from what was said, so a field stricter or
    /// laxer than the transcript gets exactly its own policy.
    fn turns_under<'a>(
        &self,
        data: &TranscriptionData,
        stored: &'a [Turn],
        policy: FieldPolicy,
    ) -> Cow<'a, [Turn]> {
        if policy == self.redaction.field(Field::TranscriptTurns) {
            Cow::Borrowed(stored)
        } else {
            Cow::Owned(call::turns(data, policy))
        }
    }

    /// The user's memories an extractor should compare against: those nearest to what the
    /// caller said (or the call summary, redacted as the extractor reads it), then the most
    /// salient, without repeats.
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
        // Embedded (perhaps by a remote model) as the extractor reads the call.
        let probe = self
            .redaction
            .field(Field::MemoryContent)
            .masking_drops()
            .apply(&probe)
            .into_owned();
        let filter = MemoryFilter::default();
        let mut seen = HashSet::new();
        let mut existing = Vec::new();
        if !probe.trim().is_empty() {
            let vectors = self
                .embedder
                .embed(&[probe.as_str()])
                .instrument(tracing::debug_span!("embedder", texts = 1))
                .await?;
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
}

pub(crate) fn empty_prepared(event_id: i64) -> Prepared {
    Prepared {
        commit: empty_commit(event_id),
        user_id: None,
        conversation_id: None,
        outcome_label: "recorded",
    }
}

pub(crate) fn empty_commit(event_id: i64) -> ExtractionCommit {
    ExtractionCommit {
        event_id,
        call: None,
        bind_caller: None,
        memories: Vec::new(),
        episodes: Vec::new(),
        now: now_millis(),
    }
}
