//! One conversation at a time: from a list page's summary (or a pending row) to its
//! [`Outcome`], storing its event through the webhook's ingest when it is done and new.
//!
//! A page costs one query to find the conversations already stored (their details are never
//! fetched) and one write for those not done yet; the details of the rest are fetched
//! `concurrent_requests` at a time. A pending conversation that settled (imported, already
//! stored, failed, gone) is forgotten; one pending for longer than [`PENDING_MAX_AGE_MS`] too,
//! with a warning.

use futures::{StreamExt, stream};
use memvox_elevenlabs::EventKind;
use memvox_elevenlabs::api::ApiError;
use memvox_elevenlabs::conversations::{ConversationSummary, Readiness, transcription_event};
use memvox_store::{Erased, NewEvent, PendingConversation};

use super::report::Tally;
use super::{ImportError, Importer, Outcome};
use crate::ingest::{Recorded, record};

/// Most pending conversations looked at again per run.
const PENDING_PER_RUN: usize = 1_000;

/// How long a conversation may stay pending before it is given up (7 days, in ms): ElevenLabs
/// analyses a call within minutes of its end.
pub(crate) const PENDING_MAX_AGE_MS: i64 = 7 * 86_400_000;

/// The wire type of the events an import stores.
fn transcription_type() -> &'static str {
    EventKind::Transcription.wire_type().unwrap_or_default()
}

impl Importer {
    /// Imports the conversations of one list page; `settled_before` (unix seconds), when
    /// given, leaves calls that ended later to their webhook for now (not even pending).
    pub(crate) async fn import_page(
        &self,
        conversations: &[ConversationSummary],
        settled_before: Option<u64>,
        tally: &mut Tally<'_>,
    ) -> Result<(), ImportError> {
        let ids: Vec<String> = conversations
            .iter()
            .map(|c| c.conversation_id.clone())
            .collect();
        let stored = self
            .state
            .store
            .stored_conversations(transcription_type(), &ids)
            .await?;
        let mut not_yet = Vec::new();
        let mut ready = Vec::new();
        let mut settled = Vec::new();
        for summary in conversations {
            let id = &summary.conversation_id;
            let outcome = if stored.contains(id) {
                Outcome::Duplicate
            } else {
                match Readiness::of(&summary.status) {
                    Readiness::Never => Outcome::Skipped,
                    Readiness::NotYet => {
                        not_yet.push(pending(&summary.agent_id, id, self.state.clock.now()));
                        Outcome::Pending
                    }
                    Readiness::Ready
                        if settled_before.is_some_and(|t| summary.end_time_unix_secs() > t) =>
                    {
                        continue;
                    }
                    Readiness::Ready => {
                        ready.push(summary);
                        continue;
                    }
                }
            };
            if outcome.is_final() {
                settled.push(id.clone());
            }
            tally.count(id, outcome, &self.metrics);
        }
        self.state.store.add_pending_conversations(&not_yet).await?;
        let ready = ready
            .into_iter()
            .map(|s| (s.agent_id.clone(), s.conversation_id.clone()))
            .collect();
        self.import_and_settle(ready, settled, tally).await
    }

    /// Looks again at the conversations left pending, except those this run already looked at.
    pub(crate) async fn import_pending(&self, tally: &mut Tally<'_>) -> Result<(), ImportError> {
        let pending = self
            .state
            .store
            .pending_conversations(PENDING_PER_RUN)
            .await?;
        let oldest = self.state.clock.now().saturating_sub(PENDING_MAX_AGE_MS);
        let (expired, current): (Vec<_>, Vec<_>) = pending
            .iter()
            .filter(|p| !tally.looked_at(&p.conversation_id))
            .partition(|p| p.first_seen_at < oldest);
        let mut settled = Vec::new();
        for conversation in expired {
            let id = &conversation.conversation_id;
            tracing::warn!(conversation_id = %id, "conversation still not done a week after it was first listed: given up");
            settled.push(id.clone());
            tally.count(id, Outcome::Skipped, &self.metrics);
        }
        let ids: Vec<String> = current.iter().map(|p| p.conversation_id.clone()).collect();
        let stored = self
            .state
            .store
            .stored_conversations(transcription_type(), &ids)
            .await?;
        let (done, open): (Vec<_>, Vec<_>) = current
            .into_iter()
            .partition(|p| stored.contains(&p.conversation_id));
        for conversation in done {
            let id = &conversation.conversation_id;
            settled.push(id.clone());
            tally.count(id, Outcome::Duplicate, &self.metrics);
        }
        let open = open
            .into_iter()
            .map(|p| (p.agent_id.clone(), p.conversation_id.clone()))
            .collect();
        self.import_and_settle(open, settled, tally).await
    }

