//! [`Sealer`]: authenticated encryption of short-lived bytes kept outside the database (shared
//! cache entries) and keyed names for them, under keys derived from the keyring's index key for
//! one purpose.
//!
//! Every process holding the same keys derives the same sealer, so a value one replica sealed
//! opens in another. The index key is never rotated (fingerprints and tokens depend on it), so
//! neither are these derived keys; what they protect lives minutes, not years.

use std::fmt;

use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{Aead, Nonce, Payload},
};
use hmac::{Hmac, KeyInit as MacInit, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::{CryptoError, CryptoResult};

/// Bytes of an AES-GCM nonce.
const NONCE_BYTES: usize = 12;
/// Bytes of an AES-GCM tag.
const TAG_BYTES: usize = 16;
/// Bytes of a keyed name (128 bits), hex-encoded by [`Sealer::name`].
const NAME_BYTES: usize = 16;

/// AES-256-GCM over bytes with a random nonce per value, plus an HMAC-SHA256 key for names.
/// `Debug` prints no key material. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    names: Hmac<Sha256>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// A sealer from a 32-byte encryption key and a name key (any length).
    pub(crate) fn new(seal_key: &[u8], name_key: &[u8]) -> CryptoResult<Self> {
        let cipher = Aes256Gcm::new_from_slice(seal_key)
            .map_err(|_| CryptoError::KeySource("a sealing key must be 32 bytes".into()))?;
        let names = <Hmac<Sha256> as MacInit>::new_from_slice(name_key)
            .map_err(|_| CryptoError::KeySource("bad name key".into()))?;
        Ok(Self { cipher, names })
    }

    /// `plaintext` sealed and bound to `aad` (e.g. the key it is stored under): nonce ‖
    /// ciphertext ‖ tag.
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] for a value too long for AES-GCM (beyond 64 GiB).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> CryptoResult<Vec<u8>> {
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce_bytes);
        let nonce = Nonce::<Aes256Gcm>::from(nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Malformed("value too long to seal".into()))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext of a [`Sealer::seal`] output under the same `aad`; `None` when it was
    /// altered, truncated, sealed for another `aad` or under other keys.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_BYTES + TAG_BYTES {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce).ok()?;
        self.cipher.decrypt(&nonce, Payload { msg: body, aad }).ok()
    }

    /// A keyed name for `data` (e.g. a user id in a cache key): 32 hex digits of an
    /// HMAC-SHA256, deterministic for the same keys, meaningless without them.
    pub fn name(&self, data: &[u8]) -> String {
        let mut mac = self.names.clone();
        mac.update(data);
        hex::encode(&mac.finalize().into_bytes()[..NAME_BYTES])
    }
}

#[cfg(test)]
mod tests {
    use crate::{KeySet, Keyring};

    fn keyring() -> Keyring {
        Keyring::from_key_set(KeySet::generate())
    }

    #[test]
    fn sealed_values_open_only_with_the_same_keys_purpose_and_aad() {
        let keyring = keyring();
        let sealer = keyring.sealer("cache").unwrap();
        let sealed = sealer.seal(b"allergic to peanuts", b"key:1").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"peanuts"));
        assert_eq!(
            sealer.open(&sealed, b"key:1").as_deref(),
            Some(&b"allergic to peanuts"[..])
        );
        assert_eq!(
            keyring.sealer("cache").unwrap().open(&sealed, b"key:1"),
            sealer.open(&sealed, b"key:1"),
            "the same keys derive the same sealer"
        );
        assert_ne!(
            sealed,
            sealer.seal(b"allergic to peanuts", b"key:1").unwrap()
        );
        assert_eq!(sealer.open(&sealed, b"key:2"), None, "another aad");
        assert_eq!(
            keyring.sealer("other").unwrap().open(&sealed, b"key:1"),
            None
        );
        assert_eq!(
            self::keyring()
                .sealer("cache")
                .unwrap()
                .open(&sealed, b"key:1"),
            None
        );
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(sealer.open(&tampered, b"key:1"), None);
        assert_eq!(sealer.open(&sealed[..20], b"key:1"), None);
        assert_eq!(sealer.open(b"", b"key:1"), None);
    }

    #[test]
    fn names_are_keyed_and_deterministic() {
        let keyring = keyring();
        let sealer = keyring.sealer("cache").unwrap();
        let name = sealer.name(b"user_alice");
        assert_eq!(name.len(), 32);
        assert_eq!(name, keyring.sealer("cache").unwrap().name(b"user_alice"));
        assert_ne!(name, sealer.name(b"user_bob"));
        assert_ne!(name, keyring.sealer("other").unwrap().name(b"user_alice"));
        assert_ne!(
            name,
            self::keyring().sealer("cache").unwrap().name(b"user_alice")
        );
        assert!(format!("{sealer:?}").contains("***"));
    }

    #[test]
    fn there_is_no_sealer_with_encryption_off() {
        assert!(Keyring::disabled().sealer("cache").is_none());
    }
}
