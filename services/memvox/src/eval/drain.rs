//! Waiting until the pipeline has processed everything that was sent, read from the
//! server's own `/metrics`: every post-call event handled by the extraction group
//! (`memvox_bus_messages_total{stream="events",group="extraction"}`, processed or
//! dead-lettered) and nothing queued or pending on either stream (`memvox_stream_lag`,
//! `memvox_stream_pending`). Once extraction has acked an event, its memory changes are
//! already on the memories stream, so an empty memories backlog then means they are
//! embedded and searchable.
//!
//! The stream gauges are refreshed by the server every few seconds: in process the runner
//! refreshes them itself before each read; against a remote server the condition must hold
//! for longer than the refresh interval.

use std::time::{Duration, Instant};

use anyhow::bail;
use memvox_bus::{EVENTS, MEMORIES};
use memvox_runtime::App;

use super::client::Client;

/// Longer than the server's stream-gauge refresh interval (5 s).
const REMOTE_SETTLE: Duration = Duration::from_secs(6);

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

    fn handled(&self) -> u64 {
        self.processed + self.dead_lettered
    }
}

/// Sum of the samples of metric `name` whose labels include all of `labels`.
pub fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
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
        .map(|v| v.max(0.0) as u64)
        .sum()
}

/// Reads the progress now (refreshing the stream gauges first when in process).
pub async fn progress(client: &Client, app: Option<&App>) -> anyhow::Result<Progress> {
    if let Some(app) = app {
        app.bus_metrics
            .refresh(app.bus.as_ref(), &[EVENTS, MEMORIES])
            .await?;
    }
    Ok(Progress::parse(&client.metrics().await?))
}

/// Waits until `expected` more events than `baseline` were handled and both streams are
/// drained; shows progress on stderr. Fails past `timeout`, and reports dead letters.
pub async fn wait(
    client: &Client,
    app: Option<&App>,
    baseline: Progress,
    expected: u64,
    timeout: Duration,
) -> anyhow::Result<Progress> {
    let started = Instant::now();
    let mut settled_since: Option<Instant> = None;
    let mut shown = None;
    loop {
        let now = progress(client, app).await?;
        let handled = now.handled().saturating_sub(baseline.handled());
        if shown != Some((handled, now.backlog)) {
            shown = Some((handled, now.backlog));
            eprint!(
                "\r  pipeline: {handled}/{expected} calls handled, {} queued   ",
                now.backlog
            );
        }
        if handled >= expected && now.backlog == 0 {
            let since = *settled_since.get_or_insert_with(Instant::now);
            if app.is_some() || since.elapsed() >= REMOTE_SETTLE {
                eprintln!();
                let dead = now.dead_lettered.saturating_sub(baseline.dead_lettered);
                if dead > 0 {
                    eprintln!("  warning: {dead} calls were dead-lettered (see memvox dlq list)");
                }
                return Ok(now);
            }
        } else {
            settled_since = None;
        }
        if started.elapsed() > timeout {
            eprintln!();
            bail!("the pipeline did not drain within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
}
