//! The crypto library's error type.

use thiserror::Error;

/// Why a value could not be encrypted or decrypted, or keys could not be loaded.
#[derive(Debug, Error)]
pub enum CryptoError {
    /// The value names a key id the key source does not hold (even after reloading it).
    #[error(
        "a stored value is encrypted with key `{0}`, which the configured key source does not hold: add that key to the key file or secret"
    )]
    UnknownKey(String),
    /// Authentication failed: the value was altered, moved to another column or user, or the
    /// key with its id is not the one it was written with.
    #[error(
        "an encrypted value under key `{key_id}` failed authentication: it was altered, moved from another column or user, or the key is not the one it was written with"
    )]
    Authentication {
        /// Key id the value names.
        key_id: String,
    },
    /// The value starts like an envelope but is not one.
    #[error("malformed encrypted value: {0}")]
    Malformed(String),
    /// An encrypted value was met while encryption is off.
    #[error(
        "a stored value is encrypted but encryption is off: set encryption.enabled = true and provide the keys"
    )]
    Disabled,
    /// The keys could not be loaded, generated or saved, or are invalid.
    #[error("encryption keys: {0}")]
    KeySource(String),
}

/// Result alias for crypto operations.
pub type CryptoResult<T> = Result<T, CryptoError>;
