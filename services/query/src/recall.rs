//! Recall reinforcement, coalesced: a query hands the memories it returned to [`RecallLog`]
//! without waiting, and every `query.recall_flush_ms` one task announces, per caller, one
//! `MemoryRecalled` naming every memory returned to them since. The bus and the embedding
//! worker then see one message (and the store one write) per caller per interval instead of
//! one per query; a memory returned by several queries in one interval is reinforced once.
//!
//! Before announcing, the task asks the store whether the caller still exists: a caller erased
//! meanwhile (by this replica or another) is dropped, so no message names them after their
//! erasure. Reinforcement is best effort: what is pending when the process stops is lost.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use memvox_bus::{Bus, Envelope, Message};
use memvox_core::MemoryId;
use memvox_store::Store;

/// Recalled memories per caller, waiting for the next announcement.
type Pending = Mutex<HashMap<String, BTreeSet<MemoryId>>>;

/// The sending side: cheap to clone. The announcing task ends when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct RecallLog {
    pending: Arc<Pending>,
}

impl RecallLog {
    /// Starts the announcing task on the current runtime, every `interval`.
    pub fn start(bus: Arc<dyn Bus>, store: Arc<dyn Store>, interval: Duration) -> Self {
        let pending = Arc::new(Pending::default());
        tokio::spawn(announce_every(
            Arc::downgrade(&pending),
            bus,
            store,
            interval,
        ));
        Self { pending }
    }

    /// Notes that `memories` were returned to `user_id` (none: nothing to announce).
    pub fn record(&self, user_id: &str, memories: impl IntoIterator<Item = MemoryId>) {
        let mut memories = memories.into_iter().peekable();
        if memories.peek().is_none() {
            return;
        }
        if let Ok(mut pending) = self.pending.lock() {
            pending
                .entry(user_id.to_owned())
                .or_default()
                .extend(memories);
        }
    }

    /// Drops what is pending for an erased user.
    pub fn forget(&self, user_id: &str) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(user_id);
        }
    }
}

/// Announces what is pending every `interval` until the log is dropped.
async fn announce_every(
    pending: Weak<Pending>,
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    interval: Duration,
) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(pending) = pending.upgrade() else {
            return;
        };
        let due = match pending.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return,
        };
        drop(pending);
        for (user_id, memories) in due {
            announce(bus.as_ref(), store.as_ref(), user_id, memories).await;
        }
    }
}

/// One caller's recalled memories, announced unless the caller is gone.
async fn announce(bus: &dyn Bus, store: &dyn Store, user_id: String, memories: BTreeSet<MemoryId>) {
    match store.user_version(&user_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "recall not announced: the store did not answer");
            return;
        }
    }
    let message = Message::MemoryRecalled {
        user_id,
        memory_ids: memories.into_iter().collect(),
    };
    if let Err(error) = bus
        .publish(
            message.stream(),
            &Envelope::new(message)
                .with_trace_context(memvox_telemetry::trace::current_traceparent()),
        )
        .await
    {
        tracing::warn!(%error, "recall not announced: the bus did not answer");
    }
}
