//! Test harnesses: one per bus implementation, plus the fakes the cases share.
//!
//! A harness gives a case a bus with tiny idle and backoff times, a way to write raw (possibly
//! malformed) entries, and isolation: each Redis harness uses its own random key prefix and deletes
//! every key under it when dropped, even if the test panicked.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use memvox_bus::{
    BatchReport, Bus, BusSettings, Envelope, HandlerError, InProcessBus, Message, OutboxError,
    OutboxRow, OutboxSource, RedisBus, RetryPolicy, WorkerConfig, worker::Handler,
};
use memvox_testkit::{KeyPrefix, redis_url};

/// Claim idle time used by every case: tiny, so redeliveries happen within the test.
pub const CLAIM_IDLE: Duration = Duration::from_millis(50);
/// Bound on every polling loop; reaching it fails the test instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// What every implementation provides to the shared cases.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The bus under test.
    fn bus(&self) -> Arc<dyn Bus>;
    /// Another bus over the same storage namespace with different settings.
    fn bus_with(&self, settings: BusSettings) -> Arc<dyn Bus>;
    /// Writes a raw payload, bypassing envelope encoding.
    async fn publish_raw(&self, stream: &str, payload: &str);
}

/// Settings used by the harnesses.
pub fn test_settings() -> BusSettings {
    BusSettings {
        redis_url: redis_url(),
        maxlen: 10_000,
        block_ms: 10,
        batch_size: 10,
        claim_idle_ms: 50,
        max_attempts: 3,
        backoff_base_ms: 10,
        backoff_max_ms: 40,
        pool_size: 16,
        ..BusSettings::default()
    }
}

/// Worker configuration for the cases: short block, tiny idle and backoff.
pub fn worker_config(stream: &str, group: &str, consumer: &str) -> WorkerConfig {
    WorkerConfig {
        stream: stream.into(),
        group: group.into(),
        consumer: consumer.into(),
        batch_size: 10,
        block: Duration::from_millis(10),
        claim_idle: CLAIM_IDLE,
        retry: RetryPolicy::new(Duration::from_millis(10), Duration::from_millis(40), 3),
    }
}

/// The in-process bus.
pub struct InProcessHarness {
    bus: InProcessBus,
}

impl InProcessHarness {
    /// A fresh in-process bus.
    pub fn new() -> Self {
        Self {
            bus: InProcessBus::new(test_settings().maxlen),
        }
    }
}

#[async_trait]
impl Harness for InProcessHarness {
    fn bus(&self) -> Arc<dyn Bus> {
        Arc::new(self.bus.clone())
    }
    fn bus_with(&self, settings: BusSettings) -> Arc<dyn Bus> {
        Arc::new(InProcessBus::new(settings.maxlen))
    }
    async fn publish_raw(&self, stream: &str, payload: &str) {
        self.bus.publish_raw(stream, payload);
    }
}

/// The Redis bus under a random prefix, cleaned up on drop.
pub struct RedisHarness {
    bus: RedisBus,
    settings: BusSettings,
    client: redis::Client,
    /// Deletes every key under the prefix when the harness drops, even if the test panicked.
    _prefix: KeyPrefix,
}

impl RedisHarness {
    /// Connects to the test Redis; fails the test if it is not running.
    pub async fn new() -> Self {
        let prefix = KeyPrefix::new("test");
        let settings = BusSettings {
            key_prefix: prefix.to_string(),
            ..test_settings()
        };
        let bus = RedisBus::connect(&settings).await.unwrap_or_else(|e| {
            panic!(
                "Redis is required at {} (MEMVOX_TEST_REDIS_URL): {e}",
                settings.redis_url
            )
        });
        let client = redis::Client::open(settings.redis_url.as_str()).unwrap();
        Self {
            bus,
            settings,
            client,
            _prefix: prefix,
        }
    }

    /// The concrete bus, for Redis-only cases.
    pub fn redis_bus(&self) -> &RedisBus {
        &self.bus
    }

