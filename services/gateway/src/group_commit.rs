//! Group commit of the acknowledgement path: deliveries that arrive while a write is in flight
//! are stored together in the next transaction (`Events::accept_events`), so concurrent
//! deliveries pay for one write transaction — and, on SQLite, one turn at the ingest file's
//! writer — instead of one each.
//!
//! There is no linger: a storing task takes whatever is waiting (up to [`MAX_BATCH`]) as soon
//! as its previous transaction has committed, so a lone delivery is written at once and a burst
//! forms its own batches. There are as many storing tasks as the store runs such transactions
//! at once (`Events::concurrent_acceptances`): one on SQLite, whose ingest file has one writer;
//! several on PostgreSQL, which flushes concurrent commits together, so a batch waiting for its
//! commit does not hold up the deliveries behind it. Each delivery is answered after the
//! transaction holding it commits, never before; the events it stored are then announced
//! together (`ingest::Announcer`), in a task of their own, so the next batch does not wait for
//! the bus. If a batch's transaction fails, its deliveries are written one by one, so one that
//! cannot be stored does not fail the others.

use std::sync::Arc;
use std::time::Instant;

use memvox_store::{Acceptance, NewEvent, Store, StoreError};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::ingest::{Announcement, Announcer};
use crate::{GatewayMetrics, StagedDeliveries};

/// Most deliveries stored in one transaction.
pub const MAX_BATCH: usize = 64;

/// What the store made of one delivery.
type Outcome = Result<Acceptance, StoreError>;

/// A delivery waiting for its transaction.
struct Waiting {
    event: NewEvent,
    answer: oneshot::Sender<Outcome>,
}

/// The queue of deliveries waiting to be stored; cloned into every handler.
#[derive(Clone)]
pub struct GroupCommit {
    waiting: mpsc::Sender<Waiting>,
}

impl GroupCommit {
    /// Starts the tasks that store what is queued into `store`, each transaction counted in
    /// `metrics`, announce what they stored in the events table with `announcer` and wake
    /// `staged` for what they stored in the ingest file (they end when the last clone of the
    /// queue is dropped). Must be called inside a Tokio runtime.
    pub(crate) fn start(
        store: Arc<dyn Store>,
        metrics: GatewayMetrics,
        announcer: Announcer,
        staged: StagedDeliveries,
    ) -> Self {
        let (waiting, queue) = mpsc::channel(MAX_BATCH * 4);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..store.concurrent_acceptances() {
            let storing = Storing {
                store: store.clone(),
                metrics: metrics.clone(),
                announcer: announcer.clone(),
                staged: staged.clone(),
            };
            tokio::spawn(storing.run(queue.clone()));
        }
        Self { waiting }
    }

    /// Stores `event` with whatever else is waiting; resolves once its transaction committed.
    /// `Err(None)` when the storing task is gone (the process is shutting down).
    pub async fn record(&self, event: NewEvent) -> Result<Acceptance, Option<StoreError>> {
        let (answer, answered) = oneshot::channel();
        self.waiting
            .send(Waiting { event, answer })
            .await
            .map_err(|_| None)?;
        answered.await.map_err(|_| None)?.map_err(Some)
    }
}

/// What a storing task needs.
struct Storing {
    store: Arc<dyn Store>,
    metrics: GatewayMetrics,
    announcer: Announcer,
    staged: StagedDeliveries,
}

impl Storing {
    /// Takes what is waiting (one storing task at a time), stores it in one transaction,
    /// answers each, announces those stored; repeats.
    async fn run(self, queue: Arc<Mutex<mpsc::Receiver<Waiting>>>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while queue.lock().await.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let (events, answers): (Vec<NewEvent>, Vec<_>) =
                batch.drain(..).map(|w| (w.event, w.answer)).unzip();
            let started = Instant::now();
            let stored = self.store.accept_events(&events).await;
            self.metrics.committed(events.len(), started.elapsed());
            match stored {
                Ok(accepted) => self.answer(&events, answers, accepted),
                Err(error) if events.len() == 1 => {
                    let _ = answers.into_iter().next().map(|a| a.send(Err(error)));
                }
                Err(error) => {
                    tracing::warn!(events = events.len(), %error, "group commit of deliveries failed: storing them one by one");
                    for (answer, event) in answers.into_iter().zip(events) {
                        let one = self.store.accept_events(std::slice::from_ref(&event)).await;
                        match one {
                            Ok(accepted) => self.answer(&[event], vec![answer], accepted),
                            Err(error) => drop(answer.send(Err(error))),
                        }
                    }
                }
            }
        }
    }

    /// Answers each delivery of a committed transaction, after counting the published marks of
    /// those it stored, then announces them in a task of their own.
    fn answer(
        &self,
        events: &[NewEvent],
        answers: Vec<oneshot::Sender<Outcome>>,
        accepted: Vec<Acceptance>,
    ) {
        if accepted.len() != answers.len() {
            let error = || StoreError::Corrupt("a batch of deliveries came back short".into());
            answers.into_iter().for_each(|a| drop(a.send(Err(error()))));
            return;
        }
        let stored: Vec<Announcement> = events
            .iter()
            .zip(&accepted)
            .filter_map(|(event, accepted)| match accepted {
                Acceptance::Stored(id) => Some(Announcement {
                    id: *id,
                    event_type: event.event_type.clone(),
                    conversation_id: event.conversation_id.clone(),
                    traceparent: event.traceparent.clone(),
                }),
                _ => None,
            })
            .collect();
        if accepted.contains(&Acceptance::Staged) {
            self.staged.wake();
        }
        let expected = (!stored.is_empty()).then(|| self.announcer.expect(stored));
        for (answer, accepted) in answers.into_iter().zip(accepted) {
            // A handler that gave up waiting (client gone) needs no answer.
            let _ = answer.send(Ok(accepted));
        }
        if let Some(expected) = expected {
            tokio::spawn(expected.announce());
        }
    }
}
