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
//! commit does not hold up the deliveries behind it. Each delivery is answered after the transaction holding it commits,
//! never before. If a batch's transaction fails, its deliveries are written one by one, so one
//! that cannot be stored does not fail the others.

use std::sync::Arc;
use std::time::Instant;

use memvox_store::{Acceptance, NewEvent, Store, StoreError};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::GatewayMetrics;

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
    /// Starts the task that stores what is queued into `store`, each transaction counted in
    /// `metrics` (it ends when the last clone of the queue is dropped). Must be called inside a
    /// Tokio runtime.
    pub fn start(store: Arc<dyn Store>, metrics: GatewayMetrics) -> Self {
        let (waiting, queue) = mpsc::channel(MAX_BATCH * 4);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..store.concurrent_acceptances() {
            tokio::spawn(store_batches(store.clone(), metrics.clone(), queue.clone()));
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

/// Takes what is waiting (one storing task at a time), stores it in one transaction, answers
/// each; repeats.
async fn store_batches(
    store: Arc<dyn Store>,
    metrics: GatewayMetrics,
    queue: Arc<Mutex<mpsc::Receiver<Waiting>>>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.lock().await.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (events, answers): (Vec<NewEvent>, Vec<_>) =
            batch.drain(..).map(|w| (w.event, w.answer)).unzip();
        let started = Instant::now();
        let stored = store.accept_events(&events).await;
        metrics.committed(events.len(), started.elapsed());
        match stored {
            Ok(recorded) => {
                for (answer, recorded) in answers.into_iter().zip(recorded) {
                    // A handler that gave up waiting (client gone) needs no answer.
                    let _ = answer.send(Ok(recorded));
                }
            }
            Err(error) if events.len() == 1 => {
                let _ = answers.into_iter().next().map(|a| a.send(Err(error)));
            }
            Err(error) => {
                tracing::warn!(events = events.len(), %error, "group commit of deliveries failed: storing them one by one");
                for (answer, event) in answers.into_iter().zip(&events) {
                    let one = store.accept_events(std::slice::from_ref(event)).await;
                    let _ = answer.send(one.and_then(|mut accepted| {
                        accepted.pop().ok_or_else(|| {
                            StoreError::Corrupt("a batch of one delivery came back empty".into())
                        })
                    }));
                }
            }
        }
    }
}
