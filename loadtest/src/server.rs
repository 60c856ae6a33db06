//! A running memvox (`memvox serve`, or the gateway and workers as separate services) as an
//! `ack` target: its webhook URL, and how far its workers have got with what it acknowledged,
//! read from its own `/metrics` (`memvox_bus::Progress`), so a run can report how long the
//! backlog took to drain after the load stopped.

use std::time::Duration;

use anyhow::{Context as _, bail};
use memvox_bus::Progress;
use tokio::time::Instant;

use crate::targets::{PATH, Target};

/// How long the server's stream gauges (the queued and pending entries) may lag: it refreshes
/// them every 5 s.
const GAUGE_REFRESH: Duration = Duration::from_secs(6);

/// A running server under test.
#[derive(Debug, Clone)]
pub struct Server {
    base: String,
}

/// How long the workers took to finish the run's calls once the load stopped.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Drained {
    /// Until the extraction group had handled every acknowledged call (a live counter).
    pub extracted_s: f64,
    /// Until, besides, both streams' gauges showed nothing queued or pending (they refresh
    /// every 5 s, so this is accurate to about that).
    pub settled_s: f64,
}

impl Server {
    /// The server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Its webhook route as a target.
    pub fn target(&self) -> Target {
        Target {
            name: "server",
            url: self.url(PATH),
        }
    }

    /// Its pipeline's progress now.
    pub async fn progress(&self, client: &reqwest::Client) -> anyhow::Result<Progress> {
        Ok(Progress::parse(&self.metrics(client).await?))
    }

    /// Its `/metrics` text now.
    pub async fn metrics(&self, client: &reqwest::Client) -> anyhow::Result<String> {
        let url = self.url("/metrics");
        let response = client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if !response.status().is_success() {
            bail!("GET {url} answered {}", response.status());
        }
        Ok(response.text().await?)
    }

    /// Waits until `accepted` calls more than `baseline` were handled and nothing is queued;
    /// fails past `timeout`.
    pub async fn drain(
        &self,
        client: &reqwest::Client,
        baseline: Progress,
        accepted: u64,
        timeout: Duration,
    ) -> anyhow::Result<Drained> {
        let started = Instant::now();
        let mut extracted = None;
        let mut settled: Option<Instant> = None;
        loop {
            let now = self.progress(client).await?;
            let handled = now.handled().saturating_sub(baseline.handled());
            if handled >= accepted {
                extracted.get_or_insert_with(|| started.elapsed());
            }
            if handled >= accepted && now.backlog == 0 {
                let since = *settled.get_or_insert_with(Instant::now);
                if since.elapsed() >= GAUGE_REFRESH {
                    let extracted = extracted.unwrap_or_default();
                    return Ok(Drained {
                        extracted_s: extracted.as_secs_f64(),
                        settled_s: (since - started).as_secs_f64(),
                    });
                }
            } else {
                settled = None;
            }
            if started.elapsed() > timeout {
                bail!(
                    "{handled}/{accepted} calls handled and {} queued after {} s",
                    now.backlog,
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
