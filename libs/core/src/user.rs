//! Users (the callers memvox remembers) and the mapping from phone numbers to users.

use serde::{Deserialize, Serialize};

use crate::UnixMillis;

/// A caller memvox keeps memories for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Stable id: the agent builder's own id, or a generated guest id (`guest_…`).
    pub user_id: String,
    /// Name when known (from a memory or set through the API).
    pub display_name: Option<String>,
    /// Generated summary of who this caller is.
    pub summary: Option<String>,
    /// Number of memories currently stored.
    pub total_memories: i64,
    /// Last call or API interaction.
    pub last_interaction: Option<UnixMillis>,
    /// Creation time.
    pub created_at: UnixMillis,
}

/// A phone number (E.164, as ElevenLabs reports `system__caller_id`) bound to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    /// The caller's number.
    pub phone_number: String,
    /// The user it belongs to.
    pub user_id: String,
    /// When the binding was made.
    pub created_at: UnixMillis,
}
