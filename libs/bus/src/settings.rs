//! Bus configuration.
//!
//! Owns [`BusSettings`], its defaults and the cross-field rules checked at start-up
//! ([`BusSettings::validate`]). Every duration is in milliseconds so the struct maps one-to-one
//! onto TOML keys and `MEMVOX_BUS__*` environment variables.

use std::time::Duration;

use serde::Deserialize;

use crate::retry::RetryPolicy;

/// Which implementation carries the streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusBackend {
    /// In this process: the embedded single-process mode (messages do not survive a restart;
    /// the outbox reconciler re-publishes unfinished events from the store).
    #[default]
    InProcess,
    /// Redis Streams consumer groups: separate services, several replicas.
    Redis,
}

/// Settings shared by both bus implementations and the worker runner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusSettings {
    /// `in_process` (default, one process) or `redis`.
    pub backend: BusBackend,
    /// Redis URL, e.g. `redis://127.0.0.1:6379/0`. Unused by the in-process bus.
    pub redis_url: String,
    /// Key prefix of every Redis key (see [`crate::KeySpace`]); also what isolates tests.
    pub key_prefix: String,
    /// Approximate maximum length of each stream (`XADD MAXLEN ~`). Size it above the largest
    /// backlog you expect to survive: entries older than this many newer ones may be trimmed
    /// even if unacknowledged (the outbox reconciler re-publishes what that loses).
    pub maxlen: usize,
    /// How long a read waits for new entries before returning empty, in ms. Also bounds how long a
    /// Redis connection stays blocked.
    pub block_ms: u64,
    /// Maximum number of entries a worker takes per step (the extraction worker commits them
    /// in one transaction).
    pub batch_size: usize,
    /// How long an entry must stay unacknowledged before another group member may claim it, in
    /// ms. Must exceed the slowest handler run, or in-flight entries are delivered twice.
    pub claim_idle_ms: u64,
    /// Deliveries after which a failing entry is dead-lettered (1 = no retries).
    pub max_attempts: u32,
    /// Backoff before the first retry, in ms; doubles per attempt, with jitter.
    pub backoff_base_ms: u64,
    /// Upper bound of the backoff, in ms. Must not exceed `claim_idle_ms` (see `validate`).
    pub backoff_max_ms: u64,
    /// Maximum number of pooled Redis connections. Each blocked reader holds one.
    pub pool_size: usize,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            backend: BusBackend::InProcess,
            redis_url: "redis://127.0.0.1:6379".into(),
            key_prefix: "memvox".into(),
            maxlen: 1_000_000,
            block_ms: 2_000,
            batch_size: 32,
            claim_idle_ms: 30_000,
            max_attempts: 5,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            pool_size: 16,
        }
    }
}

/// A setting, or a combination of settings, that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid bus settings: {0}")]
pub struct SettingsError(pub String);

impl BusSettings {
    /// Checks the rules that span fields, with a sentence saying why each one matters.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let fail = |s: &str| Err(SettingsError(s.to_owned()));
        if self.batch_size == 0 {
            return fail("batch_size must be at least 1, or workers never read anything");
        }
        if self.max_attempts == 0 {
            return fail("max_attempts must be at least 1: it counts the first delivery");
        }
        if self.maxlen < self.batch_size * 10 {
            return fail(
                "maxlen must be at least ten batches, or entries are trimmed before a worker reads them",
            );
        }
        if self.backoff_base_ms > self.backoff_max_ms {
            return fail("backoff_base_ms must not exceed backoff_max_ms");
        }
        if self.backoff_max_ms > self.claim_idle_ms {
            return fail(
                "backoff_max_ms must not exceed claim_idle_ms: a failed entry is retried by the claim \
                 step, which takes any entry idle for claim_idle_ms, so no retry can wait longer",
            );
        }
        if self.pool_size < 2 {
            return fail(
                "pool_size must be at least 2: a blocked reader holds a connection while acks need another",
            );
        }
        Ok(())
    }

    /// The retry policy these settings describe.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::new(
            Duration::from_millis(self.backoff_base_ms),
            Duration::from_millis(self.backoff_max_ms),
            self.max_attempts,
        )
    }

    /// [`BusSettings::block_ms`] as a duration.
    pub fn block(&self) -> Duration {
        Duration::from_millis(self.block_ms)
    }

    /// [`BusSettings::claim_idle_ms`] as a duration.
    pub fn claim_idle(&self) -> Duration {
        Duration::from_millis(self.claim_idle_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_deserialize_partially() {
        BusSettings::default().validate().unwrap();
        let s: BusSettings = serde_json::from_str(r#"{"key_prefix":"t","maxlen":500}"#).unwrap();
        assert_eq!(s.key_prefix, "t");
        assert_eq!(s.maxlen, 500);
        assert_eq!(s.batch_size, BusSettings::default().batch_size);
    }

    #[test]
    fn backoff_longer_than_claim_idle_is_rejected_with_a_reason() {
        let s = BusSettings {
            backoff_max_ms: 60_000,
            ..BusSettings::default()
        };
        let err = s.validate().unwrap_err();
        assert!(err.0.contains("claim_idle_ms"), "{err}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_str::<BusSettings>(r#"{"maxlenn":1}"#).is_err());
    }
}
