//! Prometheus metrics of the bus.
//!
//! Owns the metric families and their labels. Gauges are refreshed from [`Bus::stats`] by
//! [`BusMetrics::refresh`], which services call periodically (workers scale on
//! `memvox_stream_lag`); the message counter is incremented by the worker runner. Labels are
//! logical stream and group names only, never payload content, so cardinality stays tiny.

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::{Bus, BusError};

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
        };
        registry.register(Box::new(metrics.length.clone()))?;
        registry.register(Box::new(metrics.pending.clone()))?;
        registry.register(Box::new(metrics.lag.clone()))?;
        registry.register(Box::new(metrics.consumers.clone()))?;
        registry.register(Box::new(metrics.dead_letters.clone()))?;
        registry.register(Box::new(metrics.messages.clone()))?;
        Ok(metrics)
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
