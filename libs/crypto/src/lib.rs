//! Encryption at rest for memvox: a [`Keyring`] of AES-256-GCM data keys by id (one active),
//! plus an index key for keyed blind indexes.
//!
//! An encrypted value is a self-describing text envelope,
//! `mvx1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`, with a random 96-bit nonce per value
//! and associated data naming where the value lives ([`Context`]: `table.column` and its
//! owner), so ciphertexts cannot be swapped between columns or users. A value without the
//! prefix is legacy plaintext and reads back as is; rotation rewrites it. Tampering, an unknown
//! key id or the wrong context is a [`CryptoError`], never garbage.
//!
//! Blind indexes use the index key, never a data key: [`Keyring::fingerprint`] is the per-user
//! exact-duplicate key of a memory text, and [`Keyring::term_token`] maps a normalised term to
//! the 16-hex-digit token a lexical (full-text) index stores instead of the term, so the index
//! holds no plaintext words (with encryption off both are the unkeyed hash and the term itself).
//!
//! Short-lived values kept outside the database (the shared cache's entries) are sealed by a
//! [`Sealer`] whose keys are derived from the index key for one purpose ([`Keyring::sealer`]).
//!
//! Keys come from a key file ([`key_file`]) or inline settings ([`EncryptionSettings`]); key
//! material is zeroized on drop and `Debug` never prints it.

mod error;
mod key;
pub mod key_file;
mod key_set;
mod keyring;
mod sealer;
mod settings;

pub use error::{CryptoError, CryptoResult};
pub use key::{KEY_BYTES, Key, new_key_id, validate_key_id};
pub use key_set::KeySet;
pub use keyring::{Context, ENVELOPE_PREFIX, Keyring, key_id_of};
pub use sealer::Sealer;
pub use settings::EncryptionSettings;

#[cfg(test)]
mod tests;