    /// A direct connection, for writing entries the bus would never write.
    pub async fn raw_connection(&self) -> redis::aio::MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

#[async_trait]
impl Harness for RedisHarness {
    fn bus(&self) -> Arc<dyn Bus> {
        Arc::new(self.bus.clone())
    }
    fn bus_with(&self, settings: BusSettings) -> Arc<dyn Bus> {
        let settings = BusSettings {
            key_prefix: self.settings.key_prefix.clone(),
            redis_url: self.settings.redis_url.clone(),
            ..settings
        };
        Arc::new(RedisBus::new(&settings).unwrap())
    }
    async fn publish_raw(&self, stream: &str, payload: &str) {
        let mut conn = self.raw_connection().await;
        let key = self.bus.keys().stream(stream);
        let _: String = redis::cmd("XADD")
            .arg(key)
            .arg("*")
            .arg("kind")
            .arg("raw")
            .arg("envelope")
            .arg(payload)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

/// An `EventAccepted` for event `n`.
pub fn event(n: i64) -> Envelope {
    Envelope::new(Message::EventAccepted {
        event_id: n,
        event_type: "post_call_transcription".into(),
        conversation_id: format!("conv_{n}"),
    })
}

/// The event id of an `EventAccepted` envelope.
pub fn event_id(envelope: &Envelope) -> i64 {
    match &envelope.message {
        Message::EventAccepted { event_id, .. } => *event_id,
        other => panic!("not an event: {other:?}"),
    }
}

/// How the recording handler answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every message succeeds.
    Succeed,
    /// Every message fails, retryably.
    Retry,
    /// Every message fails permanently.
    Permanent,
}

/// A handler that records what it saw and answers according to its mode.
pub struct Recorder {
    seen: Mutex<Vec<Envelope>>,
    mode: Mutex<Mode>,
    outbox: Option<Arc<MemOutbox>>,
}

impl Recorder {
    /// A recorder answering with `mode`.
    pub fn new(mode: Mode) -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::new(Vec::new()),
            mode: Mutex::new(mode),
            outbox: None,
        })
    }

    /// A succeeding recorder that marks events finished in `outbox`, like the extraction worker.
    pub fn finishing(outbox: Arc<MemOutbox>) -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::new(Vec::new()),
            mode: Mutex::new(Mode::Succeed),
            outbox: Some(outbox),
        })
    }

    /// Changes how later messages are answered.
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Everything handled so far, in order.
    pub fn seen(&self) -> Vec<Envelope> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.seen.lock().unwrap().push(envelope.clone());
        let mode = *self.mode.lock().unwrap();
        match mode {
            Mode::Succeed => {
                if let (Some(outbox), Message::EventAccepted { event_id, .. }) =
                    (&self.outbox, &envelope.message)
                {
                    outbox.finish(*event_id);
                }
                Ok(())
            }
            Mode::Retry => Err(HandlerError::Retryable("dependency timed out".into())),
            Mode::Permanent => Err(HandlerError::Permanent("references nothing".into())),
        }
    }
}

/// Totals over several worker steps.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    /// Sum of every step's counters.
    pub sum: BatchReport,
    /// Steps taken.
    pub steps: usize,
}

impl Totals {
    fn add(&mut self, r: BatchReport) {
        self.steps += 1;
        self.sum.claimed += r.claimed;
        self.sum.read += r.read;
        self.sum.lost += r.lost;
        self.sum.processed += r.processed;
        self.sum.retried += r.retried;
        self.sum.dead_lettered += r.dead_lettered;
    }
}

/// Runs worker steps until `done` holds for the totals, failing after [`DEADLINE`].
pub async fn drive_until(worker: &memvox_bus::Worker, done: impl Fn(&Totals) -> bool) -> Totals {
    let start = Instant::now();
    let mut totals = Totals::default();
    while !done(&totals) {
        assert!(
            start.elapsed() < DEADLINE,
            "condition not reached; totals so far: {totals:?}"
        );
        totals.add(worker.process_batch().await.unwrap());
    }
    totals
}

/// Runs worker steps until one finds nothing to do.
pub async fn drive_until_idle(worker: &memvox_bus::Worker) -> Totals {
    let start = Instant::now();
    let mut totals = Totals::default();
    loop {
        assert!(start.elapsed() < DEADLINE, "worker never went idle");
        let report = worker.process_batch().await.unwrap();
        totals.add(report);
        if report.is_idle() {
            return totals;
        }
    }
}

struct OutboxEntry {
    message: Message,
    first_seen_ms: u64,
    last_published_ms: u64,
    finished: bool,
}

/// An in-memory outbox standing in for the store's raw event table.
#[derive(Default)]
pub struct MemOutbox {
    rows: Mutex<BTreeMap<i64, OutboxEntry>>,
}

impl MemOutbox {
    /// Records an accepted event, as the gateway does before publishing it.
    pub fn accept(&self, id: i64, at_ms: u64) -> Envelope {
        let envelope = event(id);
        self.rows.lock().unwrap().insert(
            id,
            OutboxEntry {
                message: envelope.message.clone(),
                first_seen_ms: at_ms,
                last_published_ms: at_ms,
                finished: false,
            },
        );
        envelope
    }

    /// Marks an event's effects committed.
    pub fn finish(&self, id: i64) {
        if let Some(row) = self.rows.lock().unwrap().get_mut(&id) {
            row.finished = true;
        }
    }

    /// Ids of events not finished yet.
    pub fn unfinished(&self) -> Vec<i64> {
        let rows = self.rows.lock().unwrap();
        rows.iter()
            .filter(|(_, r)| !r.finished)
            .map(|(id, _)| *id)
            .collect()
    }
}

#[async_trait]
impl OutboxSource for MemOutbox {
    async fn unfinished_before(
        &self,
        cutoff_unix_ms: u64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, OutboxError> {
        let rows = self.rows.lock().unwrap();
        Ok(rows
            .iter()
            .filter(|(_, r)| !r.finished && r.last_published_ms < cutoff_unix_ms)
            .take(limit)
            .map(|(id, r)| OutboxRow {
                id: *id,
                message: r.message.clone(),
                first_seen_ms: r.first_seen_ms,
                traceparent: None,
            })
            .collect())
    }

    async fn mark_republished(&self, ids: &[i64], now_unix_ms: u64) -> Result<(), OutboxError> {
        let mut rows = self.rows.lock().unwrap();
        for id in ids {
            if let Some(row) = rows.get_mut(id) {
                row.last_published_ms = now_unix_ms;
            }
        }
        Ok(())
    }
}
