//! Prometheus metrics of the bus.
//!
//! Owns the metric families and their labels. Gauges are refreshed from [`Bus::stats`] by
//! [`BusMetrics::refresh`], which services call periodically (workers scale on
//! `memvox_stream_lag`); the message counter and the two histograms (handler time per batch,
//! age of a message when it is acknowledged) are fed by the worker runner. Labels are logical
//! stream and group names only, never payload content, so cardinality stays tiny.

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::{Bus, BusError};

/// Upper bounds (seconds) of the handler time of one batch: milliseconds for an embedding
/// batch, seconds for an extraction batch that waits on a chat model.
const BATCH_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds (seconds) of a message's age when acknowledged: milliseconds when the workers
/// keep up, up to an hour behind a backlog or after retries.
const AGE_BUCKETS: [f64; 15] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0,
];

/// What happened to a message in a worker step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handled and acked.
    Processed,
    /// Failed and left pending for a later attempt.
    Retried,
    /// Moved to the dead-letter stream.
    DeadLettered,
}

impl Outcome {
    /// The `outcome` label value.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::Retried => "retried",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// The bus metric families, registered on one registry. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BusMetrics {
    length: IntGaugeVec,
    pending: IntGaugeVec,
    lag: IntGaugeVec,
    consumers: IntGaugeVec,
    dead_letters: IntGaugeVec,
    messages: IntCounterVec,
    batch_seconds: HistogramVec,
    message_age: HistogramVec,
}

fn histogram(name: &str, help: &str, buckets: &[f64]) -> Result<HistogramVec, prometheus::Error> {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        &["stream", "group"],
    )
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> Result<IntGaugeVec, prometheus::Error> {
    IntGaugeVec::new(Opts::new(name, help), labels)
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl BusMetrics {
    /// Creates the metric families and registers them on `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            length: gauge(
                "memvox_stream_length",
                "Entries in the stream.",
                &["stream"],
            )?,
            pending: gauge(
                "memvox_stream_pending",
                "Entries delivered to the group and not yet acknowledged.",
                &["stream", "group"],
            )?,
            lag: gauge(
                "memvox_stream_lag",
                "Entries in the stream not yet delivered to the group.",
                &["stream", "group"],
            )?,
            consumers: gauge(
                "memvox_stream_consumers",
                "Members known to the group (Redis keeps idle members until removed).",
                &["stream", "group"],
            )?,
            dead_letters: gauge(
                "memvox_stream_dead_letters",
                "Entries in the stream's dead-letter list.",
                &["stream"],
            )?,
            messages: IntCounterVec::new(
                Opts::new(
                    "memvox_bus_messages_total",
                    "Messages handled by workers, by outcome.",
                ),
                &["stream", "group", "outcome"],
            )?,
            batch_seconds: histogram(
                "memvox_bus_batch_seconds",
                "Time a worker's handler took for one batch of messages.",
                &BATCH_BUCKETS,
            )?,
            message_age: histogram(
                "memvox_bus_message_age_seconds",
                "Time from a message's first publish to its acknowledgement after processing \
                 (queueing, retries and handling).",
                &AGE_BUCKETS,
            )?,
        };
        registry.register(Box::new(metrics.length.clone()))?;
        registry.register(Box::new(metrics.pending.clone()))?;
        registry.register(Box::new(metrics.lag.clone()))?;
        registry.register(Box::new(metrics.consumers.clone()))?;
        registry.register(Box::new(metrics.dead_letters.clone()))?;
        registry.register(Box::new(metrics.messages.clone()))?;
        registry.register(Box::new(metrics.batch_seconds.clone()))?;
        registry.register(Box::new(metrics.message_age.clone()))?;
        Ok(metrics)
    }

    /// Records the handler time of one batch of `stream` / `group`.
    pub fn batch_handled(&self, stream: &str, group: &str, took: Duration) {
        self.batch_seconds
            .with_label_values(&[stream, group])
            .observe(took.as_secs_f64());
    }

    /// Records the age at `now_ms` of messages of `stream` / `group` first published at
    /// `first_seen_ms` and just acknowledged. A publisher's clock ahead of ours counts as 0.
    pub fn acknowledged(&self, stream: &str, group: &str, first_seen_ms: &[u64], now_ms: u64) {
        let age = self.message_age.with_label_values(&[stream, group]);
        for first_seen in first_seen_ms {
            age.observe(now_ms.saturating_sub(*first_seen) as f64 / 1000.0);
        }
    }

    /// Counts `n` messages of `stream` / `group` with `outcome`.
    pub fn record(&self, stream: &str, group: &str, outcome: Outcome, n: u64) {
        if n > 0 {
            self.messages
                .with_label_values(&[stream, group, outcome.label()])
                .inc_by(n);
        }
    }

    /// Sets the gauges of each of `streams` from the bus. A group whose lag the backend cannot
    /// tell keeps its previous lag value.
    pub async fn refresh(&self, bus: &dyn Bus, streams: &[&str]) -> Result<(), BusError> {
        for stream in streams {
            let stats = bus.stats(stream).await?;
            self.length
                .with_label_values(&[*stream])
                .set(clamp(stats.length));
            self.dead_letters
                .with_label_values(&[*stream])
                .set(clamp(stats.dead_letters));
            for g in &stats.groups {
                let labels = [*stream, g.group.as_str()];
                self.pending
                    .with_label_values(&labels)
                    .set(clamp(g.pending));
                self.consumers
                    .with_label_values(&labels)
                    .set(clamp(g.consumers));
                if let Some(lag) = g.lag {
                    self.lag.with_label_values(&labels).set(clamp(lag));
                }
            }
        }
        Ok(())
    }
}
