//! The pipeline's progress as a server's own `/metrics` text tells it: post-call events the
//! extraction group handled (`memvox_bus_messages_total{stream="events",group="extraction"}`,
//! processed or dead-lettered) and what is still queued or pending on both streams
//! (`memvox_stream_lag`, `memvox_stream_pending`). Tools that wait for a running server to
//! drain (the recall evaluation, the load generator) read it.

use crate::{EVENTS, MEMORIES};

/// What `/metrics` says about the pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Events the extraction group acknowledged after processing them.
    pub processed: u64,
    /// Events the extraction group gave up on.
    pub dead_lettered: u64,
    /// Entries not yet delivered or not yet acknowledged, on both streams.
    pub backlog: u64,
}

impl Progress {
    /// Reads the figures from Prometheus text.
    pub fn parse(text: &str) -> Self {
        let events = [("stream", EVENTS), ("group", "extraction")];
        let count = |outcome| {
            sum(
                text,
                "memvox_bus_messages_total",
                &[events[0], events[1], ("outcome", outcome)],
            )
        };
        let mut backlog = 0;
        for (stream, group) in [(EVENTS, "extraction"), (MEMORIES, "embedding")] {
            for name in ["memvox_stream_lag", "memvox_stream_pending"] {
                backlog += sum(text, name, &[("stream", stream), ("group", group)]);
            }
        }
        Self {
            processed: count("processed"),
            dead_lettered: count("dead_lettered"),
            backlog,
        }
    }

    /// Events handled either way.
    pub fn handled(&self) -> u64 {
        self.processed + self.dead_lettered
    }
}

/// Sum of the samples of metric `name` whose labels include all of `labels`, in Prometheus text
/// (negative samples count as 0).
pub fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            if !(rest.is_empty() || rest.starts_with('{')) {
                return None;
            }
            let matches = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .map(|v| v.max(0.0))
        .sum()
}

/// [`metric_sum`] of a counter or gauge, as a whole number.
fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    metric_sum(text, name, labels) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_sums_the_extraction_outcomes_and_both_backlogs() {
        let text = "\
# HELP memvox_bus_messages_total Messages handled by workers, by outcome.
memvox_bus_messages_total{group=\"extraction\",outcome=\"processed\",stream=\"events\"} 214
memvox_bus_messages_total{group=\"extraction\",outcome=\"dead_lettered\",stream=\"events\"} 2
memvox_bus_messages_total{group=\"embedding\",outcome=\"processed\",stream=\"memories\"} 90
memvox_stream_lag{group=\"embedding\",stream=\"memories\"} 3
memvox_stream_pending{group=\"embedding\",stream=\"memories\"} 1
memvox_stream_pending{group=\"extraction\",stream=\"events\"} 0
memvox_stream_length{stream=\"memories\"} 400
";
        let progress = Progress::parse(text);
        assert_eq!(
            progress,
            Progress {
                processed: 214,
                dead_lettered: 2,
                backlog: 4
            }
        );
        assert_eq!(progress.handled(), 216);
    }

    #[test]
    fn a_metric_is_summed_over_the_samples_with_its_labels_only() {
        let text = "# TYPE x_sum counter\n\
            x_sum{method=\"POST\",route=\"/a\"} 1.5\n\
            x_sum{method=\"GET\",route=\"/a\"} 0.5\n\
            x_sum{route=\"/b\"} 7\n\
            x_sum_other{route=\"/a\"} 9\n";
        assert!((metric_sum(text, "x_sum", &[("route", "/a")]) - 2.0).abs() < 1e-12);
        assert_eq!(metric_sum(text, "x_sum", &[("route", "/c")]), 0.0);
    }
}
