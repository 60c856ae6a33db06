//! The import's Prometheus metrics, on the process registry:
//!
//! * `memvox_elevenlabs_import_conversations_total{outcome}`: conversations an import or poll
//!   looked at, by outcome (`imported`, `duplicate`, `pending`, `skipped`, `erased`, `failed`);
//! * `memvox_elevenlabs_api_retries_total{reason}`: requests to the ElevenLabs API tried again
//!   (`rate_limited`, `server_error`, `no_answer`);
//! * `memvox_elevenlabs_poll_runs_total{result}`: polls that ran (`ok`), failed (`error`) or
//!   left the turn to another process holding the lease (`skipped`).

use memvox_elevenlabs::api::RetryReason;
use prometheus::{IntCounterVec, Opts, Registry};

use super::Outcome;

/// What a poll came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollResult {
    /// It ran to the end.
    Ok,
    /// It stopped on an error.
    Error,
    /// Another process held the lease.
    Skipped,
}

/// Handles to the import metrics. Cheap to clone.
#[derive(Clone)]
pub struct ImportMetrics {
    conversations: IntCounterVec,
    retries: IntCounterVec,
    polls: IntCounterVec,
}

impl ImportMetrics {
    /// Creates the metrics and registers them on `registry`.
    ///
    /// # Errors
    /// If metrics of the same names are already registered there.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let conversations = IntCounterVec::new(
            Opts::new(
                "memvox_elevenlabs_import_conversations_total",
                "Conversations imported from the ElevenLabs API or found already stored, by outcome",
            ),
            &["outcome"],
        )?;
        let retries = IntCounterVec::new(
            Opts::new(
                "memvox_elevenlabs_api_retries_total",
                "Requests to the ElevenLabs API tried again, by reason",
            ),
            &["reason"],
        )?;
        let polls = IntCounterVec::new(
            Opts::new(
                "memvox_elevenlabs_poll_runs_total",
                "Periodic polls of the ElevenLabs API, by result",
            ),
            &["result"],
        )?;
        registry.register(Box::new(conversations.clone()))?;
        registry.register(Box::new(retries.clone()))?;
        registry.register(Box::new(polls.clone()))?;
        Ok(Self {
            conversations,
            retries,
            polls,
        })
    }

    /// Counts one conversation's outcome.
    pub(crate) fn conversation(&self, outcome: Outcome) {
        self.conversations
            .with_label_values(&[outcome.label()])
            .inc();
    }

    /// Counts one retried request.
    pub(crate) fn retried(&self, reason: RetryReason) {
        self.retries.with_label_values(&[reason.label()]).inc();
    }

    /// Counts one poll.
    pub(crate) fn poll(&self, result: PollResult) {
        let label = match result {
            PollResult::Ok => "ok",
            PollResult::Error => "error",
            PollResult::Skipped => "skipped",
        };
        self.polls.with_label_values(&[label]).inc();
    }
}
