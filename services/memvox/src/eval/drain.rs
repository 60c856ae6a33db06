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
use memvox_bus::{EVENTS, MEMORIES, Progress};
use memvox_runtime::App;

use super::client::Client;

/// Longer than the server's stream-gauge refresh interval (5 s).
const REMOTE_SETTLE: Duration = Duration::from_secs(6);

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
