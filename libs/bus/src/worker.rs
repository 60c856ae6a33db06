//! The worker runner: one consumer-group member that turns stream entries into handler calls.
//!
//! Owns the [`Handler`] trait services implement, and [`Worker`], whose single step
//! [`Worker::process_batch`] does, in order:
//! 1. **claim** entries of the group idle for at least `claim_idle` (a dead member's, or failed
//!    ones whose retry delay has passed — see [`crate::retry`]);
//! 2. **read** new entries to fill the batch (blocking only if nothing was claimed);
//! 3. **dead-letter** malformed entries and entries already delivered more than `max_attempts`
//!    times (a message that crashes its worker never reaches a failure branch otherwise; the
//!    handler is told of those, [`Handler::abandoned`], after they are dead-lettered);
//! 4. **handle** the rest, then **ack** the successes, **schedule a retry** (leave pending, set
//!    idle) for retryable failures with attempts left, and dead-letter the others.
//!
//! [`Worker::run`] loops over the step until its cancellation token fires; it then stops reading
//! (cancelling a blocked read) but lets a batch already being handled finish and ack. Anything
//! left unacked is reclaimed by another member after `claim_idle`.
//!
//! Invariant: an entry is acked only after the handler returned `Ok` for it, so a handler must
//! return only once its effects are committed, and must be idempotent.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::{
    Bus, BusError, BusMetrics, BusSettings, Delivery, EntryId, Envelope, Outcome, now_unix_ms,
    retry::{Decision, HandlerError, RetryPolicy},
};

/// What a service implements to consume a stream.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Handles one message; returns once its effects are committed.
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError>;

    /// Handles a batch, returning one outcome per message in order. The default calls
    /// [`Handler::handle`] for each; override it to batch work (e.g. one embedding request). A
    /// missing outcome counts as a retryable failure.
    async fn handle_batch(&self, batch: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for envelope in batch {
            outcomes.push(self.handle(envelope).await);
        }
        outcomes
    }

    /// Told that the runner dead-lettered `envelope` without handling it, because it was
    /// delivered more than the allowed number of times (its handler may crash on it, or kill
    /// the process). The default does nothing; a handler whose messages stand for rows
    /// elsewhere marks them, so that nothing publishes the message again.
    async fn abandoned(&self, _envelope: &Envelope, _reason: &str) {}
}

/// Where a worker reads and how it behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Logical stream to consume.
    pub stream: String,
    /// Consumer group (one per consuming service).
    pub group: String,
    /// This member's name, unique among live members (see [`unique_consumer_name`]).
    pub consumer: String,
    /// Maximum entries per step.
    pub batch_size: usize,
    /// How long a read waits for new entries when nothing was claimed.
    pub block: Duration,
    /// Idle time after which a pending entry is claimed.
    pub claim_idle: Duration,
    /// Backoff and maximum attempts.
    pub retry: RetryPolicy,
}

impl WorkerConfig {
    /// A configuration for `stream` / `group` / `consumer` taking the rest from `settings`.
    pub fn new(settings: &BusSettings, stream: &str, group: &str, consumer: &str) -> Self {
        Self {
            stream: stream.to_owned(),
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            batch_size: settings.batch_size.max(1),
            block: settings.block(),
            claim_idle: settings.claim_idle(),
            retry: settings.retry_policy(),
        }
    }
}

/// A consumer name unique to this process: `<service>-<HOSTNAME or "local">-<pid>-<random>`.
pub fn unique_consumer_name(service: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".to_owned());
    let suffix: u16 = rand::random();
    format!("{service}-{host}-{}-{suffix:04x}", std::process::id())
}

/// How much one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Entries claimed from the pending list (redeliveries).
    pub claimed: usize,
    /// New entries read.
    pub read: usize,
    /// Pending entries found trimmed away (left to the outbox reconciler).
    pub lost: usize,
    /// Entries handled successfully and acked.
    pub processed: usize,
    /// Entries that failed and were left pending for another attempt.
    pub retried: usize,
    /// Entries moved to the dead-letter stream.
    pub dead_lettered: usize,
}

