//! Marking rows as published: after the acknowledgement, in batches (group commit).
//!
//! `published_at` only tells the outbox reconciler that a row needs no re-publishing; losing a
//! mark costs at most one duplicate message, which consumers tolerate. So the mark is not on the
//! acknowledgement path: an id is queued before the 200 is sent, and whichever request task finds
//! no flush running becomes the flusher and, every [`MARK_LINGER`], writes every queued id in one
//! statement, until the queue is empty. Under load, one write marks many rows instead of one
//! write each.
//!
//! Invariant: an id is counted as outstanding from [`PublishedMarks::enqueue`] until a flush has
//! written it (or failed to), so [`PublishedMarks::settled`] waits for every mark queued before
//! it was called.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use memvox_store::Store;
use tokio::sync::Notify;

use crate::Clock;

/// How long the flusher lets marks gather before each write: at a steady rate the marks cost
/// one statement per interval (on SQLite, one turn of the single writer the acknowledgements
/// also need), not one per few requests. Far below the reconciler's grace period.
pub(crate) const MARK_LINGER: std::time::Duration = std::time::Duration::from_millis(100);

/// Queue of published event ids waiting for their `published_at` mark.
#[derive(Debug, Default)]
pub struct PublishedMarks {
    pending: Mutex<Vec<i64>>,
    flushing: AtomicBool,
    outstanding: AtomicUsize,
    settled: Notify,
}

impl PublishedMarks {
    /// Queues `id` to be marked.
    pub(crate) fn enqueue(&self, id: i64) {
        self.outstanding.fetch_add(1, Ordering::AcqRel);
        self.pending().push(id);
    }

    /// Writes queued marks unless another task is already doing so.
    pub(crate) async fn flush(&self, store: &dyn Store, clock: &Clock) {
        if self.flushing.swap(true, Ordering::AcqRel) {
            return;
        }
        loop {
            tokio::time::sleep(MARK_LINGER).await;
            let ids = std::mem::take(&mut *self.pending());
            if ids.is_empty() {
                self.flushing.store(false, Ordering::Release);
                // An id queued after the take but before the release found a flush running and
                // left: take the flush back unless someone else already has.
                if self.pending().is_empty() || self.flushing.swap(true, Ordering::AcqRel) {
                    return;
                }
                continue;
            }
            if let Err(error) = store.mark_events_published(&ids, clock.now()).await {
                tracing::warn!(
                    count = ids.len(),
                    error = %error,
                    "events published but not marked; the reconciler may publish them again"
                );
            }
            if self.outstanding.fetch_sub(ids.len(), Ordering::AcqRel) == ids.len() {
                self.settled.notify_waiters();
            }
        }
    }

    /// Resolves once every mark queued so far has been written (or has failed).
    pub async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            if self.outstanding.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
