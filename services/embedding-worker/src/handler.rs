//! The embedding step for a batch of messages from the `memories` stream.
//!
//! - `MemoriesChanged`: embed every changed memory of the batch in one embedder call, store the
//!   vectors, link each memory to the user's memories with cosine above the threshold (both
//!   directions, weight = similarity, at most N per memory; an existing link is strengthened, not
//!   duplicated), and refresh the user's summary (debounced per user).
//! - `MemoryRecalled`: the query service returned these memories; recency restarts and salience
//!   rises a little (written here, never on the query's hot path).
//! - `UserErased`: nothing is left to do in the store; acknowledged.
//!
//! After a batch of changed memories (whatever its outcome: part of it may be stored), the cache
//! version of each user concerned is bumped: this is when new memories become searchable, so
//! no query may serve an answer computed before. Recall reinforcement does not bump (it would
//! invalidate every answer the moment it is served).
//!
//! Every effect is idempotent (vectors are replaced, links upserted), so a redelivered batch
//! leaves the same state.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use memvox_ai::{Embedder, Summarizer, SummaryMemory};
use memvox_bus::{Envelope, Handler, HandlerError, Message, now_unix_ms};
use memvox_cache::Versions;
use memvox_config::WorkerSettings;
use memvox_core::{LinkKind, Memory, MemoryId, MemoryLink, UnixMillis};
use memvox_store::{MemoryFilter, MemoryOrder, Store, StoreError};

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
    /// Per-user cache versions, bumped after each batch of changed memories.
    pub versions: Versions,
}

fn failure(error: impl std::fmt::Display, retryable: bool) -> HandlerError {
    if retryable {
        HandlerError::Retryable(error.to_string())
    } else {
        HandlerError::Permanent(error.to_string())
    }
}

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
        let embedded = self.embed_changed(&changed).await;
        for user_id in changed.keys() {
            self.versions.bump(user_id).await;
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for envelope in batch {
            outcomes.push(match &envelope.message {
                Message::MemoriesChanged { .. } => embedded.clone(),
                Message::MemoryRecalled {
                    user_id,
                    memory_ids,
                } => self
                    .store
                    .reinforce_memories(user_id, memory_ids, RECALL_BUMP, now())
                    .await
                    .map(|_| ())
                    .map_err(store_failure),
                Message::UserErased { .. } => Ok(()),
                Message::EventAccepted { .. } => Err(HandlerError::Permanent(
                    "the memories stream does not carry EventAccepted".into(),
                )),
            });
        }
        outcomes
    }
}

impl EmbeddingHandler {
    /// Embeds, links and summarises every changed memory of a batch.
    async fn embed_changed(
        &self,
        changed: &BTreeMap<String, Vec<MemoryId>>,
    ) -> Result<(), HandlerError> {
        let mut memories: Vec<Memory> = Vec::new();
        for (user_id, ids) in changed {
            for id in ids {
                if let Some(memory) = self
                    .store
                    .get_memory(user_id, *id)
                    .await
                    .map_err(store_failure)?
                    && !memories.iter().any(|m| m.id == memory.id)
                {
                    memories.push(memory);
                }
            }
        }
        if memories.is_empty() {
            return Ok(());
        }
        let texts: Vec<&str> = memories.iter().map(|m| m.content.as_str()).collect();
        let vectors = self.embedder.embed(&texts).await.map_err(|e| {
            let retryable = e.retryable();
            failure(e, retryable)
        })?;
        let now = now();
        let pairs: Vec<(MemoryId, Vec<f32>)> = memories
            .iter()
            .map(|m| m.id)
            .zip(vectors.iter().cloned())
            .collect();
        self.store
            .store_embeddings(&pairs, now)
            .await
            .map_err(store_failure)?;
        for (memory, vector) in memories.iter().zip(&vectors) {
            self.link(memory, vector, now).await?;
        }
        for user_id in changed.keys() {
            self.summarize(user_id, now).await?;
        }
        Ok(())
    }

    /// Links `memory` to the user's similar memories, both ways.
    async fn link(
        &self,
        memory: &Memory,
        vector: &[f32],
        now: UnixMillis,
    ) -> Result<(), HandlerError> {
        let limit = self.settings.max_links_per_memory + 1;
        let hits = self
            .store
            .search_memories(&memory.user_id, vector, &MemoryFilter::default(), limit)
            .await
            .map_err(store_failure)?;
        let mut links = Vec::new();
        for hit in hits
            .iter()
            .filter(|h| h.memory.id != memory.id && h.similarity > self.settings.link_threshold)
            .take(self.settings.max_links_per_memory)
        {
            let weight = hit.similarity.min(1.0);
            links.push(MemoryLink {
                source: memory.id,
                target: hit.memory.id,
                weight,
                kind: LinkKind::Automatic,
            });
            links.push(MemoryLink {
                source: hit.memory.id,
                target: memory.id,
                weight,
                kind: LinkKind::Automatic,
            });
        }
        if !links.is_empty() {
            self.store
                .upsert_links(&links, now)
                .await
                .map_err(store_failure)?;
        }
        Ok(())
    }

    /// Rewrites the user's summary unless one was written within the debounce interval.
    async fn summarize(&self, user_id: &str, now: UnixMillis) -> Result<(), HandlerError> {
        let debounce = i64::try_from(self.settings.summary_debounce_ms).unwrap_or(i64::MAX);
        {
            let summarized = self
                .summarized
                .lock()
                .map_err(|_| failure("summary debounce lock poisoned", true))?;
            if summarized
                .get(user_id)
                .is_some_and(|last| now - last < debounce)
            {
                return Ok(());
            }
        }
        let top = self
            .store
            .list_memories(
                user_id,
                &MemoryFilter::default(),
                MemoryOrder::Salience,
                SUMMARY_MEMORIES,
            )
            .await
            .map_err(store_failure)?;
        if top.is_empty() {
            return Ok(());
        }
        let inputs: Vec<SummaryMemory> = top.iter().map(SummaryMemory::from).collect();
        let summary = self.summarizer.summarize_user(&inputs).await.map_err(|e| {
            let retryable = e.is_retryable();
            failure(e, retryable)
        })?;
        self.store
            .update_user_profile(user_id, None, Some(&summary.text))
            .await
            .map_err(store_failure)?;
        if let Ok(mut summarized) = self.summarized.lock() {
            summarized.insert(user_id.to_owned(), now);
        }
        Ok(())
    }
}

fn now() -> UnixMillis {
    i64::try_from(now_unix_ms()).unwrap_or(i64::MAX)
}
