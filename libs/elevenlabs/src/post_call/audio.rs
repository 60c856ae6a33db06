//! `data` of a `post_call_audio` webhook: the whole call as base64 MP3.
//!
//! Spec §1.4. Exactly three fields; delivered separately from, and unordered with, the
//! transcription webhook, chunked, and possibly several megabytes. The audio stays base64 text
//! here: decoding is left to whoever stores it.

use serde::{Deserialize, Serialize};

/// `data` of a `post_call_audio` webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioData {
    /// Agent that took the call.
    pub agent_id: String,
    /// Conversation the audio belongs to.
    pub conversation_id: String,
    /// Base64 of the MP3 of the whole call.
    pub full_audio: String,
}
