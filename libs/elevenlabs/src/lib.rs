//! ElevenLabs Agents wire formats for memvox, and webhook signatures. Pure — no I/O, no clock —
//! except the client of feature `api`.
//!
//! * [`signature`]: verify (and, for tests and load generation, create) `ElevenLabs-Signature`
//!   headers over raw webhook bodies.
//! * [`post_call`]: the post-call webhook envelope and the `data` of its three event types, with
//!   the accessors workers need (remote number, memory user id, timed messages, tool calls).
//! * [`initiation`]: the conversation-initiation webhook request and our response.
//! * [`tool`]: the `memory_query` server-tool request and tool definition.
//! * [`identity_headers`]: the headers `/mcp` and the custom-LLM proxy read identity from.
//! * [`setup`]: the ElevenLabs API request bodies that connect an agent to memvox.
//! * [`conversations`]: the Conversations API's list and details, and a conversation's details
//!   turned into the post-call event its webhook delivers.
//! * `api` (feature `api`): the client of the Conversations API, with retries.
//! * [`dynamic`]: dynamic-variable names and values we send.
//! * [`payload`]: JSON parsing whose errors name the offending field.
//!
//! The authority for every shape is `shared/spec/elevenlabs.md`; samples live in
//! `fixtures/elevenlabs/`. Types accept unknown fields everywhere and keep unknown enum values
//! (`Other(String)`), because ElevenLabs extends its payloads without notice.

#[cfg(feature = "api")]
pub mod api;
pub mod conversations;
pub mod dynamic;
pub mod identity_headers;
pub mod initiation;
mod open_enum;
pub mod payload;
pub mod post_call;
pub mod serde_util;
pub mod setup;
pub mod signature;
pub mod tool;

pub use dynamic::{DynamicValue, DynamicVariableName, InvalidVariableName};
pub use initiation::{ConversationInitRequest, ConversationInitResponse};
pub use payload::{PayloadError, from_slice};
pub use post_call::{EnvelopeHead, EventKind, EventPayload, TranscriptionData, WebhookEvent};
pub use signature::{
    SIGNATURE_HEADER, SignatureCheck, SignatureError, SignatureVerifier, Verified, sign,
};
pub use tool::MemoryQueryRequest;
