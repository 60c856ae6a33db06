//! Announcing the deliveries acknowledged into the store's ingest file (SQLite; see the
//! store's `Events::accept_events`): a task moves them into the events table as soon as they
//! are acknowledged, on the database's writer and off the acknowledgement path, then announces
//! the new rows on the events stream and queues their published marks, as the group commit
//! does for rows stored directly (`ingest::Announcer`).
//!
//! Nothing staged is lost: a move that fails is tried again (every [`RETRY`]), opening the
//! store moves what a stopped process left, and the outbox reconciler announces a moved row
//! whose announcement was lost.

use std::{
    sync::{Arc, Once, OnceLock},
    time::Duration,
};

use memvox_store::Store;
use tokio::sync::Notify;

use crate::Clock;
use crate::ingest::{Announcement, Announcer};

/// Staged deliveries moved per transaction.
const MOVE_LIMIT: usize = 256;

/// How long after a failed move the task tries again.
const RETRY: Duration = Duration::from_secs(1);

/// What moving and announcing needs.
#[derive(Clone)]
struct Mover {
    /// Held for a whole move, announcements included: one move at a time, and a drain returns
    /// only once the move in flight has announced its rows and queued their marks.
    moving: Arc<tokio::sync::Mutex<()>>,
    store: Arc<dyn Store>,
    announcer: Announcer,
}

/// The handle of the task that moves staged deliveries; cloned into every handler. The task
/// starts when the first delivery is staged (never on a store without an ingest file).
#[derive(Clone)]
pub struct StagedDeliveries {
    wake: Arc<Notify>,
    started: Arc<Once>,
    mover: Mover,
    /// Where the task runs (unset: the runtime of the first delivery staged); shared by the
    /// clones, so the group commit's copy starts the task where `on_runtime` said.
    runtime: Arc<OnceLock<tokio::runtime::Handle>>,
}

impl StagedDeliveries {
    /// The handle; its task is not started yet.
    pub(crate) fn new(store: Arc<dyn Store>, announcer: Announcer) -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            started: Arc::new(Once::new()),
            mover: Mover {
                moving: Arc::default(),
                store,
                announcer,
            },
            runtime: Arc::default(),
        }
    }

    /// This handle with its task run on `runtime` (`memvox serve` runs it beside the workers,
    /// at low priority: moving can wait, acknowledging cannot).
    /// Every clone of this handle shares it; the first runtime set stays.
    pub fn on_runtime(self, runtime: tokio::runtime::Handle) -> Self {
        let _ = self.runtime.set(runtime);
        self
    }

    /// A handle of its own (task not started) whose marks are dated by `clock`.
    pub(crate) fn with_clock(&self, clock: Clock) -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            started: Arc::new(Once::new()),
            mover: Mover {
                announcer: self.mover.announcer.with_clock(clock),
                ..self.mover.clone()
            },
            runtime: self.runtime.clone(),
        }
    }

    /// What announces the moved rows (the group commit announces with it too).
    pub(crate) fn announcer(&self) -> &Announcer {
        &self.mover.announcer
    }

    /// Tells the task a delivery was staged, starting it the first time (inside a Tokio
    /// runtime; it ends with the runtime).
    pub(crate) fn wake(&self) {
        self.started.call_once(|| {
            let task = move_when_woken(self.mover.clone(), self.wake.clone());
            match self.runtime.get() {
                Some(runtime) => drop(runtime.spawn(task)),
                None => drop(tokio::spawn(task)),
            }
        });
        self.wake.notify_one();
    }

    /// Moves and announces everything staged so far (a stopping process leaves nothing behind).
    ///
    /// # Errors
    /// The store's error when a move failed.
    pub async fn drain(&self) -> Result<(), memvox_store::StoreError> {
        while self.mover.move_some().await? {}
        Ok(())
    }
}

/// Moves staged deliveries whenever woken, until none is left.
async fn move_when_woken(mover: Mover, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        loop {
            match mover.move_some().await {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(%error, "staged deliveries not moved yet; trying again");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }
}

impl Mover {
    /// Moves the oldest staged deliveries and announces the new rows; whether any were staged.
    async fn move_some(&self) -> Result<bool, memvox_store::StoreError> {
        let _moving = self.moving.lock().await;
        let Some(moved) = self.store.move_staged(MOVE_LIMIT).await? else {
            return Ok(false);
        };
        let moved = moved
            .into_iter()
            .map(|event| Announcement {
                id: event.id,
                event_type: event.event_type,
                conversation_id: event.conversation_id,
                traceparent: event.traceparent,
            })
            .collect();
        self.announcer.expect(moved).announce().await;
        Ok(true)
    }
}
