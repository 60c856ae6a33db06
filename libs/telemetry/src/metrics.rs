//! The Prometheus registry a service exposes on `/metrics`, with the HTTP request metrics every
//! service shares already registered.
//!
//! [`Metrics`] is a cheap `Clone` handle: all clones share one registry, so the middleware, the
//! `/metrics` endpoint and any library that registers its own collectors (bus lag, cache hits)
//! through [`Metrics::registry`] all read and write the same series.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Upper bounds (seconds) of the request latency histogram: dense in the single-digit
/// milliseconds where memvox's hot paths live, up to 5 s for slow LLM-backed calls.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Shared handle to a service's Prometheus registry and its HTTP request metrics.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
}

impl Metrics {
    /// Creates a registry with `memvox_http_requests_total{service,route,method,status}` and
    /// `memvox_http_request_duration_seconds{service,route,method}` registered.
    pub fn new() -> Self {
        let registry = Registry::new();
        // The definitions below are constants with valid, distinct names and labels, and the
        // registry is fresh, so construction and registration cannot fail.
        let requests = IntCounterVec::new(
            Opts::new(
                "memvox_http_requests_total",
                "HTTP requests handled, by route template, method and status code.",
            ),
            &["service", "route", "method", "status"],
        )
        .expect("valid counter definition");
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "memvox_http_request_duration_seconds",
                "Time to produce an HTTP response, by route template and method.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["service", "route", "method"],
        )
        .expect("valid histogram definition");
        registry
            .register(Box::new(requests.clone()))
            .expect("fresh registry accepts the request counter");
        registry
            .register(Box::new(durations.clone()))
            .expect("fresh registry accepts the latency histogram");
        Self {
            inner: Arc::new(Inner {
                registry,
                requests,
                durations,
            }),
        }
    }

    /// The underlying registry, for registering a library's own collectors.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Every registered metric in the Prometheus text exposition format (version 0.0.4).
    ///
    /// Encoding gathered families cannot fail in practice (the registry never yields an empty
    /// family); should it, the error is logged and the output is empty rather than a panic.
    pub fn render(&self) -> String {
        let families = self.inner.registry.gather();
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_else(|err| {
                tracing::error!(error = %err, "failed to encode Prometheus metrics");
                String::new()
            })
    }

    /// Records one finished HTTP request.
    pub(crate) fn observe_request(
        &self,
        service: &str,
        route: &str,
        method: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let status = status.to_string();
        self.inner
            .requests
            .with_label_values(&[service, route, method, status.as_str()])
            .inc();
        self.inner
            .durations
            .with_label_values(&[service, route, method])
            .observe(elapsed.as_secs_f64());
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_registry() {
        let metrics = Metrics::new();
        let clone = metrics.clone();
        clone.observe_request("gateway", "/webhook", "POST", 200, Duration::from_millis(3));
        let text = metrics.render();
        assert!(
            text.contains(
                r#"memvox_http_requests_total{method="POST",route="/webhook",service="gateway",status="200"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn latency_lands_in_millisecond_buckets() {
        let metrics = Metrics::new();
        metrics.observe_request(
            "query",
            "/tools/memory-query",
            "POST",
            200,
            Duration::from_micros(4_200),
        );
        let text = metrics.render();
        let bucket = |le: &str| {
            format!(
                r#"memvox_http_request_duration_seconds_bucket{{method="POST",route="/tools/memory-query",service="query",le="{le}"}}"#
            )
        };
        assert!(text.contains(&format!("{} 0", bucket("0.0025"))), "{text}");
        assert!(text.contains(&format!("{} 1", bucket("0.005"))), "{text}");
        assert!(text.contains(&format!("{} 1", bucket("+Inf"))), "{text}");
    }

    #[test]
    fn library_collectors_appear_in_render() {
        let metrics = Metrics::new();
        let lag =
            prometheus::IntGauge::new("memvox_bus_lag", "Entries not yet delivered.").unwrap();
        metrics.registry().register(Box::new(lag.clone())).unwrap();
        lag.set(7);
        assert!(metrics.render().contains("memvox_bus_lag 7"));
    }
}