impl BatchReport {
    /// Whether the step found nothing to do.
    pub fn is_idle(&self) -> bool {
        self.claimed + self.read + self.lost == 0
    }
}

/// One member of a consumer group running a [`Handler`].
pub struct Worker {
    bus: Arc<dyn Bus>,
    handler: Arc<dyn Handler>,
    config: WorkerConfig,
    metrics: Option<BusMetrics>,
    group_ready: AtomicBool,
}

/// A failed delivery and what the policy decided for it.
type Failure = (Delivery, Decision);

impl Worker {
    /// A worker consuming with `handler`; the group is created on the first step if missing.
    pub fn new(bus: Arc<dyn Bus>, handler: Arc<dyn Handler>, config: WorkerConfig) -> Self {
        Self {
            bus,
            handler,
            config,
            metrics: None,
            group_ready: AtomicBool::new(false),
        }
    }

    /// Counts outcomes in `memvox_bus_messages_total` and records the handler time of each
    /// batch and the age of each message it acknowledges.
    pub fn with_metrics(mut self, metrics: BusMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// This worker's configuration.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Claims stale entries, reads new ones, handles them, and acks / retries / dead-letters each.
    pub async fn process_batch(&self) -> Result<BatchReport, BusError> {
        self.step(None).await
    }

    /// Runs steps until `shutdown` is cancelled. Bus errors are logged and the step is retried
    /// after a backoff; they never end the loop.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let pause = match self.step(Some(&shutdown)).await {
                Ok(report) => {
                    failures = 0;
                    // A zero block would otherwise spin on an empty stream.
                    (report.is_idle() && self.config.block.is_zero())
                        .then(|| self.config.retry.ceiling(1))
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let delay = self.config.retry.ceiling(failures);
                    tracing::warn!(stream = %self.config.stream, group = %self.config.group, error = %e, ?delay, "worker step failed");
                    Some(delay)
                }
            };
            if let Some(delay) = pause {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }

    async fn step(&self, shutdown: Option<&CancellationToken>) -> Result<BatchReport, BusError> {
        let c = &self.config;
        if !self.group_ready.load(Ordering::Acquire) {
            self.bus.ensure_group(&c.stream, &c.group).await?;
            self.group_ready.store(true, Ordering::Release);
        }
        match self.try_step(shutdown).await {
            Err(BusError::NoGroup { .. }) => {
                tracing::warn!(stream = %c.stream, group = %c.group, "consumer group vanished (stream deleted?); recreating it");
                self.bus.ensure_group(&c.stream, &c.group).await?;
                self.try_step(shutdown).await
            }
            other => other,
        }
    }

    async fn try_step(
        &self,
        shutdown: Option<&CancellationToken>,
    ) -> Result<BatchReport, BusError> {
        let c = &self.config;
        let claimed = self
            .bus
            .claim(&c.stream, &c.group, &c.consumer, c.claim_idle, c.batch_size)
            .await?;
        let mut report = BatchReport {
            claimed: claimed.deliveries.len(),
            lost: claimed.lost.len(),
            ..BatchReport::default()
        };
        let mut deliveries = claimed.deliveries;
        if deliveries.len() < c.batch_size {
            let block = if deliveries.is_empty() {
                c.block
            } else {
                Duration::ZERO
            };
            let want = c.batch_size - deliveries.len();
            let read = self.bus.read(&c.stream, &c.group, &c.consumer, want, block);
            let fresh = match shutdown {
                Some(token) => tokio::select! {
                    biased;
                    () = token.cancelled() => Vec::new(),
                    r = read => r?,
                },
                None => read.await?,
            };
            report.read = fresh.len();
            deliveries.extend(fresh);
        }
        self.dispatch(deliveries, &mut report).await?;
        Ok(report)
    }

