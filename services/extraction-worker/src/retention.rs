//! The retention job: deletes raw payloads and transcript turns past their age
//! (`workers.raw_payload_retention_days`, `workers.turn_retention_days`), in batches, with a
//! progress log per batch and `memvox_retention_deleted_total{what}`. Memories, episodes and
//! summaries stay. [`Retention::step`] takes the time, so tests drive it with any clock.

use std::time::Duration;

use memvox_config::WorkerSettings;
use memvox_core::UnixMillis;
use memvox_store::{RetentionCutoffs, RetentionReport, Store, StoreResult};
use prometheus::{IntCounterVec, Opts, Registry};
use tokio_util::sync::CancellationToken;

use crate::handler::now;

/// Rows of each kind deleted per batch.
pub const RETENTION_BATCH: usize = 1_000;

const DAY_MS: i64 = 86_400_000;

/// The retention job over one store.
#[derive(Clone)]
pub struct Retention {
    settings: WorkerSettings,
    deleted: IntCounterVec,
}

impl Retention {
    /// The job for `settings`, its counter registered on `registry`.
    pub fn new(settings: WorkerSettings, registry: &Registry) -> Result<Self, prometheus::Error> {
        let deleted = IntCounterVec::new(
            Opts::new(
                "memvox_retention_deleted_total",
                "Rows deleted past their retention age, by what (payloads, turns)",
            ),
            &["what"],
        )?;
        registry.register(Box::new(deleted.clone()))?;
        Ok(Self { settings, deleted })
    }

    /// Deletes everything past its age at `now`, batch by batch; returns the totals.
    pub async fn step(&self, store: &dyn Store, now: UnixMillis) -> StoreResult<RetentionReport> {
        let cutoffs = cutoffs(&self.settings, now);
        let mut total = RetentionReport::default();
        if cutoffs == RetentionCutoffs::default() {
            return Ok(total);
        }
        loop {
            let batch = store.purge_expired(&cutoffs, RETENTION_BATCH).await?;
            self.deleted
                .with_label_values(&["payloads"])
                .inc_by(batch.payloads);
            self.deleted
                .with_label_values(&["turns"])
                .inc_by(batch.turns);
            total.payloads += batch.payloads;
            total.turns += batch.turns;
            if batch.payloads + batch.turns > 0 {
                tracing::info!(
                    payloads = batch.payloads,
                    turns = batch.turns,
                    total_payloads = total.payloads,
                    total_turns = total.turns,
                    "retention: deleted a batch past its age"
                );
            }
            let limit = RETENTION_BATCH as u64;
            if batch.payloads < limit && batch.turns < limit {
                return Ok(total);
            }
        }
    }

    /// Runs [`Retention::step`] every `workers.retention_interval_ms` until `shutdown`.
    pub async fn run(&self, store: &dyn Store, shutdown: CancellationToken) {
        let interval = Duration::from_millis(self.settings.retention_interval_ms.max(1));
        loop {
            if let Err(error) = self.step(store, now()).await {
                tracing::warn!(%error, "retention pass failed; trying again at the next one");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// The cutoffs of `settings` at `now`.
fn cutoffs(settings: &WorkerSettings, now: UnixMillis) -> RetentionCutoffs {
    let before = |days: Option<u64>| {
        days.map(|days| {
            now.saturating_sub(
                i64::try_from(days)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(DAY_MS),
            )
        })
    };
    RetentionCutoffs {
        payloads_before: before(settings.raw_payload_retention_days),
        turns_before: before(settings.turn_retention_days),
    }
}
