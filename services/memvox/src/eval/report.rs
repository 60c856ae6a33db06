//! The runner's output: one [`Report`], printed as Markdown tables on stdout or as JSON.

use serde::Serialize;

use super::ask::{ConversationScores, FactScores};
use super::score::Recall;

/// Everything one `memvox eval recall` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `in-process` or the URL evaluated.
    pub target: String,
    /// Callers replayed.
    pub callers: usize,
    /// Calls replayed.
    pub calls: usize,
    /// Turns in those calls.
    pub turns: usize,
    /// Memories each replayed caller has once the pipeline drained: `[min, mean, max]`.
    pub memories_per_caller: [f64; 3],
    /// Share of questions whose evidence is in any stored memory of the caller (a ceiling on
    /// recall at any k).
    pub evidence_stored: f64,
    /// Time to send every call (init + signed webhook), seconds.
    pub replay_secs: f64,
    /// Time from the last webhook until the pipeline had processed everything, seconds.
    pub drain_secs: f64,
    /// Time to ask every question (both limits), seconds.
    pub ask_secs: f64,
    /// The conversational probe.
    pub conversations: ConversationScores,
    /// The fact probes.
    pub facts: Vec<FactScores>,
}

fn row(name: &str, recall: &Recall) -> String {
    format!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} |",
        recall.questions, recall.recall_at_1, recall.recall_at_5, recall.recall_at_10
    )
}

impl Report {
    /// The report as Markdown tables.
    pub fn table(&self) -> String {
        let c = &self.conversations;
        let mut out = vec![
            format!(
                "conversational probe ({}): {} callers, {} calls, {} turns; replay {:.1} s, \
                 pipeline drained {:.1} s after the last call, questions {:.1} s",
                self.target,
                self.callers,
                self.calls,
                self.turns,
                self.replay_secs,
                self.drain_secs,
                self.ask_secs
            ),
            format!(
                "memories per caller after the replay: min {:.0}, mean {:.1}, max {:.0}; \
                 questions whose evidence is stored at all: {:.3}",
                self.memories_per_caller[0],
                self.memories_per_caller[1],
                self.memories_per_caller[2],
                self.evidence_stored
            ),
            String::new(),
            "| category | questions | R@1 | R@5 | R@10 |".to_owned(),
            "|---|---|---|---|---|".to_owned(),
            row("**all**", &c.overall),
        ];
        out.extend(c.categories.iter().map(|(name, r)| row(name, r)));
        out.push(String::new());
        out.push(format!(
            "answer size: mean {:.0} bytes at limit 5, {:.0} bytes at limit 10 \
             ({:.1} items); memory-query latency (client, {} requests): p50 {:.2} ms, p99 {:.2} ms",
            c.mean_answer_bytes_limit_5,
            c.mean_answer_bytes_limit_10,
            c.mean_items_limit_10,
            c.latency.requests,
            c.latency.p50_ms,
            c.latency.p99_ms
        ));
        if !self.facts.is_empty() {
            out.push(String::new());
            out.push("| fact probe | facts | questions | R@1 | R@5 | p50 ms | p99 ms |".to_owned());
            out.push("|---|---|---|---|---|---|---|".to_owned());
            for f in &self.facts {
                out.push(format!(
                    "| {} | {} | {} | {:.3} | {:.3} | {:.2} | {:.2} |",
                    f.probe,
                    f.facts,
                    f.recall.questions,
                    f.recall.recall_at_1,
                    f.recall.recall_at_5,
                    f.latency.p50_ms,
                    f.latency.p99_ms
                ));
            }
        }
        out.join("\n")
    }
}
