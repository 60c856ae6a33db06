//! Conversations, their transcript turns and the platform's analysis outcome.
//!
//! Times follow the ElevenLabs payloads: a call starts at a unix time, and each turn carries its
//! offset in seconds from that start. Turn indexes are positions in the transcript as delivered,
//! including tool-only turns with no message, so provenance indexes line up with the raw event.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{UnixMillis, UnknownVariant};

/// Who spoke a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The caller.
    User,
    /// The voice agent.
    Agent,
}

impl Role {
    /// The lower-case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Agent => "agent",
        }
    }
}

impl FromStr for Role {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "agent" => Ok(Role::Agent),
            other => Err(UnknownVariant {
                kind: "role",
                value: other.to_owned(),
                expected: "user, agent",
            }),
        }
    }
}

/// One transcript turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Position in the delivered transcript (0-based).
    pub index: u32,
    /// Speaker.
    pub role: Role,
    /// What was said; `None` on tool-call and tool-result turns.
    pub message: Option<String>,
    /// Seconds from the start of the call.
    pub time_in_call_secs: i64,
}

/// Lifecycle of a conversation as memvox records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Started (seen at initiation) but no post-call event yet.
    InProgress,
    /// The call happened and its transcript was recorded.
    Completed,
    /// The call could not be set up (`call_initiation_failure`).
    Failed,
}

impl ConversationStatus {
    /// The snake-case name used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::InProgress => "in_progress",
            ConversationStatus::Completed => "completed",
            ConversationStatus::Failed => "failed",
        }
    }
}

impl FromStr for ConversationStatus {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "in_progress" => Ok(ConversationStatus::InProgress),
            "completed" => Ok(ConversationStatus::Completed),
            "failed" => Ok(ConversationStatus::Failed),
            other => Err(UnknownVariant {
                kind: "conversation status",
                value: other.to_owned(),
                expected: "in_progress, completed, failed",
            }),
        }
    }
}

/// The platform's verdict on a call (`analysis.call_successful`), a string enum on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallOutcome {
    /// The agent reached the call's goal.
    Success,
    /// It did not.
    Failure,
    /// Not evaluated, or a value memvox does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl CallOutcome {
    /// The lower-case name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Success => "success",
            CallOutcome::Failure => "failure",
            CallOutcome::Unknown => "unknown",
        }
    }

    /// Parses the wire value; anything unrecognised is `Unknown` (the enum is open upstream).
    pub fn from_wire(s: &str) -> Self {
        match s {
            "success" => CallOutcome::Success,
            "failure" => CallOutcome::Failure,
            _ => CallOutcome::Unknown,
        }
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A conversation's header row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// ElevenLabs conversation id (`conv_…`, opaque, not a UUID).
    pub conversation_id: String,
    /// Agent that took the call.
    pub agent_id: String,
    /// The caller, when identified.
    pub user_id: Option<String>,
    /// Call start.
    pub started_at: UnixMillis,
    /// Call length in seconds, when known.
    pub duration_secs: Option<i64>,
    /// Lifecycle.
    pub status: ConversationStatus,
    /// Why the call failed (`busy`, `no-answer`, …) for failed calls.
    pub failure_reason: Option<String>,
}

impl Conversation {
    /// End of the call: start plus duration (the payload has no end time of its own).
    pub fn ended_at(&self) -> Option<UnixMillis> {
        self.duration_secs
            .map(|secs| self.started_at + secs.saturating_mul(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_time_is_start_plus_duration() {
        let conversation = Conversation {
            conversation_id: "conv_1".into(),
            agent_id: "agent_1".into(),
            user_id: None,
            started_at: 1_767_225_300_000,
            duration_secs: Some(330),
            status: ConversationStatus::Completed,
            failure_reason: None,
        };
        assert_eq!(conversation.ended_at(), Some(1_767_225_630_000));
    }

    #[test]
    fn call_outcome_is_an_open_string_enum() {
        assert_eq!(CallOutcome::from_wire("success"), CallOutcome::Success);
        assert_eq!(CallOutcome::from_wire("partial"), CallOutcome::Unknown);
        let parsed: CallOutcome = serde_json::from_str("\"something_new\"").unwrap();
        assert_eq!(parsed, CallOutcome::Unknown);
    }

    #[test]
    fn statuses_and_roles_round_trip() {
        for status in [
            ConversationStatus::InProgress,
            ConversationStatus::Completed,
            ConversationStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<ConversationStatus>(), Ok(status));
        }
        assert_eq!("agent".parse::<Role>(), Ok(Role::Agent));
        assert!("tool".parse::<Role>().is_err());
    }
}
