//! Marking rows as published: after the acknowledgement, in batches (group commit).
//!
//! `published_at` only tells the outbox reconciler that a row needs no re-publishing; losing a
//! mark costs at most one duplicate message, which consumers tolerate. So the mark is not on the
//! acknowledgement path: a mark is counted before the 200 is sent and its id queued once its
//! event is published, and whichever task finds no flush running becomes the flusher and, every
//! [`MARK_LINGER`], writes every queued id in one statement, until the queue is empty. Under
//! load, one write marks many rows instead of one write each.
//!
//! Invariant: a mark is counted as outstanding from [`PublishedMarks::expect`] — before its
//! delivery is acknowledged and its event published — until a flush has written it (or failed
//! to) or its publish failed, so [`PublishedMarks::settled`] waits for every mark expected
//! before it was called.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

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
    /// Counts `count` marks whose events are not published yet; the [`ExpectedMarks`] queues
    /// those published and finishes the rest.
    pub(crate) fn expect(self: &Arc<Self>, count: usize) -> ExpectedMarks {
        self.outstanding.fetch_add(count, Ordering::AcqRel);
        ExpectedMarks {
            marks: self.clone(),
            count,
        }
    }

    /// Counts `done` outstanding marks as finished.
    fn finished(&self, done: usize) {
        if self.outstanding.fetch_sub(done, Ordering::AcqRel) == done {
            self.settled.notify_waiters();
        }
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
            self.finished(ids.len());
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

/// Marks counted as outstanding before their events were published: those published are
/// queued by [`ExpectedMarks::queue`]; the others (publish failed, task cut off) are no longer
/// outstanding once it is called or this is dropped.
pub(crate) struct ExpectedMarks {
    marks: Arc<PublishedMarks>,
    count: usize,
}

impl ExpectedMarks {
    /// Queues `ids` (at most the expected number) to be marked; they stay outstanding until
    /// written.
    pub(crate) fn queue(mut self, ids: Vec<i64>) {
        let queued = ids.len().min(self.count);
        self.count -= queued;
        self.marks.pending().extend(ids.into_iter().take(queued));
    }
}

impl Drop for ExpectedMarks {
    fn drop(&mut self) {
        if self.count > 0 {
            self.marks.finished(self.count);
        }
    }
}
