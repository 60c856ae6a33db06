//! The structured-output contract with the model: its JSON schema, and the check that turns an
//! answer into candidates or says exactly what is wrong with it.
//!
//! Owns [`response_schema`] and [`validate`]. Invariants: an answer is accepted whole or not at
//! all; accepted candidates satisfy every promise of [`crate::extract::Extractor`] (known
//! sector, salience in `[0, 1]`, content non-empty and short, turn indexes of this call, op
//! targets among the given existing ids, no target on `add`).

use std::collections::HashSet;

use memvox_core::{MemoryCandidate, MemoryOp, Sector};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::extract::{CallTranscript, MAX_CONTENT_CHARS};

/// Name of the schema in the request.
pub(crate) const SCHEMA_NAME: &str = "memvox_memories";

/// The JSON schema of an answer, in the strict subset OpenAI's structured outputs accept.
pub(crate) fn response_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "memories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "content": {"type": "string", "description": "Third person, under 100 characters, one fact."},
                        "sector": {"type": "string", "enum": ["semantic", "episodic", "procedural", "emotional", "reflective"]},
                        "salience": {"type": "number", "description": "0.0 to 1.0"},
                        "turn_indexes": {"type": "array", "items": {"type": "integer"}},
                        "op": {"type": "string", "enum": ["add", "update", "supersede", "noop"]},
                        "target_id": {"type": ["integer", "null"], "description": "Existing memory id for update, supersede and noop; null for add."}
                    },
                    "required": ["content", "sector", "salience", "turn_indexes", "op", "target_id"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["memories"],
        "additionalProperties": false
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    memories: Vec<WireMemory>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMemory {
    content: String,
    sector: String,
    salience: f64,
    turn_indexes: Vec<i64>,
    op: String,
    target_id: Option<i64>,
}

/// The candidates in `answer`, or the first reason it breaks the contract.
pub(crate) fn validate(
    answer: &str,
    call: &CallTranscript,
) -> Result<Vec<MemoryCandidate>, String> {
    let parsed: Answer = serde_json::from_str(answer.trim())
        .map_err(|e| format!("the answer is not JSON matching the schema: {e}"))?;
    let turns: HashSet<i64> = call.turns.iter().map(|t| i64::from(t.index)).collect();
    let ids: HashSet<i64> = call.existing.iter().map(|m| m.id).collect();
    parsed
        .memories
        .into_iter()
        .enumerate()
        .map(|(i, m)| check(m, &turns, &ids).map_err(|reason| format!("memory #{i}: {reason}")))
        .collect()
}

fn check(
    m: WireMemory,
    turns: &HashSet<i64>,
    ids: &HashSet<i64>,
) -> Result<MemoryCandidate, String> {
    let content = m.content.trim().to_owned();
    if content.is_empty() {
        return Err("content is empty".to_owned());
    }
    let chars = content.chars().count();
    if chars >= MAX_CONTENT_CHARS {
        return Err(format!(
            "content has {chars} characters; it must have fewer than {MAX_CONTENT_CHARS}"
        ));
    }
    let sector: Sector = m.sector.parse().map_err(|e| format!("{e}"))?;
    if !(m.salience.is_finite() && (0.0..=1.0).contains(&m.salience)) {
        return Err(format!("salience {} is outside 0..1", m.salience));
    }
    let mut turn_indexes = Vec::with_capacity(m.turn_indexes.len());
    for index in m.turn_indexes {
        let known = u32::try_from(index).ok().filter(|_| turns.contains(&index));
        turn_indexes
            .push(known.ok_or_else(|| format!("turn index {index} is not a turn of this call"))?);
    }
    turn_indexes.sort_unstable();
    turn_indexes.dedup();
    let target = |op: &str| -> Result<i64, String> {
        match m.target_id {
            Some(id) if ids.contains(&id) => Ok(id),
            Some(id) => Err(format!(
                "{op} target {id} is not one of the existing memory ids"
            )),
            None => Err(format!("{op} needs a target_id")),
        }
    };
    let op = match m.op.as_str() {
        "add" if m.target_id.is_none() => MemoryOp::Add,
        "add" => return Err("add must have target_id null".to_owned()),
        "update" => MemoryOp::Update {
            target: target("update")?,
        },
        "supersede" => MemoryOp::Supersede {
            target: target("supersede")?,
        },
        "noop" => MemoryOp::Noop {
            target: target("noop")?,
        },
        other => return Err(format!("unknown op `{other}`")),
    };
    Ok(MemoryCandidate {
        content,
        sector,
        salience: m.salience,
        turn_indexes,
        op,
    })
}
