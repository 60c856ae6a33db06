//! The periodic poll (`[elevenlabs.poll]`, off by default): every `interval_secs`, the calls that
//! started in the last `lookback_secs` and ended at least `settle_secs` ago are listed and those
//! not stored yet are imported — the calls whose webhook never arrived (retries off, a delivery
//! refused as stale, an outage). Then the conversations left pending are looked at again.
//!
//! It runs in the gateway (and so in `memvox serve`), the service that ingests events. Several
//! gateway replicas share one store: a lease in it (`poll`, held for nine tenths of the
//! interval) lets one of them poll per interval, and the others skip their turn. Nothing is
//! saved between polls but the pending conversations: each poll lists its whole look-back
//! window again, and what is already stored costs one query per page, no details request.

use std::time::Duration;

use memvox_elevenlabs::api::ListQuery;
use prometheus::Registry;
use tokio_util::sync::CancellationToken;

use super::report::Tally;
use super::{
    ElevenLabsSettings, ImportError, ImportMetrics, Importer, PollResult, PollSettings, Report,
};
use crate::GatewayState;

/// The poll's lease in the store.
pub const POLL_LEASE: &str = "poll";

/// The poll to run beside the gateway of `state` (spawn it where background work runs) when
/// `settings.poll.enabled`, its metrics on `registry`, until `shutdown`; `None` when it is off.
///
/// # Errors
/// [`ImportError::PollWithoutKey`] without an API key, [`ImportError::Metrics`] if the metrics
/// are registered already, [`ImportError::Api`] if the client cannot be built.
pub fn poll_task(
    state: &GatewayState,
    settings: &ElevenLabsSettings,
    registry: &Registry,
    shutdown: CancellationToken,
) -> Result<Option<impl Future<Output = ()> + Send + 'static>, ImportError> {
    if !settings.poll.enabled {
        return Ok(None);
    }
    if settings.api_key.is_none() {
        return Err(ImportError::PollWithoutKey);
    }
    let metrics = ImportMetrics::register(registry)?;
    let importer = Importer::new(state.clone(), settings, metrics)?;
    Ok(Some(importer.run_poll(settings.poll.clone(), shutdown)))
}

impl Importer {
    /// One poll, unless another process holds the lease (`Ok(None)`).
    ///
    /// # Errors
    /// [`ImportError`] that stopped it; the next poll starts over.
    pub async fn poll(&self, poll: &PollSettings) -> Result<Option<Report>, ImportError> {
        let clock = &self.state.clock;
        let now = clock.now();
        let interval_ms =
            i64::try_from(poll.interval_secs.saturating_mul(1_000)).unwrap_or(i64::MAX);
        let lease_until = now.saturating_add(interval_ms - interval_ms / 10);
        if !self
            .state
            .store
            .claim_import_lease(POLL_LEASE, now, lease_until)
            .await?
        {
            return Ok(None);
        }
        let now_secs = clock.now_secs();
        let after = now_secs.saturating_sub(poll.lookback_secs);
        let settled_before = now_secs.saturating_sub(poll.settle_secs);
        let agents: Vec<Option<&str>> = if poll.agent_ids.is_empty() {
            vec![None]
        } else {
            poll.agent_ids.iter().map(|a| Some(a.as_str())).collect()
        };
        let observer = &mut |_: &Report| {};
        let mut tally = Tally::new(observer);
        for agent in agents {
            let mut cursor: Option<String> = None;
            loop {
                let query = ListQuery {
                    agent_id: agent,
                    after_unix: Some(after),
                    before_unix: None,
                    cursor: cursor.as_deref(),
                    page_size: self.page_size,
                };
                let page = self.client.list(&query).await?;
                tally.report.pages += 1;
                self.import_page(&page.conversations, Some(settled_before), &mut tally)
                    .await?;
                match page.next() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
        }
        self.import_pending(&mut tally).await?;
        Ok(Some(tally.report))
    }

    /// Polls every `poll.interval_secs` (the first right away) until `shutdown`; failures are
    /// logged and counted, and the next poll tries again.
    pub async fn run_poll(self, poll: PollSettings, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(Duration::from_secs(poll.interval_secs));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::info!(
            interval_secs = poll.interval_secs,
            lookback_secs = poll.lookback_secs,
            agents = poll.agent_ids.len(),
            "polling the ElevenLabs API for calls whose webhook never arrived"
        );
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let result = tokio::select! {
                () = shutdown.cancelled() => return,
                result = self.poll(&poll) => result,
            };
            match result {
                Ok(Some(report)) => {
                    self.metrics.poll(PollResult::Ok);
                    tracing::info!(%report, "ElevenLabs poll done");
                }
                Ok(None) => {
                    self.metrics.poll(PollResult::Skipped);
                    tracing::debug!("ElevenLabs poll left to the process holding its lease");
                }
                Err(error) => {
                    self.metrics.poll(PollResult::Error);
                    tracing::warn!(%error, "ElevenLabs poll failed; the next one tries again");
                }
            }
        }
    }
}
