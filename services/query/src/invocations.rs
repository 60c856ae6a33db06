//! The tool-call log, kept off the hot path: handlers hand each [`ToolInvocation`] to a bounded
//! channel without waiting, and one task writes them to `tool_invocations` in batches (an
//! entry waits at most [`LINGER`] for others to join it).
//!
//! When the channel is full (the store is slower than the traffic) new entries are dropped with
//! a warning rather than slowing the caller down: the log is for audit and analytics, never for
//! correctness. The task ends once every sender is gone, after writing what it holds.

use std::{sync::Arc, time::Duration};

use memvox_store::{Store, ToolInvocation};
use tokio::{sync::mpsc, time::Instant};

/// Largest batch written in one store call.
pub const MAX_BATCH: usize = 256;

/// Sending side of the log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct InvocationLog {
    sender: mpsc::Sender<ToolInvocation>,
}

impl InvocationLog {
    /// Spawns the writer task on the current runtime, with room for `capacity` queued entries.
    pub fn start(store: Arc<dyn Store>, capacity: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        tokio::spawn(write_batches(receiver, store));
        Self { sender }
    }

    /// Queues an entry without waiting; drops it (with a warning) when the queue is full.
    pub fn record(&self, invocation: ToolInvocation) {
        if let Err(error) = self.sender.try_send(invocation) {
            tracing::warn!(%error, "tool invocation not logged");
        }
    }
}

/// How long the writer waits after an entry arrives for more to join its batch: at a steady
/// query rate the log costs one statement per interval, not one per few queries.
pub const LINGER: Duration = Duration::from_millis(200);

/// Writes queued entries in batches until every sender is dropped.
pub async fn write_batches(mut receiver: mpsc::Receiver<ToolInvocation>, store: Arc<dyn Store>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let deadline = Instant::now() + LINGER;
        while batch.len() < MAX_BATCH {
            let room = MAX_BATCH - batch.len();
            match tokio::time::timeout_at(deadline, receiver.recv_many(&mut batch, room)).await {
                Ok(received) if received > 0 => {}
                _ => break,
            }
        }
        if let Err(error) = store.log_tool_invocations(&batch).await {
            tracing::warn!(%error, entries = batch.len(), "tool invocations lost");
        }
        batch.clear();
    }
}
