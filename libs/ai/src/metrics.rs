//! Prometheus metrics of the requests memvox makes to model APIs (OpenAI-compatible
//! `/embeddings` and `/chat/completions`): how many, how they ended, how long each took and the
//! tokens the provider counted.
//!
//! Owns the three families, labelled by `operation` (`embed`, `extract`, `summarize`) and the
//! configured `model`:
//! - `memvox_ai_requests_total{operation,model,outcome}`, one per HTTP request (each retry
//!   counts), `outcome` one of `ok`, `unavailable` (429, 5xx, connection error), `timeout`,
//!   `rejected` (other 4xx, exhausted quota, bad settings), `invalid` (an answer that is not a
//!   usable response) or `abandoned` (the caller stopped waiting, e.g. a summary past its
//!   deadline, which cancels the request);
//! - `memvox_ai_request_duration_seconds{operation,model}`, the time of each request;
//! - `memvox_ai_tokens_total{operation,model,kind}`, the `usage` the provider reported
//!   (`kind` `prompt` or `completion`).
//!
//! The collectors are process-wide: model clients are built before the process's registry
//! exists (the store opens in the embedder's space) and `memvox serve` shares them between its
//! services. [`register_metrics`] adds them to a registry; registering them again in the same
//! registry is not an error, so each service that builds model clients may call it. Local models
//! (static, hashing, MiniLM) make no request and count nothing here.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Upper bounds (seconds) of the request-time histogram: an embedding request takes tens of
/// milliseconds, a chat completion seconds, up to the 30 s default time limit.
const REQUEST_BUCKETS: [f64; 14] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0,
];

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Text embeddings (documents or a query).
    Embed,
    /// Memory extraction from a call.
    Extract,
    /// A summary (for a query or of a caller).
    Summarize,
}

impl Operation {
    fn label(self) -> &'static str {
        match self {
            Operation::Embed => "embed",
            Operation::Extract => "extract",
            Operation::Summarize => "summarize",
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The provider answered with a usable response.
    Ok,
    /// 429 (not quota), 408, 5xx or a connection error: may pass later.
    Unavailable,
    /// No answer within the time limit.
    Timeout,
    /// Any other 4xx, exhausted quota, bad request settings: will not pass by itself.
    Rejected,
    /// An answer that is not a valid response (malformed JSON, wrong vectors).
    Invalid,
    /// Dropped before it finished: the caller stopped waiting.
    Abandoned,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unavailable => "unavailable",
            Outcome::Timeout => "timeout",
            Outcome::Rejected => "rejected",
            Outcome::Invalid => "invalid",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// The model-API metric families.
struct AiMetrics {
    requests: IntCounterVec,
    seconds: HistogramVec,
    tokens: IntCounterVec,
}

static METRICS: LazyLock<AiMetrics> = LazyLock::new(AiMetrics::new);

impl AiMetrics {
    fn new() -> Self {
        // Constant, valid definitions: construction cannot fail.
        Self {
            requests: IntCounterVec::new(
                Opts::new(
                    "memvox_ai_requests_total",
                    "Requests to model APIs, by operation, model and outcome (each retry counts)",
                ),
                &["operation", "model", "outcome"],
            )
            .expect("valid counter definition"),
            seconds: HistogramVec::new(
                HistogramOpts::new(
                    "memvox_ai_request_duration_seconds",
                    "Time of one request to a model API, by operation and model",
                )
                .buckets(REQUEST_BUCKETS.to_vec()),
                &["operation", "model"],
            )
            .expect("valid histogram definition"),
            tokens: IntCounterVec::new(
                Opts::new(
                    "memvox_ai_tokens_total",
                    "Tokens model APIs reported using, by operation, model and kind (prompt, completion)",
                ),
                &["operation", "model", "kind"],
            )
            .expect("valid counter definition"),
        }
    }
}

/// Adds the model-API metrics to `registry`. Calling it again for the same registry does
/// nothing (prometheus reports a collector whose names are registered already as
/// `AlreadyReg`, which is taken as done).
///
/// # Errors
/// prometheus refuses a collector for another reason (a name registered with other constant
/// labels), which no memvox registry does.
pub fn register_metrics(registry: &Registry) -> Result<(), prometheus::Error> {
    let m = &*METRICS;
    for collector in [
        Box::new(m.requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(m.seconds.clone()),
        Box::new(m.tokens.clone()),
    ] {
        match registry.register(collector) {
            Ok(()) | Err(prometheus::Error::AlreadyReg) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// One request in flight. [`RequestTimer::finish`] records it with its outcome and time; a
/// timer dropped unfinished (its request future was dropped) records it as abandoned.
pub(crate) struct RequestTimer<'a> {
    operation: Operation,
    model: &'a str,
    started: Instant,
    finished: bool,
}

impl<'a> RequestTimer<'a> {
    /// Starts timing a request of `operation` to `model`.
    pub(crate) fn start(operation: Operation, model: &'a str) -> Self {
        Self {
            operation,
            model,
            started: Instant::now(),
            finished: false,
        }
    }

    /// Records the request as ended with `outcome`.
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.finished = true;
        record_request(self.operation, self.model, outcome, self.started.elapsed());
    }
}

impl Drop for RequestTimer<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let elapsed = self.started.elapsed();
            record_request(self.operation, self.model, Outcome::Abandoned, elapsed);
        }
    }
}

/// Records one finished request.
fn record_request(operation: Operation, model: &str, outcome: Outcome, elapsed: Duration) {
    let op = operation.label();
    METRICS
        .requests
        .with_label_values(&[op, model, outcome.label()])
        .inc();
    METRICS
        .seconds
        .with_label_values(&[op, model])
        .observe(elapsed.as_secs_f64());
}

/// Records the tokens a response's `usage` reported.
pub(crate) fn record_tokens(operation: Operation, model: &str, prompt: u32, completion: u32) {
    let op = operation.label();
    for (kind, n) in [("prompt", prompt), ("completion", completion)] {
        if n > 0 {
            METRICS
                .tokens
                .with_label_values(&[op, model, kind])
                .inc_by(u64::from(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(registry: &Registry) -> String {
        prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap_or_default()
    }

    #[test]
    fn registering_twice_in_one_registry_is_fine_and_several_registries_share_the_counts() {
        let (a, b) = (Registry::new(), Registry::new());
        register_metrics(&a).unwrap();
        register_metrics(&a).unwrap();
        register_metrics(&b).unwrap();
        RequestTimer::start(Operation::Summarize, "unit-test-model").finish(Outcome::Timeout);
        drop(RequestTimer::start(Operation::Summarize, "unit-test-model"));
        record_tokens(Operation::Summarize, "unit-test-model", 12, 0);
        for registry in [&a, &b] {
            let text = text(registry);
            assert!(
                text.contains(r#"memvox_ai_requests_total{model="unit-test-model",operation="summarize",outcome="timeout"} 1"#),
                "{text}"
            );
            assert!(
                text.contains(r#"memvox_ai_requests_total{model="unit-test-model",operation="summarize",outcome="abandoned"} 1"#),
                "a dropped timer counts as abandoned: {text}"
            );
            assert!(
                text.contains(r#"memvox_ai_request_duration_seconds_count{model="unit-test-model",operation="summarize"} 2"#),
                "{text}"
            );
            assert!(
                text.contains(r#"memvox_ai_tokens_total{kind="prompt",model="unit-test-model",operation="summarize"} 12"#),
                "{text}"
            );
            assert!(
                !text.contains(r#"kind="completion",model="unit-test-model""#),
                "no zero-token series: {text}"
            );
        }
    }
}
