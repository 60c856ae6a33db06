//! Key material: 32 random bytes that are zeroized on drop and never printed, and key ids.

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD};
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{CryptoError, CryptoResult};

/// Bytes of an AES-256 or HMAC-SHA256 key.
pub const KEY_BYTES: usize = 32;

/// A 256-bit secret key. `Debug` prints `Key(***)`; the bytes are wiped when it is dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Key([u8; KEY_BYTES]);

impl Key {
    /// A new key from the thread's cryptographically secure generator (seeded by the OS).
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Decodes a base64 (standard alphabet, padded) key of exactly 32 bytes; `what` names the
    /// key in the error.
    pub fn from_base64(text: &str, what: &str) -> CryptoResult<Self> {
        let mut decoded = STANDARD.decode(text.trim()).map_err(|_| {
            CryptoError::KeySource(format!("{what} is not base64 (standard alphabet)"))
        })?;
        if decoded.len() != KEY_BYTES {
            let len = decoded.len();
            decoded.zeroize();
            return Err(CryptoError::KeySource(format!(
                "{what} must decode to {KEY_BYTES} bytes, got {len}"
            )));
        }
        let mut bytes = [0u8; KEY_BYTES];
        bytes.copy_from_slice(&decoded);
        decoded.zeroize();
        Ok(Self(bytes))
    }

    /// The key as base64, for writing a key file or a secret.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The raw bytes; only for the cipher and the MAC.
    pub(crate) fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(***)")
    }
}

/// Checks a key id: 1 to 32 ASCII letters, digits, `-` or `_` (it is written into every value).
pub fn validate_key_id(id: &str) -> CryptoResult<()> {
    let valid = !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(CryptoError::KeySource(format!(
            "key id `{id}` must be 1 to 32 letters, digits, `-` or `_`"
        )))
    }
}

/// A fresh key id from the current time, e.g. `k20261124230612`.
pub fn new_key_id() -> String {
    let secs = memvox_core::now_millis().div_euclid(1000).max(0);
    let mut suffix = [0u8; 3];
    rand::rng().fill_bytes(&mut suffix);
    format!("k{secs}{}", hex::encode(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_bytes() {
        let key = Key::from_base64(&STANDARD.encode([7u8; 32]), "k").unwrap();
        assert_eq!(format!("{key:?}"), "Key(***)");
    }

    #[test]
    fn base64_round_trips_and_rejects_wrong_lengths() {
        let key = Key::generate();
        assert!(Key::from_base64(&key.to_base64(), "k").unwrap() == key);
        let err = Key::from_base64(&STANDARD.encode([1u8; 16]), "encryption.keys[a]").unwrap_err();
        assert!(
            err.to_string().contains("must decode to 32 bytes, got 16"),
            "{err}"
        );
        assert!(Key::from_base64("not base64!", "k").is_err());
    }

    #[test]
    fn key_ids_are_restricted() {
        assert!(validate_key_id("k2026-01_a").is_ok());
        assert!(validate_key_id("").is_err());
        assert!(validate_key_id("a:b").is_err());
        assert!(validate_key_id(&"x".repeat(33)).is_err());
        assert!(validate_key_id(&new_key_id()).is_ok());
    }
}
