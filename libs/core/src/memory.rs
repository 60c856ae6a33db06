//! Memories, their lifecycle state, provenance and links.
//!
//! A memory is one short fact about one user, in one sector, with a salience in `[0, 1]`. Every
//! memory extracted from a call records where it came from (conversation id and turn indexes),
//! so anyone can see why it was remembered. A memory contradicted by a later one is not deleted
//! but superseded: it stays for audit and is hidden from search.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{MemoryKind, Sector, UnixMillis, UnknownVariant};

/// Database identifier of a memory.
pub type MemoryId = i64;

/// Lifecycle state a person (or the API) sets on a memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryState {
    /// Searchable and used in context.
    #[default]
    Active,
    /// Temporarily hidden from search; can be resumed.
    Paused,
    /// Kept for the record, hidden from search.
    Archived,
}

impl MemoryState {
    /// Every state, in a stable order.
    pub const ALL: [MemoryState; 3] = [
        MemoryState::Active,
        MemoryState::Paused,
        MemoryState::Archived,
    ];

    /// The lower-case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryState::Active => "active",
            MemoryState::Paused => "paused",
            MemoryState::Archived => "archived",
        }
    }
}

impl fmt::Display for MemoryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MemoryState {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MemoryState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                kind: "memory state",
                value: s.to_owned(),
                expected: "active, paused, archived",
            })
    }
}

/// Where a memory came from: the conversation and the transcript turns (0-based indexes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// ElevenLabs conversation id (`conv_…`).
    pub conversation_id: String,
    /// Indexes into the conversation's transcript of the turns the memory was drawn from.
    pub turn_indexes: Vec<u32>,
}

/// A stored memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Database id.
    pub id: MemoryId,
    /// Owner.
    pub user_id: String,
    /// The fact itself, short (extractors aim for under 100 characters); for an episode, its
    /// speaker-labelled turns.
    pub content: String,
    /// Its layer: a fact, or an episode (a window of a call's transcript).
    #[serde(default)]
    pub kind: MemoryKind,
    /// Kind of memory.
    pub sector: Sector,
    /// Importance in `[0, 1]`.
    pub salience: f64,
    /// Decay rate λ per day used for recency.
    pub decay_per_day: f64,
    /// Lifecycle state.
    pub state: MemoryState,
    /// Last time the memory was created, repeated or recalled: recency counts from here.
    pub last_seen_at: UnixMillis,
    /// When it was said: the time of the call it came from (the time it was added, for a memory
    /// added by hand).
    pub created_at: UnixMillis,
    /// Last modification time.
    pub updated_at: UnixMillis,
    /// Where it came from; `None` for memories added by hand.
    pub provenance: Option<Provenance>,
    /// The memory that replaced this one, when a later call contradicted it.
    pub superseded_by: Option<MemoryId>,
    /// When it was superseded.
    pub superseded_at: Option<UnixMillis>,
}

impl Memory {
    /// Whether search should consider this memory: active and not superseded.
    pub fn is_searchable(&self) -> bool {
        self.state == MemoryState::Active && self.superseded_by.is_none()
    }
}

/// A memory to insert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMemory {
    /// Owner.
    pub user_id: String,
    /// The fact itself.
    pub content: String,
    /// Kind of memory.
    pub sector: Sector,
    /// Importance in `[0, 1]` (clamped on insert).
    pub salience: f64,
    /// Where it came from; `None` for manual memories.
    pub provenance: Option<Provenance>,
}

/// What to do with an extracted memory, given the user's existing similar memories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MemoryOp {
    /// A new fact.
    Add,
    /// The same fact as an existing memory, said again or refined: merge into it.
    Update {
        /// The memory to update.
        target: MemoryId,
    },
    /// Contradicts an existing memory: the new one replaces it.
    Supersede {
        /// The memory it replaces.
        target: MemoryId,
    },
    /// Nothing new: already known exactly.
    Noop {
        /// The memory that already says it.
        target: MemoryId,
    },
}

/// One memory an extractor proposes from a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryCandidate {
    /// The fact, short.
    pub content: String,
    /// Kind of memory.
    pub sector: Sector,
    /// Importance in `[0, 1]`.
    pub salience: f64,
    /// Transcript turns it was drawn from (0-based).
    pub turn_indexes: Vec<u32>,
    /// What to do with it.
    pub op: MemoryOp,
}

/// How a link between two memories came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// Built from embedding similarity.
    Automatic,
    /// Made by a person through the API.
    Manual,
    /// An automatic link that was found again and strengthened.
    Reinforced,
}

impl LinkKind {
    /// The lower-case name used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Automatic => "automatic",
            LinkKind::Manual => "manual",
            LinkKind::Reinforced => "reinforced",
        }
    }
}

impl FromStr for LinkKind {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [LinkKind::Automatic, LinkKind::Manual, LinkKind::Reinforced]
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownVariant {
                kind: "link kind",
                value: s.to_owned(),
                expected: "automatic, manual, reinforced",
            })
    }
}

/// A directed, weighted edge between two memories of the same user. Automatic links are stored
/// in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MemoryLink {
    /// From.
    pub source: MemoryId,
    /// To.
    pub target: MemoryId,
    /// Strength in `[0, 1]` (cosine similarity for automatic links).
    pub weight: f64,
    /// Origin of the link.
    pub kind: LinkKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for state in MemoryState::ALL {
            assert_eq!(state.as_str().parse::<MemoryState>(), Ok(state));
        }
        assert!("deleted".parse::<MemoryState>().is_err());
    }

    #[test]
    fn ops_serialise_with_a_tag() {
        let json = serde_json::to_value(MemoryOp::Supersede { target: 7 }).unwrap();
        assert_eq!(json, serde_json::json!({"op": "supersede", "target": 7}));
        let add: MemoryOp = serde_json::from_str(r#"{"op":"add"}"#).unwrap();
        assert_eq!(add, MemoryOp::Add);
    }

    #[test]
    fn superseded_and_paused_memories_are_not_searchable() {
        let mut memory = Memory {
            id: 1,
            user_id: "u".into(),
            content: "likes tea".into(),
            kind: MemoryKind::Fact,
            sector: Sector::Semantic,
            salience: 0.5,
            decay_per_day: 0.005,
            state: MemoryState::Active,
            last_seen_at: 0,
            created_at: 0,
            updated_at: 0,
            provenance: None,
            superseded_by: None,
            superseded_at: None,
        };
        assert!(memory.is_searchable());
        memory.superseded_by = Some(2);
        assert!(!memory.is_searchable());
        memory.superseded_by = None;
        memory.state = MemoryState::Paused;
        assert!(!memory.is_searchable());
    }
}
