//! Prometheus metrics of the embedding worker.

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

/// Counters and timings of embedding, linking, summaries and recall.
#[derive(Clone)]
pub struct EmbeddingMetrics {
    stage: HistogramVec,
    batch: Histogram,
    embedded: IntCounter,
    links: IntCounterVec,
    recalled: IntCounter,
    summaries: IntCounterVec,
    errors: IntCounterVec,
}

impl EmbeddingMetrics {
    /// Registers the metrics on `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let stage = HistogramVec::new(
            HistogramOpts::new(
                "memvox_embedding_stage_seconds",
                "Time spent per embedding-worker stage and batch",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ]),
            &["stage"],
        )?;
        let batch = Histogram::with_opts(
            HistogramOpts::new(
                "memvox_embedding_batch_memories",
                "Memories embedded per batch (one embedder call)",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )?;
        let embedded = IntCounter::with_opts(Opts::new(
            "memvox_embedding_memories_total",
            "Memories embedded and stored",
        ))?;
        let links = IntCounterVec::new(
            Opts::new(
                "memvox_embedding_links_total",
                "Automatic similarity links written, by operation (created, strengthened)",
            ),
            &["op"],
        )?;
        let recalled = IntCounter::with_opts(Opts::new(
            "memvox_embedding_recalled_memories_total",
            "Memories reinforced because a query recalled them",
        ))?;
        let summaries = IntCounterVec::new(
            Opts::new(
                "memvox_embedding_summaries_total",
                "User summaries, by outcome (written, fallback, debounced)",
            ),
            &["outcome"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "memvox_embedding_errors_total",
                "Embedding-worker failures, by stage",
            ),
            &["stage"],
        )?;
        registry.register(Box::new(stage.clone()))?;
        registry.register(Box::new(batch.clone()))?;
        registry.register(Box::new(embedded.clone()))?;
        registry.register(Box::new(links.clone()))?;
        registry.register(Box::new(recalled.clone()))?;
        registry.register(Box::new(summaries.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        Ok(Self {
            stage,
            batch,
            embedded,
            links,
            recalled,
            summaries,
            errors,
        })
    }

    /// Records the duration of one stage (`load`, `embed`, `store`, `links`, `summary`).
    pub fn stage(&self, stage: &str, seconds: f64) {
        self.stage.with_label_values(&[stage]).observe(seconds);
    }

    /// Counts a batch of `n` memories embedded and stored.
    pub fn embedded(&self, n: usize) {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.batch.observe(n as f64);
        self.embedded.inc_by(n);
    }

    /// Counts links written by operation (`created`, `strengthened`).
    pub fn links(&self, op: &str, n: usize) {
        self.links
            .with_label_values(&[op])
            .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// Counts memories reinforced by recall.
    pub fn recalled(&self, n: u64) {
        self.recalled.inc_by(n);
    }

    /// Counts a summary outcome (`written`, `fallback`, `debounced`).
    pub fn summary(&self, outcome: &str) {
        self.summaries.with_label_values(&[outcome]).inc();
    }

    /// Counts a failure in a stage (`load`, `embed`, `store`, `links`, `summary`, `recall`).
    pub fn error(&self, stage: &str) {
        self.errors.with_label_values(&[stage]).inc();
    }
}
