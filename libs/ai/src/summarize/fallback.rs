//! A model summary within a hard deadline, or the extractive one.
//!
//! Owns [`SummarizerWithFallback`]: it runs the primary summarizer under `tokio::time::timeout`
//! and, when the deadline passes or the primary fails, answers with the
//! [`ExtractiveSummarizer`] instead, recording why in [`Summary::fallback_reason`]. Invariants:
//! it never fails and never takes much longer than the deadline (the late request is dropped,
//! which cancels it); the caller always learns which one answered.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{ExtractiveSummarizer, SummarizeError, Summarizer, Summary, SummaryMemory};

/// The primary summarizer under a deadline, the extractive one as a fallback.
#[derive(Debug, Clone)]
pub struct SummarizerWithFallback {
    primary: Arc<dyn Summarizer>,
    fallback: ExtractiveSummarizer,
    deadline: Duration,
}

impl SummarizerWithFallback {
    /// Wraps `primary`, giving it `deadline` per summary.
    pub fn new(
        primary: Arc<dyn Summarizer>,
        fallback: ExtractiveSummarizer,
        deadline: Duration,
    ) -> Self {
        Self {
            primary,
            fallback,
            deadline,
        }
    }

    /// The primary's summary, or the fallback's with the reason the primary's was not used.
    async fn settle(
        &self,
        primary: impl Future<Output = Result<Summary, SummarizeError>>,
        fallback: impl FnOnce() -> Summary,
    ) -> Summary {
        let reason = match tokio::time::timeout(self.deadline, primary).await {
            Ok(Ok(summary)) => return summary,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "{} missed the {} ms deadline",
                self.primary.name(),
                self.deadline.as_millis()
            ),
        };
        tracing::warn!(summarizer = self.primary.name(), %reason, "summary fell back to extractive");
        Summary {
            fallback_reason: Some(reason),
            ..fallback()
        }
    }
}

#[async_trait]
impl Summarizer for SummarizerWithFallback {
    fn name(&self) -> &'static str {
        "llm+extractive"
    }

    async fn summarize_for_query(
        &self,
        query: &str,
        memories: &[SummaryMemory],
    ) -> Result<Summary, SummarizeError> {
        let primary = self.primary.summarize_for_query(query, memories);
        Ok(self
            .settle(primary, || self.fallback.for_query(memories))
            .await)
    }

    async fn summarize_user(&self, memories: &[SummaryMemory]) -> Result<Summary, SummarizeError> {
        let primary = self.primary.summarize_user(memories);
        Ok(self
            .settle(primary, || self.fallback.for_user(memories))
            .await)
    }
}
