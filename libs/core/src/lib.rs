//! memvox domain: users, caller identities, conversations, memories, sectors, links, and the pure
//! functions that rank memories (composite score, recency decay, single-waypoint graph expansion).
//!
//! Nothing in this crate performs I/O, and no domain function reads the clock: every time is
//! passed in as unix milliseconds, so every formula is deterministic and unit-tested. The one
//! reading of the wall clock for the whole workspace is [`clock`], which callers use to get
//! those times.

pub mod calendar;
pub mod clock;
pub mod conversation;
pub mod episode;
pub mod fusion;
pub mod memory;
pub mod redact;
pub mod scoring;
pub mod sector;
pub mod text;
pub mod user;
pub mod vector;

pub use clock::{Clock, now_millis};
pub use conversation::{CallOutcome, Conversation, ConversationStatus, Role, Turn};
pub use episode::{EpisodeWindows, MemoryKind, NewEpisode};
pub use memory::{
    LinkKind, Memory, MemoryCandidate, MemoryId, MemoryLink, MemoryOp, MemoryState, NewMemory,
    Provenance,
};
pub use scoring::{ScoreBreakdown, ScoreWeights, Scored};
pub use sector::{Sector, SectorDecay};
pub use user::{
    CallerIdentity, DEFAULT_SCOPE, SCOPE_SEPARATOR, User, guest_user_id, normalized_number_key,
    scope_of, scoped,
};

/// Milliseconds since the Unix epoch (UTC). The one time representation inside memvox.
pub type UnixMillis = i64;

/// Milliseconds in one day, for decay formulas expressed per day.
pub const MILLIS_PER_DAY: f64 = 86_400_000.0;

/// Error for a string that does not name a known value of a domain enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}` (expected one of: {expected})")]
pub struct UnknownVariant {
    /// Which enum was being parsed, e.g. "sector".
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: &'static str,
}
