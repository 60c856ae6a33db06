//! Asking the probes' questions through `POST /tools/memory-query` and scoring the answers:
//! the conversational probe (recall of evidence turns, by category, answer sizes, latency)
//! and the fact probes (facts added through the REST API first, then recall of the gold
//! fact).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use memvox_runtime::App;
use serde::Serialize;

use super::client::Client;
use super::corpus::{Conversations, FactProbe};
use super::replay::{Identity, identify};
use super::score::{Latency, Recall, first_evidence, first_gold};

/// The limit every question is asked with (answer bytes are also measured at 5).
pub const LIMIT: u32 = 10;

/// What the conversational probe measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConversationScores {
    /// All questions.
    pub overall: Recall,
    /// By category.
    pub categories: BTreeMap<String, Recall>,
    /// Mean answer body size at `limit` 5, bytes.
    pub mean_answer_bytes_limit_5: f64,
    /// Mean answer body size at `limit` 10, bytes.
    pub mean_answer_bytes_limit_10: f64,
    /// Mean number of items returned at `limit` 10.
    pub mean_items_limit_10: f64,
    /// Every memory-query request (both limits).
    pub latency: Latency,
    /// Ids of the questions with no evidence in the first ten items.
    pub missed: Vec<String>,
    /// Each missed question with what was answered instead (for `--misses`; not reported).
    #[serde(skip)]
    pub misses: Vec<Miss>,
}

/// A question whose evidence was not in the first ten items, and what came back instead.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    /// Question id.
    pub id: String,
    /// Its category.
    pub category: String,
    /// The question.
    pub question: String,
    /// The evidence turns, `conversation_id#turn`.
    pub evidence: Vec<String>,
    /// The items answered, in order, as `conversation_id#turns: content`.
    pub answered: Vec<String>,
}

/// Asks every question of `probe` for the callers in `identities` (probe caller id → the
/// identity memvox gave them); questions of other callers are skipped.
pub async fn conversations(
    client: &Client,
    probe: &Conversations,
    identities: &BTreeMap<String, Identity>,
) -> anyhow::Result<ConversationScores> {
    let mut scores = ConversationScores::default();
    let mut current: BTreeMap<&str, (Identity, String, String)> = BTreeMap::new();
    let (mut bytes5, mut bytes10, mut items10) = (0usize, 0usize, 0usize);
    let mut latencies = Vec::new();
    let asked: Vec<_> = probe
        .questions
        .iter()
        .filter(|q| identities.contains_key(&q.caller))
        .collect();
    for (done, question) in asked.iter().enumerate() {
        if !current.contains_key(question.caller.as_str()) {
            // A new call from this caller starts: ElevenLabs asks conversation-init again.
            let call = probe
                .calls
                .iter()
                .find(|c| c.caller == question.caller)
                .ok_or_else(|| anyhow::anyhow!("no calls for {}", question.caller))?;
            let conversation = format!("conv_eval_{}", question.caller);
            let identity =
                identify(client, &call.caller_number, &call.agent_id, &conversation).await?;
            current.insert(
                question.caller.as_str(),
                (identity, call.caller_number.clone(), conversation),
            );
        }
        let (identity, number, conversation) = &current[question.caller.as_str()];
        let ask = |limit| {
            client.memory_query(
                &question.question,
                &identity.memory_user_id,
                number,
                conversation,
                limit,
            )
        };
        let answer = ask(LIMIT).await?;
        let short = ask(5).await?;
        let position = first_evidence(&answer.items, &question.evidence);
        if position.is_none_or(|p| p >= 10) {
            scores.missed.push(question.id.clone());
            scores.misses.push(Miss {
                id: question.id.clone(),
                category: question.category.clone(),
                question: question.question.clone(),
                evidence: question
                    .evidence
                    .iter()
                    .map(|e| format!("{}#{}", e.conversation_id, e.turn))
                    .collect(),
                answered: answer.items.iter().map(describe).collect(),
            });
        }
        scores.overall.record(position);
        scores
            .categories
            .entry(question.category.clone())
            .or_default()
            .record(position);
        bytes10 += answer.bytes;
        bytes5 += short.bytes;
        items10 += answer.items.len();
        latencies.extend([answer.latency, short.latency]);
        if (done + 1) % 50 == 0 || done + 1 == asked.len() {
            eprint!("\r  asked {}/{} questions", done + 1, asked.len());
        }
    }
    eprintln!();
    let n = asked.len().max(1) as f64;
    scores.mean_answer_bytes_limit_5 = bytes5 as f64 / n;
    scores.mean_answer_bytes_limit_10 = bytes10 as f64 / n;
    scores.mean_items_limit_10 = items10 as f64 / n;
    scores.latency = Latency::of(&latencies);
    Ok(scores)
}

