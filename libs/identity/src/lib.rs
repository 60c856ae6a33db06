//! Who a call is with: the identity settings every service that resolves callers shares.
//!
//! The phone channel (`metadata.phone_call`, `system__caller_id`, the conversation-init
//! webhook's numbers), which clients cannot set, is read direction-aware by
//! `memvox-elevenlabs`; this crate says which numbers are ours, so an outbound call is keyed on
//! the person dialled and never on our own number.

mod settings;

pub use settings::IdentitySettings;
