//! The embedding step for a batch of messages from the `memories` stream.
//!
//! - `MemoriesChanged`: embed every changed memory of the batch in one embedder call, store the
//!   vectors, link each memory to the user's memories with cosine above the threshold (both
//!   directions, weight = similarity, at most N per memory; an existing link is strengthened, not
//!   duplicated; one neighbour search per user and one link write per batch), and refresh each
//!   user's summary once per batch (debounced per user; the users' summaries are written in one
//!   transaction). Episodes (windows of a call's
//!   transcript) are embedded with the facts (their spoken text, without speaker labels) but
//!   neither linked nor summarised: links and the
//!   summary belong to the compact layer of facts.
//! - `MemoryRecalled`: the query service returned these memories; recency restarts and salience
//!   rises a little (written here, never on the query's hot path).
//! - `UserErased` (no longer published; entries from before): acknowledged.
//!
//! After a batch of changed memories (whatever its outcome: part of it may be stored), the cache
//! version of each user concerned is bumped: this is when new memories become searchable, so
//! no query may serve an answer computed before. Recall reinforcement does not bump (it would
//! invalidate every answer the moment it is served).
//!
//! Every effect is idempotent (vectors are replaced, links upserted), so a redelivered batch
//! leaves the same state.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Instant,
};

use async_trait::async_trait;
use futures::future::try_join_all;
use memvox_ai::{Embedder, Summarizer, Summary, SummaryMemory};
use memvox_bus::{Envelope, Handler, HandlerError, Message};
use memvox_config::WorkerSettings;
use memvox_core::episode::spoken_text;
use memvox_core::{LinkKind, Memory, MemoryId, MemoryKind, MemoryLink, UnixMillis, now_millis};
use memvox_store::{MemoryFilter, MemoryOrder, Store, StoreError};
use memvox_telemetry::trace::{continue_trace, continue_traces};
use tracing::Instrument as _;

use crate::metrics::EmbeddingMetrics;

/// Salience added to a memory each time a query returns it.
const RECALL_BUMP: f64 = 0.02;

/// Memories a user summary is written from.
const SUMMARY_MEMORIES: usize = 10;

/// Consumes the memories stream.
pub struct EmbeddingHandler {
    /// System of record.
    pub store: Arc<dyn Store>,
    /// The embedding model.
    pub embedder: Arc<dyn Embedder>,
    /// Writes user summaries.
    pub summarizer: Arc<dyn Summarizer>,
    /// Thresholds and debounce.
    pub settings: WorkerSettings,
    /// Last summary time per user, for the debounce.
    pub summarized: Mutex<HashMap<String, UnixMillis>>,
    /// Metrics.
    pub metrics: EmbeddingMetrics,
}

/// A handler failure with `reason`, which is stored with a dead letter and logged: it must
/// quote nothing a provider said or a model wrote (callers pass `summary()`s of those errors).
fn failure(reason: impl std::fmt::Display, retryable: bool) -> HandlerError {
    if retryable {
        HandlerError::Retryable(reason.to_string())
    } else {
        HandlerError::Permanent(reason.to_string())
    }
}

/// Most vectors written in one transaction: a batch of calls carries hundreds (facts and
/// episodes), and a shorter write hands SQLite's single writer back to the gateway's
/// acknowledgements sooner. Each vector's write stands alone, so splitting loses nothing.
const VECTORS_PER_WRITE: usize = 128;

fn store_failure(error: StoreError) -> HandlerError {
    let retryable = error.retryable();
    failure(error, retryable)
}

#[async_trait]
impl Handler for EmbeddingHandler {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(envelope))
            .await
            .pop()
            .unwrap_or(Err(HandlerError::Retryable("no outcome".into())))
    }

    async fn handle_batch(&self, batch: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        let mut changed: BTreeMap<String, Vec<MemoryId>> = BTreeMap::new();
        for envelope in batch {
            if let Message::MemoriesChanged {
                user_id,
                memory_ids,
                ..
            } = &envelope.message
            {
                changed
                    .entry(user_id.clone())
                    .or_default()
                    .extend(memory_ids);
            }
        }
        // One embedder call for the batch: its span continues the first message's trace and
        // links the others'.
        let span = tracing::debug_span!("embed_memories", messages = batch.len());
        continue_traces(
            &span,
            batch
                .iter()
                .filter(|e| matches!(e.message, Message::MemoriesChanged { .. }))
                .map(|e| e.traceparent.as_deref()),
        );
        let embedded = if changed.is_empty() {
            Ok(())
        } else {
            self.embed_changed(&changed).instrument(span.clone()).await
        };
        let mut outcomes = Vec::with_capacity(batch.len());
        for envelope in batch {
            outcomes.push(match &envelope.message {
                Message::MemoriesChanged { .. } => embedded.clone(),
                Message::MemoryRecalled {
                    user_id,
                    memory_ids,
                } => self.recall(user_id, memory_ids).await,
                Message::UserErased { .. } => Ok(()),
                Message::EventAccepted { .. } => Err(HandlerError::Permanent(
                    "the memories stream does not carry EventAccepted".into(),
                )),
            });
        }
        if embedded.is_ok() {
            mark_queryable(batch, &span);
        }
        outcomes
    }
}

