//! The retention job: deletes raw payloads, transcript turns and, by policy, episodes past
//! their age (`workers.raw_payload_retention_days`, `workers.turn_retention_days`,
//! `workers.episode_retention_days`, off by default), in batches, and post-call audio files
//! past `workers.audio_retention_days` (`audio_retention`), with a progress log per batch and
//! `memvox_retention_deleted_total{what}`. Facts and summaries stay. [`Retention::step`] takes
//! the time, so tests drive it with any clock.

use std::{
    path::PathBuf,
    time::{Duration, UNIX_EPOCH},
};

use memvox_config::WorkerSettings;
use memvox_core::UnixMillis;
use memvox_store::{RetentionCutoffs, RetentionReport, Store, StoreResult};
use prometheus::{IntCounterVec, Opts, Registry};
use tokio_util::sync::CancellationToken;

use memvox_core::now_millis;

/// Rows of each kind deleted per batch.
pub const RETENTION_BATCH: usize = 1_000;

const DAY_MS: i64 = 86_400_000;

/// The retention job over one store (and the gateway's audio directory).
#[derive(Clone)]
pub struct Retention {
    settings: WorkerSettings,
    audio_dir: Option<PathBuf>,
    deleted: IntCounterVec,
}

/// What one pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionTotals {
    /// Rows deleted from the store.
    pub rows: RetentionReport,
    /// Post-call audio files deleted.
    pub audio_files: u64,
}

impl Retention {
    /// The job for `settings`, its counter registered on `registry`.
    pub fn new(settings: WorkerSettings, registry: &Registry) -> Result<Self, prometheus::Error> {
        let deleted = IntCounterVec::new(
            Opts::new(
                "memvox_retention_deleted_total",
                "Rows and files deleted past their retention age, by what (payloads, turns, \
                 episodes, audio_files)",
            ),
            &["what"],
        )?;
        registry.register(Box::new(deleted.clone()))?;
        Ok(Self {
            settings,
            audio_dir: None,
            deleted,
        })
    }

    /// The job also deletes audio files under `dir` (`gateway.audio_dir`) past their age.
    #[must_use]
    pub fn with_audio_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.audio_dir = dir;
        self
    }

    /// Deletes everything past its age at `now`, batch by batch; returns the totals.
    pub async fn step(&self, store: &dyn Store, now: UnixMillis) -> StoreResult<RetentionTotals> {
        let mut total = RetentionTotals {
            rows: self.purge_rows(store, now).await?,
            ..RetentionTotals::default()
        };
        if let (Some(dir), Some(cutoff)) = (
            &self.audio_dir,
            before(now, self.settings.audio_retention_days),
        ) {
            let cutoff = UNIX_EPOCH + Duration::from_millis(u64::try_from(cutoff).unwrap_or(0));
            match crate::audio_retention::delete_audio_before(dir, cutoff).await {
                Ok(deleted) => total.audio_files = deleted,
                Err(error) => {
                    tracing::warn!(%error, "retention: could not read the audio directory");
                }
            }
            self.record("audio_files", total.audio_files);
            if total.audio_files > 0 {
                tracing::info!(
                    audio_files = total.audio_files,
                    "retention: deleted audio files past their age"
                );
            }
        }
        Ok(total)
    }

    /// Deletes the store's rows past their age, a batch at a time.
    async fn purge_rows(&self, store: &dyn Store, now: UnixMillis) -> StoreResult<RetentionReport> {
        let cutoffs = cutoffs(&self.settings, now);
        let mut total = RetentionReport::default();
        if cutoffs == RetentionCutoffs::default() {
            return Ok(total);
        }
        loop {
            let batch = store.purge_expired(&cutoffs, RETENTION_BATCH).await?;
            self.record("payloads", batch.payloads);
            self.record("turns", batch.turns);
            self.record("episodes", batch.episodes);
            total.payloads += batch.payloads;
            total.turns += batch.turns;
            total.episodes += batch.episodes;
            if batch.total() > 0 {
                tracing::info!(
                    payloads = batch.payloads,
                    turns = batch.turns,
                    episodes = batch.episodes,
                    total = total.total(),
                    "retention: deleted a batch past its age"
                );
            }
            let limit = RETENTION_BATCH as u64;
            if batch.payloads < limit && batch.turns < limit && batch.episodes < limit {
                return Ok(total);
            }
        }
    }

    fn record(&self, what: &str, deleted: u64) {
        self.deleted.with_label_values(&[what]).inc_by(deleted);
    }

    /// Runs [`Retention::step`] every `workers.retention_interval_ms` until `shutdown`.
    pub async fn run(&self, store: &dyn Store, shutdown: CancellationToken) {
        let interval = Duration::from_millis(self.settings.retention_interval_ms.max(1));
        loop {
            if let Err(error) = self.step(store, now_millis()).await {
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
    RetentionCutoffs {
        payloads_before: before(now, settings.raw_payload_retention_days),
        turns_before: before(now, settings.turn_retention_days),
        episodes_before: before(now, settings.episode_retention_days),
    }
}

/// The instant `days` before `now` (`None`: kept forever).
fn before(now: UnixMillis, days: Option<u64>) -> Option<UnixMillis> {
    days.map(|days| {
        now.saturating_sub(
            i64::try_from(days)
                .unwrap_or(i64::MAX)
                .saturating_mul(DAY_MS),
        )
    })
}
