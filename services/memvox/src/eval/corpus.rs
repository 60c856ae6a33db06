//! The probe files, read as they are committed: the conversational probe
//! (`probes/conversations/calls.jsonl`, `questions.jsonl`) and the fact probes
//! (`probes/retrieval`, `probes/lexical`: `facts.tsv`, `questions.tsv`).

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// One recorded phone call of the conversational probe.
#[derive(Debug, Clone, Deserialize)]
pub struct Call {
    /// Probe id of the caller (not a memvox id: memvox learns the caller from the number).
    pub caller: String,
    /// The caller's phone number (E.164), as the phone channel reports it.
    pub caller_number: String,
    /// ElevenLabs conversation id.
    pub conversation_id: String,
    /// ElevenLabs agent id.
    pub agent_id: String,
    /// When the call started.
    pub start_time_unix_secs: i64,
    /// The transcript, agent first.
    pub turns: Vec<Turn>,
}

/// One transcript turn.
#[derive(Debug, Clone, Deserialize)]
pub struct Turn {
    /// `agent` or `user`.
    pub role: String,
    /// What was said.
    pub message: String,
    /// Seconds from the start of the call.
    pub time_in_call_secs: i64,
}

/// A question and the turns that answer it.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    /// Question id.
    pub id: String,
    /// Probe id of the caller it is about.
    pub caller: String,
    /// The query, phrased as an agent asks its memory tool.
    pub question: String,
    /// `single_hop`, `multi_hop`, `temporal`, `paraphrase` or `updated`.
    pub category: String,
    /// Turns whose content answers it; any one counts.
    pub evidence: Vec<Evidence>,
}

/// A turn of a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Evidence {
    /// The call.
    pub conversation_id: String,
    /// Index into the call's turns.
    pub turn: u32,
}

/// The conversational probe.
#[derive(Debug, Clone)]
pub struct Conversations {
    /// Every call, in file order.
    pub calls: Vec<Call>,
    /// Every question.
    pub questions: Vec<Question>,
}

impl Conversations {
    /// Reads `calls.jsonl` and `questions.jsonl` from `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            calls: read_jsonl(&dir.join("calls.jsonl"))?,
            questions: read_jsonl(&dir.join("questions.jsonl"))?,
        })
    }
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{} line {}: not a probe record", path.display(), n + 1))
        })
        .collect()
}

/// A fact probe: facts stored as memories, questions with one gold fact each.
#[derive(Debug, Clone)]
pub struct FactProbe {
    /// Short name for reports (`paraphrase`, `lexical`).
    pub name: &'static str,
    /// `(owner, fact text)`: the user the fact is stored under.
    pub facts: Vec<(String, String)>,
    /// `(index of the gold fact, question)`.
    pub questions: Vec<(usize, String)>,
}

/// The callers the paraphrase probe's facts name (see `probes/retrieval/README.md`).
const RETRIEVAL_CALLERS: [&str; 10] = [
    "Maria", "Daniel", "Priya", "Tom", "Chen", "Fatima", "Lukas", "Sofia", "James", "Aisha",
];

impl FactProbe {
    /// `probes/retrieval`: each fact under the caller it names, one user per caller.
    pub fn paraphrase(dir: &Path) -> anyhow::Result<Self> {
        let set = memvox_ai::eval::ProbeSet::load(dir)?;
        let owner = |fact: &str| {
            let name = RETRIEVAL_CALLERS
                .iter()
                .find(|name| fact.contains(*name))
                .map_or("nobody", |name| name);
            format!("probe_paraphrase_{}", name.to_lowercase())
        };
        Ok(Self {
            name: "paraphrase",
            facts: set
                .facts
                .iter()
                .map(|(_, f)| (owner(f), f.clone()))
                .collect(),
            questions: set.questions,
        })
    }

    /// `probes/lexical`: one caller's facts, all under one user.
    pub fn lexical(dir: &Path) -> anyhow::Result<Self> {
        let set = memvox_ai::eval::ProbeSet::load(dir)?;
        Ok(Self {
            name: "lexical",
            facts: set
                .facts
                .iter()
                .map(|(_, f)| ("probe_lexical".to_owned(), f.clone()))
                .collect(),
            questions: set.questions,
        })
    }
}
