//! Records the store reads and writes, in domain words (no SQL types).

use std::{fmt, str::FromStr};

use memvox_core::{
    CallOutcome, Conversation, Memory, MemoryKind, MemoryState, NewEpisode, Sector, Turn,
    UnixMillis, UnknownVariant,
};
use serde::{Deserialize, Serialize};

/// The model and dimension of the vectors a store holds. One store holds one space; a vector
/// or a query from another space is an error, never a silent mismatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingSpace {
    /// Embedding model id, e.g. `static-minilm-256` or `text-embedding-3-small`.
    pub model: String,
    /// Vector length.
    pub dimension: usize,
}

impl EmbeddingSpace {
    /// The space of `model`'s vectors of length `dimension`.
    pub fn new(model: impl Into<String>, dimension: usize) -> Self {
        Self {
            model: model.into(),
            dimension,
        }
    }

    /// No space: for a process that stores and searches no vectors (the gateway), which then
    /// needs no embedding model. The store neither checks it against the recorded space nor
    /// records it, and refuses every vector.
    pub fn none() -> Self {
        Self::new("", 0)
    }

    /// Whether this is [`EmbeddingSpace::none`].
    pub fn is_none(&self) -> bool {
        self.dimension == 0
    }

    /// Checks that a vector of length `dimension` belongs to this space.
    pub fn check_dimension(&self, dimension: usize) -> crate::StoreResult<()> {
        if self.is_none() {
            Err(crate::StoreError::Config(
                "this process opened the store without an embedding space, so it stores and \
                 searches no vectors"
                    .to_owned(),
            ))
        } else if dimension == self.dimension {
            Ok(())
        } else {
            Err(crate::StoreError::EmbeddingMismatch {
                stored_model: self.model.clone(),
                stored_dimension: self.dimension,
                model: self.model.clone(),
                dimension,
            })
        }
    }
}

/// Processing state of a raw webhook event (the outbox row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored, not yet processed.
    Pending,
    /// Processed; its effects are committed.
    Completed,
    /// Gave up after retries; kept for replay.
    DeadLetter,
}

impl EventStatus {
    /// The snake-case name used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Completed => "completed",
            EventStatus::DeadLetter => "dead_letter",
        }
    }
}

impl FromStr for EventStatus {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(EventStatus::Pending),
            "completed" => Ok(EventStatus::Completed),
            "dead_letter" => Ok(EventStatus::DeadLetter),
            other => Err(UnknownVariant {
                kind: "event status",
                value: other.to_owned(),
                expected: "pending, completed, dead_letter",
            }),
        }
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A raw post-call webhook event to store before acknowledging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Payload `type`, e.g. `post_call_transcription`.
    pub event_type: String,
    /// `data.conversation_id`; with the type, the idempotency key (ElevenLabs sends no event id).
    pub conversation_id: String,
    /// Payload `event_timestamp` (unix seconds).
    pub event_timestamp: i64,
    /// The body as received (UTF-8 JSON).
    pub payload: String,
    /// When the gateway received it.
    pub received_at: UnixMillis,
    /// W3C `traceparent` of the span that accepted it, when traces are exported: stored so a
    /// re-publish of the event continues its trace.
    pub traceparent: Option<String>,
}

/// Result of storing a raw event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Row id (new or existing).
    pub id: i64,
    /// `false` when the same (type, conversation) was already stored: a duplicate delivery.
    pub inserted: bool,
}

/// What the acknowledgement path made of a delivery (`Events::accept_events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// Stored in the events table as row `id`: the caller announces it.
    Stored(i64),
    /// Stored in the ingest file (SQLite): `Events::move_staged` moves it into the events
    /// table and hands it to the caller to announce.
    Staged,
    /// Already stored (or staged) by an earlier delivery.
    Duplicate,
    /// Refused by its conversation's erasure tombstone: nothing stored.
    Erased,
}

/// An event that moved from the ingest file into the events table as a new row, to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedEvent {
    /// Its row in the events table.
    pub id: i64,
    /// Payload `type`.
    pub event_type: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The trace context it was accepted under, to announce it in.
    pub traceparent: Option<String>,
}

/// A stored raw event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Row id.
    pub id: i64,
    /// Payload `type`.
    pub event_type: String,
    /// Conversation it belongs to.
    pub conversation_id: String,
    /// Payload `event_timestamp` (unix seconds).
    pub event_timestamp: i64,
    /// The body as received.
    pub payload: String,
    /// Processing state.
    pub status: EventStatus,
    /// Processing attempts recorded.
    pub attempts: i64,
    /// Last error, for dead letters.
    pub error_message: Option<String>,
    /// Receipt time.
    pub received_at: UnixMillis,
    /// Last time it was published to the bus.
    pub published_at: Option<UnixMillis>,
    /// The trace context it was accepted under (`None` when traces were not exported).
    pub traceparent: Option<String>,
}

