//! The gateway's Prometheus metrics, registered on the process registry.
//!
//! * `memvox_webhook_ack_seconds`: time from the request reaching the handler to the accepting
//!   200 being ready (accepted, duplicate and ignored deliveries; rejections are not
//!   acknowledgements). Buckets are dense below 10 ms, where the target (p99 < 5 ms) lives.
//! * `memvox_webhook_signature_rejections_total{reason}`: `missing`, `malformed`, `stale`,
//!   `future`, `mismatch`.
//! * `memvox_webhook_events_total{type,outcome}`: `outcome` is `accepted`, `duplicate`,
//!   `ignored`, `erased` (a delivery of an erased caller's conversation) or `unredacted_dropped`
//!   (an `unredacted_transcript` or `unredacted_audio` delivery that
//!   `privacy.unredacted_webhooks = "drop"` keeps out); undocumented event types are all
//!   counted as `type="unknown"` so a sender cannot create series at will.
//! * `memvox_webhook_publish_failures_total`: rows stored whose bus publish failed (the outbox
//!   reconciler publishes them later).
//! * `memvox_webhook_commit_deliveries` and `memvox_webhook_commit_seconds`: the deliveries
//!   stored by each group-commit transaction and how long it took (sealing, statements, commit):
//!   under load, whether acknowledgements wait for the transaction or for the queue before it.

use std::time::Duration;

use memvox_elevenlabs::EventKind;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

/// Upper bounds (seconds) of the acknowledgement histogram.
const ACK_BUCKETS: &[f64] = &[
    0.000_25, 0.000_5, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Upper bounds of the deliveries-per-transaction histogram (the group commit takes at most
/// `group_commit::MAX_BATCH`).
const COMMIT_SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 48.0, 64.0];

/// What a delivery came to, for `memvox_webhook_events_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Stored for the first time.
    Accepted,
    /// Already stored: a redelivery.
    Duplicate,
    /// An event type we do not process.
    Ignored,
    /// An event of an erased conversation: acknowledged, nothing stored or published.
    Erased,
    /// An unredacted variant (`unredacted_transcript`, `unredacted_audio`) that
    /// `privacy.unredacted_webhooks` does not store: acknowledged, nothing stored or published.
    Unredacted,
}

impl EventOutcome {
    /// The `outcome` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Erased => "erased",
            Self::Unredacted => "unredacted_dropped",
        }
    }
}

/// Handles to the gateway's metrics. Cheap to clone.
#[derive(Clone)]
pub struct GatewayMetrics {
    ack_seconds: Histogram,
    signature_rejections: IntCounterVec,
    events: IntCounterVec,
    publish_failures: IntCounter,
    commit_deliveries: Histogram,
    commit_seconds: Histogram,
}

impl GatewayMetrics {
    /// Creates the metrics and registers them on `registry`.
    ///
    /// # Errors
    /// If metrics of the same names are already registered there.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let ack_seconds = histogram(
            "memvox_webhook_ack_seconds",
            "Time to acknowledge a post-call webhook (accepted, duplicate or ignored)",
            ACK_BUCKETS,
        )?;
        let signature_rejections = IntCounterVec::new(
            Opts::new(
                "memvox_webhook_signature_rejections_total",
                "Post-call webhooks rejected by the signature check, by reason",
            ),
            &["reason"],
        )?;
        let events = IntCounterVec::new(
            Opts::new(
                "memvox_webhook_events_total",
                "Post-call webhooks acknowledged, by event type and outcome",
            ),
            &["type", "outcome"],
        )?;
        let publish_failures = IntCounter::new(
            "memvox_webhook_publish_failures_total",
            "Stored post-call events whose bus publish failed (left to the outbox reconciler)",
        )?;
        let commit_deliveries = histogram(
            "memvox_webhook_commit_deliveries",
            "Post-call deliveries stored by one group-commit transaction",
            COMMIT_SIZE_BUCKETS,
        )?;
        let commit_seconds = histogram(
            "memvox_webhook_commit_seconds",
            "Time of one group-commit transaction of post-call deliveries",
            ACK_BUCKETS,
        )?;
        registry.register(Box::new(ack_seconds.clone()))?;
        registry.register(Box::new(commit_deliveries.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(signature_rejections.clone()))?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(publish_failures.clone()))?;
        Ok(Self {
            ack_seconds,
            signature_rejections,
            events,
            publish_failures,
            commit_deliveries,
            commit_seconds,
        })
    }

    /// Records one acknowledged delivery and how long it took.
    pub(crate) fn acknowledged(&self, kind: EventKind, outcome: EventOutcome, took: Duration) {
        let kind = kind.wire_type().unwrap_or("unknown");
        self.events
            .with_label_values(&[kind, outcome.label()])
            .inc();
        self.ack_seconds.observe(took.as_secs_f64());
    }

    /// Records one signature rejection.
    pub(crate) fn signature_rejected(&self, reason: &str) {
        self.signature_rejections.with_label_values(&[reason]).inc();
    }

    /// Records one group-commit transaction of `deliveries` and how long it took.
    pub(crate) fn committed(&self, deliveries: usize, took: Duration) {
        self.commit_deliveries.observe(deliveries as f64);
        self.commit_seconds.observe(took.as_secs_f64());
    }

    /// Records one failed publish after a successful row write.
    pub(crate) fn publish_failed(&self) {
        self.publish_failures.inc();
    }
}

/// A histogram with these bounds.
fn histogram(name: &str, help: &str, buckets: &[f64]) -> Result<Histogram, prometheus::Error> {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
}
