//! What an import did: the fate of each conversation ([`Outcome`]) and the tally of a run
//! ([`Report`]), which progress displays and the command's summary read; [`Tally`] keeps it as
//! a run goes.

use std::collections::HashSet;

use super::ImportMetrics;

/// What became of one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Stored as its post-call event and handed to the pipeline.
    Imported,
    /// Already stored (its webhook came, or an earlier import took it).
    Duplicate,
    /// Not done yet (running, or being analysed), or its details could not be fetched this
    /// time: kept pending and looked at again by the next import or poll.
    Pending,
    /// Failed, or deleted at ElevenLabs: no post-call transcription will come.
    Skipped,
    /// Of an erased caller: refused by its tombstone, nothing stored.
    Erased,
    /// Details that do not fit the post-call model, or larger than the limit: nothing stored.
    Failed,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 6] = [
        Self::Imported,
        Self::Duplicate,
        Self::Pending,
        Self::Skipped,
        Self::Erased,
        Self::Failed,
    ];

    /// The `outcome` label of `memvox_elevenlabs_import_conversations_total`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Imported => "imported",
            Self::Duplicate => "duplicate",
            Self::Pending => "pending",
            Self::Skipped => "skipped",
            Self::Erased => "erased",
            Self::Failed => "failed",
        }
    }

    /// Whether the conversation is settled: no later import needs to look at it again.
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
}

/// The tally of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// List pages read.
    pub pages: u64,
    /// Conversations looked at (listed, or pending from an earlier run).
    pub seen: u64,
    /// Conversations per outcome, in [`Outcome::ALL`] order.
    counts: [u64; 6],
}

impl Report {
    /// Counts one conversation.
    pub fn count(&mut self, outcome: Outcome) {
        self.seen += 1;
        self.counts[Self::slot(outcome)] += 1;
    }

    /// Conversations that came to `outcome`.
    pub fn of(&self, outcome: Outcome) -> u64 {
        self.counts[Self::slot(outcome)]
    }

    fn slot(outcome: Outcome) -> usize {
        Outcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} conversation(s):", self.seen)?;
        for (i, outcome) in Outcome::ALL.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{} {}", self.of(*outcome), outcome.label())?;
        }
        Ok(())
    }
}

/// A run's tally as it goes: the report, the conversations looked at (a pending one this run
/// listed is not looked at again), and who is told after each conversation.
pub(crate) struct Tally<'a> {
    /// The report so far.
    pub(crate) report: Report,
    looked_at: HashSet<String>,
    observer: &'a mut (dyn FnMut(&Report) + Send),
}

impl<'a> Tally<'a> {
    /// An empty tally telling `observer`.
    pub(crate) fn new(observer: &'a mut (dyn FnMut(&Report) + Send)) -> Self {
        Self {
            report: Report::default(),
            looked_at: HashSet::new(),
            observer,
        }
    }

    /// Counts conversation `id`'s `outcome` in the report and `metrics`, and tells the observer.
    pub(crate) fn count(&mut self, id: &str, outcome: Outcome, metrics: &ImportMetrics) {
        self.report.count(outcome);
        metrics.conversation(outcome);
        self.looked_at.insert(id.to_owned());
        (self.observer)(&self.report);
    }

    /// Whether this run looked at conversation `id` already.
    pub(crate) fn looked_at(&self, id: &str) -> bool {
        self.looked_at.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_print_in_order() {
        let mut report = Report::default();
        for outcome in [Outcome::Imported, Outcome::Imported, Outcome::Pending] {
            report.count(outcome);
        }
        let mut total = report;
        total.count(Outcome::Failed);
        assert_eq!(total.seen, 4);
        assert_eq!(total.of(Outcome::Imported), 2);
        assert_eq!(
            total.to_string(),
            "4 conversation(s): 2 imported, 0 duplicate, 1 pending, 0 skipped, 0 erased, 1 failed"
        );
        assert!(!Outcome::Pending.is_final());
        assert!(Outcome::Failed.is_final());
    }
}
