//! The proxy's metrics: what each request got as context, why a request went without memories
//! (fail-open), how long the memory lookup and the upstream took, and how the upstream failed.
//! The HTTP middleware's histogram gives the proxy's own answer time (to its response headers,
//! which for a stream is the upstream's first byte).

use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};

/// What a request's context turned out to be (`memvox_llm_proxy_requests_total{context}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextOutcome {
    /// Memories were added.
    Added,
    /// The caller is known but nothing of theirs matched.
    NoMemories,
    /// No caller could be identified (or the agent is not served): forwarded unchanged.
    UnknownCaller,
    /// The request has no user message with text to look memories up for.
    NoUserMessage,
    /// The lookup was late, failed or could not start: forwarded unchanged.
    FailedOpen(FailOpen),
}

/// Why a request went upstream without its lookup's memories
/// (`memvox_llm_proxy_failed_open_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOpen {
    /// The lookup missed `query.llm_proxy.budget_ms` (it finishes in the background).
    Timeout,
    /// The store or the embedder failed.
    Error,
    /// `query.llm_proxy.max_lookups` lookups were already running.
    Busy,
}

impl ContextOutcome {
    /// Its label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::NoMemories => "no_memories",
            Self::UnknownCaller => "unknown_caller",
            Self::NoUserMessage => "no_user_message",
            Self::FailedOpen(_) => "failed_open",
        }
    }
}

impl FailOpen {
    /// Its label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Error => "error",
            Self::Busy => "busy",
        }
    }
}

/// The proxy's metrics. They start unregistered; [`ProxyMetrics::register`] adds them.
#[derive(Debug, Clone)]
pub struct ProxyMetrics {
    /// `memvox_llm_proxy_requests_total{context}`: requests forwarded, by what their context
    /// was (`added`, `no_memories`, `unknown_caller`, `no_user_message`, `failed_open`).
    pub requests: IntCounterVec,
    /// `memvox_llm_proxy_failed_open_total{reason}`: requests forwarded without memories
    /// because the lookup was late (`timeout`), failed (`error`) or had no slot (`busy`).
    pub failed_open: IntCounterVec,
    /// `memvox_llm_proxy_lookup_seconds`: the memory lookup (caller, embedding, ranking), to
    /// its end even when that is past the budget.
    pub lookup: Histogram,
    /// `memvox_llm_proxy_upstream_seconds`: from sending to the upstream to its response
    /// headers.
    pub upstream: Histogram,
    /// `memvox_llm_proxy_upstream_errors_total{reason}`: `unavailable`, `timeout`,
    /// `credentials` (the upstream refused memvox's key), `server_error`, `rate_limited`,
    /// `client_error` (another 4xx, passed back), `stream` (cut mid-stream).
    pub upstream_errors: IntCounterVec,
}

impl Default for ProxyMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ProxyMetrics {
    /// Fresh, unregistered metrics.
    pub fn new() -> Self {
        let counter = |name: &str, help: &str, label: &str| {
            IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid metric")
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric")
        };
        Self {
            requests: counter(
                "memvox_llm_proxy_requests_total",
                "Custom-LLM proxy requests forwarded, by what their memory context was",
                "context",
            ),
            failed_open: counter(
                "memvox_llm_proxy_failed_open_total",
                "Custom-LLM proxy requests forwarded without memories because the lookup was \
                 late, failed or had no slot",
                "reason",
            ),
            lookup: histogram(
                "memvox_llm_proxy_lookup_seconds",
                "Memory lookup of a custom-LLM proxy request, to its end",
                vec![0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 1.0],
            ),
            upstream: histogram(
                "memvox_llm_proxy_upstream_seconds",
                "Time from forwarding a request to the upstream's response headers",
                vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
            ),
            upstream_errors: counter(
                "memvox_llm_proxy_upstream_errors_total",
                "Custom-LLM proxy requests the upstream failed, by how",
                "reason",
            ),
        }
    }

    /// Counts a forwarded request with its context outcome.
    pub fn forwarded(&self, outcome: ContextOutcome) {
        self.requests.with_label_values(&[outcome.label()]).inc();
        if let ContextOutcome::FailedOpen(reason) = outcome {
            self.failed_open.with_label_values(&[reason.label()]).inc();
        }
    }

    /// Counts an upstream failure.
    pub fn upstream_failed(&self, reason: &str) {
        self.upstream_errors.with_label_values(&[reason]).inc();
    }

    /// Records a lookup's duration.
    pub fn looked_up(&self, took: Duration) {
        self.lookup.observe(took.as_secs_f64());
    }

    /// Registers every metric in `registry`.
    ///
    /// # Errors
    /// A metric of the same name is already registered.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.requests.clone()))?;
        registry.register(Box::new(self.failed_open.clone()))?;
        registry.register(Box::new(self.lookup.clone()))?;
        registry.register(Box::new(self.upstream.clone()))?;
        registry.register(Box::new(self.upstream_errors.clone()))
    }
}