    /// Sorts deliveries into unhandleable and handleable, runs the handler, applies outcomes.
    async fn dispatch(
        &self,
        deliveries: Vec<Delivery>,
        report: &mut BatchReport,
    ) -> Result<(), BusError> {
        let max = self.config.retry.max_attempts();
        let mut failures: Vec<Failure> = Vec::new();
        let mut abandoned: Vec<(Envelope, String)> = Vec::new();
        let mut runnable = Vec::new();
        for d in deliveries {
            match &d.envelope {
                Err(e) => {
                    let reason = format!("malformed entry: {e}");
                    failures.push((d, Decision::DeadLetter(reason)));
                }
                Ok(envelope) if d.delivery_count > max => {
                    let reason = format!(
                        "delivered {} times without completing (max {max}); its worker may have crashed on it",
                        d.delivery_count
                    );
                    abandoned.push((envelope.clone(), reason.clone()));
                    failures.push((d, Decision::DeadLetter(reason)));
                }
                Ok(envelope) => {
                    let envelope = envelope.clone();
                    runnable.push((d, envelope));
                }
            }
        }
        let envelopes: Vec<Envelope> = runnable.iter().map(|(_, e)| e.clone()).collect();
        let mut outcomes = if envelopes.is_empty() {
            Vec::new()
        } else {
            let started = Instant::now();
            let outcomes = self.handler.handle_batch(&envelopes).await;
            if let Some(m) = &self.metrics {
                m.batch_handled(&self.config.stream, &self.config.group, started.elapsed());
            }
            outcomes
        };
        outcomes.resize_with(envelopes.len(), || {
            Err(HandlerError::Retryable(
                "handler returned no outcome".into(),
            ))
        });
        let mut done: Vec<EntryId> = Vec::new();
        let mut done_first_seen: Vec<u64> = Vec::new();
        {
            let mut rng = rand::rng();
            for ((d, envelope), outcome) in runnable.into_iter().zip(outcomes) {
                match outcome {
                    Ok(()) => {
                        done.push(d.id);
                        done_first_seen.push(envelope.first_seen_ms);
                    }
                    Err(e) => {
                        let decision = self.config.retry.decide(d.delivery_count, &e, &mut rng);
                        failures.push((d, decision));
                    }
                }
            }
        }
        let c = &self.config;
        if !done.is_empty() {
            self.bus.ack(&c.stream, &c.group, &done).await?;
            report.processed += done.len();
            self.record(Outcome::Processed, done.len());
            if let Some(m) = &self.metrics {
                m.acknowledged(&c.stream, &c.group, &done_first_seen, now_unix_ms());
            }
        }
        for (d, decision) in failures {
            self.apply(&d, decision, report).await?;
        }
        for (envelope, reason) in abandoned {
            self.handler.abandoned(&envelope, &reason).await;
        }
        Ok(())
    }

    async fn apply(
        &self,
        d: &Delivery,
        decision: Decision,
        report: &mut BatchReport,
    ) -> Result<(), BusError> {
        let c = &self.config;
        let kind = d.envelope.as_ref().map_or("?", |e| e.kind());
        match decision {
            Decision::Retry(delay) => {
                // Looks idle for claim_idle − delay now, so the claim step takes it after `delay`.
                let idle = c.claim_idle.saturating_sub(delay);
                self.bus
                    .set_idle(&c.stream, &c.group, &c.consumer, &d.id, idle)
                    .await?;
                tracing::info!(stream = %c.stream, group = %c.group, id = %d.id, kind, attempt = d.delivery_count, ?delay, "message failed; retrying later");
                report.retried += 1;
                self.record(Outcome::Retried, 1);
            }
            Decision::DeadLetter(reason) => {
                let dead = self.bus.dead_letter(&c.group, d, &reason).await?;
                tracing::warn!(stream = %c.stream, group = %c.group, id = %d.id, dead_letter = %dead, kind, attempts = d.delivery_count, %reason, "message dead-lettered");
                report.dead_lettered += 1;
                self.record(Outcome::DeadLettered, 1);
            }
        }
        Ok(())
    }

    fn record(&self, outcome: Outcome, n: usize) {
        if let Some(m) = &self.metrics {
            m.record(&self.config.stream, &self.config.group, outcome, n as u64);
        }
    }
}