    /// Imports `(agent, conversation)` pairs, `concurrent_requests` at a time, then forgets the
    /// pending rows of those that settled, and of `settled`.
    async fn import_and_settle(
        &self,
        conversations: Vec<(String, String)>,
        mut settled: Vec<String>,
        tally: &mut Tally<'_>,
    ) -> Result<(), ImportError> {
        let mut outcomes = stream::iter(conversations)
            .map(|(agent, id)| self.import_owned(agent, id))
            .buffer_unordered(self.concurrent_requests.max(1));
        while let Some((id, outcome)) = outcomes.next().await {
            let outcome = outcome?;
            tally.count(&id, outcome, &self.metrics);
            if outcome.is_final() {
                settled.push(id);
            }
        }
        Ok(self
            .state
            .store
            .remove_pending_conversations(&settled)
            .await?)
    }

    /// [`Importer::import_one`] of owned ids, returning the conversation id with the outcome.
    async fn import_owned(
        &self,
        agent_id: String,
        conversation_id: String,
    ) -> (String, Result<Outcome, ImportError>) {
        let outcome = self.import_one(&agent_id, &conversation_id).await;
        (conversation_id, outcome)
    }

    /// Fetches one conversation's details and stores its event if it is done.
    async fn import_one(
        &self,
        agent_id: &str,
        conversation_id: &str,
    ) -> Result<Outcome, ImportError> {
        let store = &self.state.store;
        let now = self.state.clock.now();
        if store
            .is_erased(&[Erased::Conversation(conversation_id)], now)
            .await?
        {
            return Ok(Outcome::Erased);
        }
        let details = match self.client.details(conversation_id).await {
            Ok(details) => details,
            Err(ApiError::NotFound(_)) => return Ok(Outcome::Skipped),
            Err(error) if error.is_credentials() => return Err(error.into()),
            Err(error @ ApiError::GaveUp { .. }) => {
                tracing::warn!(%conversation_id, %error, "details not fetched; kept pending for the next import or poll");
                store
                    .add_pending_conversations(&[pending(agent_id, conversation_id, now)])
                    .await?;
                return Ok(Outcome::Pending);
            }
            Err(error) => {
                tracing::warn!(%conversation_id, %error, "conversation not imported");
                return Ok(Outcome::Failed);
            }
        };
        let event = match transcription_event(conversation_id, &details) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%conversation_id, %error, "conversation details do not fit the post-call model; not imported");
                return Ok(Outcome::Failed);
            }
        };
        match Readiness::of(&event.status) {
            Readiness::Ready => {}
            Readiness::Never => return Ok(Outcome::Skipped),
            Readiness::NotYet => {
                store
                    .add_pending_conversations(&[pending(agent_id, conversation_id, now)])
                    .await?;
                return Ok(Outcome::Pending);
            }
        }
        let event = NewEvent {
            event_type: transcription_type().to_owned(),
            conversation_id: event.conversation_id,
            event_timestamp: i64::try_from(event.event_timestamp).unwrap_or(i64::MAX),
            payload: event.payload,
            received_at: now,
            traceparent: None,
        };
        Ok(match record(&self.state, event).await? {
            Recorded::Stored | Recorded::Staged => Outcome::Imported,
            Recorded::Duplicate => Outcome::Duplicate,
            Recorded::Erased => Outcome::Erased,
        })
    }
}

/// A pending row for a conversation first seen at `now`.
fn pending(agent_id: &str, conversation_id: &str, now: i64) -> PendingConversation {
    PendingConversation {
        conversation_id: conversation_id.to_owned(),
        agent_id: agent_id.to_owned(),
        first_seen_at: now,
    }
}