/// The platform's analysis of a call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallAnalysis {
    /// `analysis.transcript_summary`.
    pub summary: Option<String>,
    /// `analysis.call_successful`.
    pub outcome: CallOutcome,
    /// `analysis.evaluation_criteria_results`, as received, its strings redacted under the
    /// analysis-results policy.
    pub evaluation: Option<serde_json::Value>,
    /// `analysis.data_collection_results`, as received, its strings redacted under the
    /// analysis-results policy.
    pub data_collection: Option<serde_json::Value>,
}

/// Everything recorded about one call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// The conversation header.
    pub conversation: Conversation,
    /// Transcript turns in delivered order.
    pub turns: Vec<Turn>,
    /// Platform analysis, when present.
    pub analysis: Option<CallAnalysis>,
}

/// Filters for listing and searching a user's memories.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemoryFilter {
    /// Only these kinds (empty: facts only — episodes are searched and listed only when asked
    /// for, so extraction, summaries and listings keep to the compact layer).
    pub kinds: Vec<MemoryKind>,
    /// Only these sectors (empty: all).
    pub sectors: Vec<Sector>,
    /// Only these states (empty: active only).
    pub states: Vec<MemoryState>,
    /// Include memories superseded by a later one (hidden by default, kept for audit).
    pub include_superseded: bool,
    /// Created at or after.
    pub created_after: Option<UnixMillis>,
    /// Created before.
    pub created_before: Option<UnixMillis>,
}

impl MemoryFilter {
    /// Facts and episodes, with every other field at its default.
    pub fn both_layers() -> Self {
        Self {
            kinds: MemoryKind::ALL.to_vec(),
            ..Self::default()
        }
    }

    /// The kinds to match: those given, or facts only.
    pub fn effective_kinds(&self) -> &[MemoryKind] {
        if self.kinds.is_empty() {
            &[MemoryKind::Fact]
        } else {
            &self.kinds
        }
    }

    /// Whether a memory's kind, sector, state, supersession and time pass this filter.
    pub fn admits(
        &self,
        kind: MemoryKind,
        sector: Sector,
        state: MemoryState,
        superseded: bool,
        created_at: UnixMillis,
    ) -> bool {
        self.effective_kinds().contains(&kind)
            && (self.sectors.is_empty() || self.sectors.contains(&sector))
            && self.effective_states().contains(&state)
            && (self.include_superseded || !superseded)
            && self.created_after.is_none_or(|t| created_at >= t)
            && self.created_before.is_none_or(|t| created_at < t)
    }

    /// The states to match: those given, or active only.
    pub fn effective_states(&self) -> &[MemoryState] {
        if self.states.is_empty() {
            &[MemoryState::Active]
        } else {
            &self.states
        }
    }

    /// Whether `memory` passes this filter.
    pub fn matches(&self, memory: &Memory) -> bool {
        self.admits(
            memory.kind,
            memory.sector,
            memory.state,
            memory.superseded_by.is_some(),
            memory.created_at,
        )
    }
}

/// A memory found by vector search, with its cosine similarity to the query.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The memory.
    pub memory: Memory,
    /// Cosine similarity in `[-1, 1]`.
    pub similarity: f64,
}

/// A memory found by lexical search: it contains at least one of the query's words.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalHit {
    /// The memory.
    pub memory: Memory,
    /// Cosine similarity of its vector to the query vector (`0` when it has no vector yet).
    pub similarity: f64,
    /// Indexes of the query words it contains (into [`LexicalSearch::document_frequency`]).
    pub matched: Vec<usize>,
}

/// The result of a lexical search, with what scoring the matches needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LexicalSearch {
    /// How many memories the user has in the lexical index.
    pub memories: usize,
    /// For each distinct query word, how many of the user's memories contain it.
    pub document_frequency: Vec<usize>,
    /// The matches, most query words (BM25) first.
    pub hits: Vec<LexicalHit>,
}

/// A memory similar to one of the same user's memories (see
/// [`Search::similar_memories`](crate::Search::similar_memories)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    /// The memory whose neighbours were asked for.
    pub memory: memvox_core::MemoryId,
    /// A similar memory of the same user.
    pub neighbour: memvox_core::MemoryId,
    /// Cosine similarity of the two vectors, in `[-1, 1]`.
    pub similarity: f64,
}

