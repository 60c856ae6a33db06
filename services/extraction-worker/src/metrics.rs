//! Prometheus metrics of the extraction worker.

use memvox_core::redact::PiiKind;
use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};

/// Counters and timings of extraction.
#[derive(Clone)]
pub struct ExtractionMetrics {
    memories: IntCounterVec,
    episodes: IntCounter,
    calls: IntCounterVec,
    stage: HistogramVec,
    identity_refused: IntCounterVec,
    memories_dropped: IntCounterVec,
}

impl ExtractionMetrics {
    /// Registers the metrics on `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let memories = IntCounterVec::new(
            Opts::new(
                "memvox_extraction_memories_total",
                "Memory changes committed by the extraction worker, by operation",
            ),
            &["op"],
        )?;
        let episodes = IntCounter::with_opts(Opts::new(
            "memvox_extraction_episodes_total",
            "Call episodes (a caller turn with the turns before it) stored by the extraction worker",
        ))?;
        let memories_dropped = IntCounterVec::new(
            Opts::new(
                "memvox_extraction_memories_dropped_total",
                "Extracted memories not stored because they held personal data the redaction \
                 policy drops from memory content, by kind",
            ),
            &["kind"],
        )?;
        let calls = IntCounterVec::new(
            Opts::new(
                "memvox_extraction_events_total",
                "Post-call events processed, by event type and outcome",
            ),
            &["type", "outcome"],
        )?;
        let stage = HistogramVec::new(
            HistogramOpts::new(
                "memvox_extraction_stage_seconds",
                "Time spent per extraction stage",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ]),
            &["stage"],
        )?;
        let identity_refused = IntCounterVec::new(
            Opts::new(
                "memvox_extraction_identity_refused_total",
                "Calls whose claimed identity was not taken, by reason",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(identity_refused.clone()))?;
        registry.register(Box::new(memories.clone()))?;
        registry.register(Box::new(episodes.clone()))?;
        registry.register(Box::new(calls.clone()))?;
        registry.register(Box::new(stage.clone()))?;
        registry.register(Box::new(memories_dropped.clone()))?;
        Ok(Self {
            memories_dropped,
            memories,
            episodes,
            calls,
            stage,
            identity_refused,
        })
    }

    /// Counts a call whose claimed identity was refused (`not_a_token`, `bad_signature`,
    /// `expired`, `wrong_agent`, `wrong_conversation`, `malformed`, `phone_mismatch`).
    pub fn identity_refused(&self, reason: &str) {
        self.identity_refused.with_label_values(&[reason]).inc();
    }

    /// Counts committed memory changes by operation (`add`, `update`, `supersede`, `reinforce`).
    pub fn memories(&self, op: &str, n: usize) {
        self.memories
            .with_label_values(&[op])
            .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// Counts `n` episodes stored.
    pub fn episodes(&self, n: usize) {
        self.episodes.inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// Counts an extracted memory not stored because it held personal data of `kind`, which the
    /// redaction policy drops from memory content.
    pub fn memory_dropped(&self, kind: PiiKind) {
        self.memories_dropped
            .with_label_values(&[kind.as_str()])
            .inc();
    }

    /// Counts a processed event (`outcome`: `extracted`, `no_identity`, `ignored_agent`,
    /// `recorded`, `repeat`, `erased`: its caller was erased, it was dropped).
    pub fn event(&self, event_type: &str, outcome: &str) {
        self.calls.with_label_values(&[event_type, outcome]).inc();
    }

    /// Records the duration of one stage (`existing`, `extract`, `plan`, `commit`).
    pub fn stage(&self, stage: &str, seconds: f64) {
        self.stage.with_label_values(&[stage]).observe(seconds);
    }
}
