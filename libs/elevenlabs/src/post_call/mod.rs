//! Post-call webhooks: the envelope and the `data` of each event type.
//!
//! `envelope` owns `{type, event_timestamp, data}` and dispatch on `type`; the other modules own
//! one `data` shape each. All types tolerate unknown fields, because the ElevenLabs model grows
//! every release and a rejected delivery counts towards auto-disabling the webhook.

mod analysis;
mod audio;
mod client_data;
mod envelope;
mod failure;
mod head;
mod metadata;
mod transcript;
mod transcription;

pub use analysis::{Analysis, DataCollectionResult, EvaluationResult, Verdict};
pub use audio::AudioData;
pub use client_data::InitiationClientData;
pub use envelope::{EventKind, EventPayload, WebhookEvent};
pub use failure::{
    FailureMetadata, FailureReason, InitiationFailureData, SipFailure, TwilioCallStatus,
};
pub use head::EnvelopeHead;
pub use metadata::{ConversationError, ConversationMetadata, Direction, PhoneCall, PhoneProvider};
pub use transcript::{Role, SourceMedium, ToolCall, ToolResult, TranscriptTurn};
pub use transcription::{ConversationStatus, Message, TranscriptionData};