/// Changes to a memory's text or ranking inputs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemoryEdit {
    /// New text.
    pub content: Option<String>,
    /// New sector.
    pub sector: Option<Sector>,
    /// New salience (clamped to `[0, 1]`).
    pub salience: Option<f64>,
    /// New state.
    pub state: Option<MemoryState>,
}

/// One logged server-tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInvocation {
    /// Tool name, e.g. `memory_query`.
    pub tool_name: String,
    /// Conversation the call came from, when the agent sent it.
    pub conversation_id: Option<String>,
    /// User it was about, when known.
    pub user_id: Option<String>,
    /// Request parameters.
    pub request_params: serde_json::Value,
    /// Response body, when one was sent.
    pub response_data: Option<serde_json::Value>,
    /// Handling time.
    pub latency_ms: i64,
    /// Whether it answered successfully.
    pub success: bool,
    /// Error text for failures.
    pub error_message: Option<String>,
    /// When it was received.
    pub created_at: UnixMillis,
}

/// What erasing a user removed, table by table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErasureReceipt {
    /// The erased user.
    pub user_id: String,
    /// `(table, rows deleted)` for every table that held rows about the user.
    pub deleted: Vec<(String, u64)>,
    /// The erased conversation ids, sorted: what the caller keeps outside the database (post-call
    /// audio files) is named by them.
    pub conversations: Vec<String>,
}

impl ErasureReceipt {
    /// Total rows deleted.
    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
}

/// What a user's memories stood at: both versions move, in the transaction of the write, on
/// every committed change a query answer could show (a memory added, edited, re-sectioned,
/// paused, superseded or deleted, a vector stored). Never reused, not even after an erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserVersion {
    /// `users.vectors_version`: what the vector index holds.
    pub vectors: i64,
    /// `users.answers_version`: memories added and their texts.
    pub answers: i64,
}

/// One memory change the extraction worker commits for a call.
#[derive(Debug, Clone, PartialEq)]
pub enum PlannedMemory {
    /// A new memory.
    Add(memvox_core::NewMemory),
    /// The same fact said again or refined: the target takes the new text (the old text goes
    /// to its history), its salience rises, and it is marked as seen now.
    Update {
        /// The memory to update.
        target: memvox_core::MemoryId,
        /// The candidate's text, salience and provenance.
        memory: memvox_core::NewMemory,
    },
    /// A contradicted memory: the replacement is inserted and the target marked superseded.
    Supersede {
        /// The memory that no longer holds.
        target: memvox_core::MemoryId,
        /// What holds now.
        replacement: memvox_core::NewMemory,
    },
    /// Nothing new: the target was confirmed again (seen now, salience nudged up).
    Reinforce {
        /// Owner of the memory.
        user_id: String,
        /// The confirmed memory.
        target: memvox_core::MemoryId,
        /// Where it was confirmed.
        provenance: Option<memvox_core::Provenance>,
    },
}

/// Everything processing one post-call event writes, applied in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractionCommit {
    /// The raw event being processed; it is marked completed in the same transaction.
    pub event_id: i64,
    /// The call to record, if the event carries one.
    pub call: Option<CallRecord>,
    /// A caller number to bind to the call's user (first call from a new number).
    pub bind_caller: Option<(String, String)>,
    /// Memory changes, for the call's user.
    pub memories: Vec<PlannedMemory>,
    /// The call's episodes, stored for the call's user (replacing any an earlier recording of
    /// the conversation wrote); ignored without a call that has a user.
    pub episodes: Vec<NewEpisode>,
    /// Commit time.
    pub now: UnixMillis,
}

impl ExtractionCommit {
    /// The user the call's episodes are stored for: the recorded call's user. `None` (no call,
    /// or a call without a user) means the episodes are not stored.
    pub fn episodes_owner(&self) -> Option<&str> {
        self.call.as_ref()?.conversation.user_id.as_deref()
    }
}

/// What committing an extraction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractionOutcome {
    /// Memories added, updated, superseding or reinforced, in plan order, then the call's
    /// episodes.
    pub memory_ids: Vec<memvox_core::MemoryId>,
    /// `true` when the event had already been processed: nothing was written, and
    /// `memory_ids` are those recorded by the earlier run.
    pub already_applied: bool,
    /// `true` when the call's conversation, user or number was erased meanwhile: the event
    /// row was deleted, its conversation tombstoned, and nothing else written.
    pub erased: bool,
}
