//! Summaries of recorded runs: printed as a table and written as JSON.

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use crate::drive::Recorded;

/// The figures of one target in one run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Scenario name, e.g. `ack`.
    pub scenario: &'static str,
    /// `open` (fixed rate) or `closed` (fixed concurrency).
    pub mode: &'static str,
    /// Target label: `gateway` or `bare` (`ack`), endpoint and population (`query`).
    pub target: &'static str,
    /// Offered rate (open loop), requests per second.
    pub rate: Option<u64>,
    /// Workers (closed loop).
    pub concurrency: Option<usize>,
    /// Requests answered 200.
    pub ok: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Answered requests per second of wall time.
    pub throughput_rps: f64,
    /// Latency percentiles and maximum, in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest latency.
    pub max_ms: f64,
}

impl Summary {
    /// Summarises `recorded`.
    pub fn new(
        scenario: &'static str,
        mode: &'static str,
        target: &'static str,
        recorded: &Recorded,
    ) -> Self {
        let h = &recorded.histogram;
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            scenario,
            mode,
            target,
            rate: None,
            concurrency: None,
            ok: recorded.ok,
            errors: recorded.errors,
            throughput_rps: recorded.ok as f64 / recorded.elapsed.as_secs_f64().max(1e-9),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }

    /// Prints one table row.
    pub fn print(&self) {
        let load = match (self.rate, self.concurrency) {
            (Some(rate), _) => format!("{rate}/s"),
            (_, Some(concurrency)) => format!("c={concurrency}"),
            _ => String::new(),
        };
        println!(
            "{:<6} {:<25} {:<6} {:>8} {:>7} {:>9.0} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            self.mode,
            self.target,
            load,
            self.ok,
            self.errors,
            self.throughput_rps,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.p999_ms,
            self.max_ms
        );
    }
}

/// Prints the table header.
pub fn print_header() {
    println!(
        "{:<6} {:<25} {:<6} {:>8} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "mode",
        "target",
        "load",
        "ok",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p99.9",
        "max ms"
    );
}

/// Writes a run's JSON results to `out` (creating its directory) and says where.
pub fn write_json(out: &Path, results: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(out, serde_json::to_vec_pretty(results)?)
        .with_context(|| format!("write {}", out.display()))?;
    println!("results written to {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn percentiles_and_throughput_come_from_the_recorded_latencies() {
        let mut recorded = Recorded::new();
        for millis in 1..=100 {
            recorded.record(true, Duration::from_millis(millis));
        }
        recorded.record(false, Duration::from_millis(500));
        recorded.elapsed = Duration::from_secs(4);
        let summary = Summary::new("query", "closed", "memory-query all", &recorded);
        assert_eq!((summary.ok, summary.errors), (100, 1));
        assert!((summary.throughput_rps - 25.0).abs() < 1e-9);
        let close = |actual: f64, expected: f64| (actual - expected).abs() <= expected * 0.001;
        assert!(close(summary.p50_ms, 50.0), "{}", summary.p50_ms);
        assert!(close(summary.p95_ms, 95.0), "{}", summary.p95_ms);
        assert!(close(summary.p99_ms, 99.0), "{}", summary.p99_ms);
        assert!(close(summary.max_ms, 100.0), "{}", summary.max_ms);
    }
}