/// Ends each changed-memories message's trace with a `memories_queryable` span: from here on
/// its memories are found by vector search.
fn mark_queryable(batch: &[Envelope], embedded: &tracing::Span) {
    for envelope in batch {
        if let Message::MemoriesChanged { memory_ids, .. } = &envelope.message {
            let span = tracing::debug_span!("memories_queryable", memories = memory_ids.len());
            continue_trace(&span, envelope.traceparent.as_deref());
            span.follows_from(embedded);
            // Dropped at once: a zero-length span that marks the moment.
        }
    }
}

impl EmbeddingHandler {
    /// Embeds, links and summarises every changed memory of a batch: one embedder call, one
    /// vector write, one neighbour search per user, one link write, one summary per user.
    async fn embed_changed(
        &self,
        changed: &BTreeMap<String, Vec<MemoryId>>,
    ) -> Result<(), HandlerError> {
        let started = Instant::now();
        let memories = self
            .load(changed)
            .await
            .inspect_err(|_| self.metrics.error("load"))?;
        self.metrics.stage("load", started.elapsed().as_secs_f64());
        if memories.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let texts: Vec<std::borrow::Cow<'_, str>> = memories
            .iter()
            .map(|m| match m.kind {
                MemoryKind::Fact => m.content.as_str().into(),
                MemoryKind::Episode => spoken_text(&m.content).into(),
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let vectors = self
            .embedder
            .embed(&texts)
            .instrument(tracing::debug_span!("embedder", texts = texts.len()))
            .await
            .map_err(|e| {
                self.metrics.error("embed");
                failure(e.summary(), e.retryable())
            })?;
        self.metrics.stage("embed", started.elapsed().as_secs_f64());
        let started = Instant::now();
        let now = now_millis();
        let pairs: Vec<(MemoryId, Vec<f32>)> = memories.iter().map(|m| m.id).zip(vectors).collect();
        for chunk in pairs.chunks(VECTORS_PER_WRITE) {
            self.store
                .store_embeddings(chunk, now)
                .instrument(tracing::debug_span!(
                    "store_embeddings",
                    vectors = chunk.len()
                ))
                .await
                .map_err(|e| self.store_error("store", e))?;
        }
        self.metrics.stage("store", started.elapsed().as_secs_f64());
        self.metrics.embedded(pairs.len());
        let started = Instant::now();
        let facts: Vec<Memory> = memories
            .into_iter()
            .filter(|m| m.kind == MemoryKind::Fact)
            .collect();
        self.link(&facts, now).await?;
        self.metrics.stage("links", started.elapsed().as_secs_f64());
        let users: BTreeSet<&str> = facts.iter().map(|m| m.user_id.as_str()).collect();
        self.summarize(&users, now).await
    }

    /// The changed memories that still exist, each once: one read per user.
    async fn load(
        &self,
        changed: &BTreeMap<String, Vec<MemoryId>>,
    ) -> Result<Vec<Memory>, HandlerError> {
        let mut memories = Vec::new();
        for (user_id, ids) in changed {
            let unique: Vec<MemoryId> = ids
                .iter()
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut found = self
                .store
                .get_memories(user_id, &unique)
                .await
                .map_err(store_failure)?;
            found.sort_by_key(|m| m.id);
            memories.extend(found);
        }
        Ok(memories)
    }

    /// Links each memory to the user's similar memories, both ways: one neighbour search per
    /// user, then one write for the whole batch. A pair found from both ends is one link.
    async fn link(&self, memories: &[Memory], now: UnixMillis) -> Result<(), HandlerError> {
        let mut by_user: BTreeMap<&str, Vec<MemoryId>> = BTreeMap::new();
        for memory in memories {
            by_user.entry(&memory.user_id).or_default().push(memory.id);
        }
        let mut weights: BTreeMap<(MemoryId, MemoryId), f64> = BTreeMap::new();
        for (user_id, ids) in by_user {
            let found = self
                .store
                .similar_memories(
                    user_id,
                    &ids,
                    &MemoryFilter::default(),
                    self.settings.link_threshold,
                    self.settings.max_links_per_memory,
                )
                .await
                .map_err(|e| self.store_error("links", e))?;
            for hit in found {
                let weight = hit.similarity.min(1.0);
                for pair in [(hit.memory, hit.neighbour), (hit.neighbour, hit.memory)] {
                    let slot = weights.entry(pair).or_insert(weight);
                    *slot = slot.max(weight);
                }
            }
        }
        if weights.is_empty() {
            return Ok(());
        }
        let sources: Vec<MemoryId> = weights.keys().map(|(source, _)| *source).collect();
        let existing: HashSet<(MemoryId, MemoryId)> = self
            .store
            .links_from(&sources)
            .await
            .map_err(|e| self.store_error("links", e))?
            .into_iter()
            .map(|link| (link.source, link.target))
            .collect();
        let links: Vec<MemoryLink> = weights
            .into_iter()
            .map(|((source, target), weight)| MemoryLink {
                source,
                target,
                weight,
                kind: LinkKind::Automatic,
            })
            .collect();
        self.store
            .upsert_links(&links, now)
            .await
            .map_err(|e| self.store_error("links", e))?;
        let strengthened = links
            .iter()
            .filter(|l| existing.contains(&(l.source, l.target)))
            .count();
        self.metrics.links("created", links.len() - strengthened);
        self.metrics.links("strengthened", strengthened);
        Ok(())
    }

    /// Rewrites the summary of each user not summarised within the debounce interval: their
    /// top memories read and summarised concurrently, then one write for them all.
    async fn summarize(&self, users: &BTreeSet<&str>, now: UnixMillis) -> Result<(), HandlerError> {
        let debounce = i64::try_from(self.settings.summary_debounce_ms).unwrap_or(i64::MAX);
        let due: Vec<&str> = {
            let summarized = self
                .summarized
                .lock()
                .map_err(|_| failure("summary debounce lock poisoned", true))?;
            users
                .iter()
                .copied()
                .filter(|user_id| {
                    let recent = summarized
                        .get(*user_id)
                        .is_some_and(|last| now - last < debounce);
                    if recent {
                        self.metrics.summary("debounced");
                    }
                    !recent
                })
                .collect()
        };
        if due.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let written = try_join_all(due.iter().map(|user_id| self.summary_of(user_id))).await?;
        let summaries: Vec<(String, String)> = written
            .into_iter()
            .flatten()
            .map(|(user_id, summary)| {
                self.metrics.summary(if summary.fallback_reason.is_some() {
                    "fallback"
                } else {
                    "written"
                });
                (user_id, summary.text)
            })
            .collect();
        self.store
            .write_user_summaries(&summaries)
            .await
            .map_err(|e| self.store_error("summary", e))?;
        let per_user = started.elapsed().as_secs_f64() / due.len() as f64;
        for _ in &due {
            self.metrics.stage("summary", per_user);
        }
        if let Ok(mut summarized) = self.summarized.lock() {
            for (user_id, _) in summaries {
                summarized.insert(user_id, now);
            }
        }
        Ok(())
    }

    /// A new summary of the user's top memories; `None` when they have none.
    async fn summary_of(&self, user_id: &str) -> Result<Option<(String, Summary)>, HandlerError> {
        let top = self
            .store
            .list_memories(
                user_id,
                &MemoryFilter::default(),
                MemoryOrder::Salience,
                SUMMARY_MEMORIES,
            )
            .await
            .map_err(|e| self.store_error("summary", e))?;
        if top.is_empty() {
            return Ok(None);
        }
        let inputs: Vec<SummaryMemory> = top.iter().map(SummaryMemory::from).collect();
        let summary = self
            .summarizer
            .summarize_user(&inputs)
            .instrument(tracing::debug_span!("summariser", memories = inputs.len()))
            .await
            .map_err(|e| {
                self.metrics.error("summary");
                failure(e.summary(), e.is_retryable())
            })?;
        Ok(Some((user_id.to_owned(), summary)))
    }

    /// Applies recall reinforcement to a user's memories.
    async fn recall(&self, user_id: &str, ids: &[MemoryId]) -> Result<(), HandlerError> {
        let touched = self
            .store
            .reinforce_memories(user_id, ids, RECALL_BUMP, now_millis())
            .await
            .map_err(|e| self.store_error("recall", e))?;
        self.metrics.recalled(touched);
        Ok(())
    }

    /// Counts a store failure in `stage` and classifies it.
    fn store_error(&self, stage: &str, error: StoreError) -> HandlerError {
        self.metrics.error(stage);
        store_failure(error)
    }
}