/// An answered item as `conversation_id#turns: content` (or just the content).
fn describe(item: &super::client::Item) -> String {
    match &item.source {
        Some(source) => format!(
            "{}#{:?}: {}",
            source.conversation_id, source.turns, item.content
        ),
        None => item.content.clone(),
    }
}

/// What the callers have once the pipeline drained, read through the REST listing (up to
/// 1,000 memories each): `[min, mean, max]` memories per caller, and the share of questions
/// whose evidence is in any of the caller's memories (the recall no ranking can exceed).
pub async fn stored(
    client: &Client,
    probe: &Conversations,
    identities: &BTreeMap<String, Identity>,
) -> anyhow::Result<([f64; 3], f64)> {
    let mut memories = BTreeMap::new();
    for (caller, identity) in identities {
        memories.insert(
            caller.as_str(),
            client.list_memories(&identity.user_id).await?,
        );
    }
    let counts: Vec<f64> = memories.values().map(|m| m.len() as f64).collect();
    let per_caller = [
        counts.iter().copied().fold(f64::INFINITY, f64::min),
        counts.iter().sum::<f64>() / counts.len().max(1) as f64,
        counts.iter().copied().fold(0.0, f64::max),
    ];
    let asked: Vec<_> = probe
        .questions
        .iter()
        .filter(|q| memories.contains_key(q.caller.as_str()))
        .collect();
    let found = asked
        .iter()
        .filter(|q| first_evidence(&memories[q.caller.as_str()], &q.evidence).is_some())
        .count();
    Ok((per_caller, found as f64 / asked.len().max(1) as f64))
}

/// What a fact probe measured.
#[derive(Debug, Clone, Serialize)]
pub struct FactScores {
    /// Probe name.
    pub probe: &'static str,
    /// Facts added.
    pub facts: usize,
    /// Recall of the gold fact.
    pub recall: Recall,
    /// Memory-query requests.
    pub latency: Latency,
}

/// Adds the probe's facts through the REST API, waits until the pipeline has linked them
/// (they are embedded when the add returns), then asks every question at `limit` 10.
pub async fn facts(
    client: &Client,
    app: Option<&App>,
    probe: &FactProbe,
    timeout: Duration,
) -> anyhow::Result<FactScores> {
    let started = Instant::now();
    let baseline = super::drain::progress(client, app).await?;
    let mut ids = Vec::with_capacity(probe.facts.len());
    for (owner, text) in &probe.facts {
        ids.push(client.add_memory(owner, text).await?);
    }
    super::drain::wait(client, app, baseline, 0, timeout).await?;
    eprintln!(
        "  {}: {} facts added in {:.1} s",
        probe.name,
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    let mut recall = Recall::default();
    let mut latencies = Vec::new();
    for (gold, question) in &probe.questions {
        let (owner, text) = &probe.facts[*gold];
        let conversation = format!("conv_eval_{}", probe.name);
        let answer = client
            .memory_query(
                question,
                &client.identity_token(owner),
                "",
                &conversation,
                LIMIT,
            )
            .await?;
        recall.record(first_gold(&answer.items, &ids[*gold], text));
        latencies.push(answer.latency);
    }
    Ok(FactScores {
        probe: probe.name,
        facts: probe.facts.len(),
        recall,
        latency: Latency::of(&latencies),
    })
}
