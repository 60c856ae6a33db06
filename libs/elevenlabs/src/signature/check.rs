//! [`SignatureCheck`]: a signature whose header passed, waiting for its body.
//!
//! Holds one HMAC state per secret, already fed with `"<t>."`, so the body can be MACed chunk by
//! chunk as it arrives and never has to be read twice.

use hmac::Mac as _;
use subtle::{Choice, ConstantTimeEq};

use super::{HmacSha256, SignatureError, Verified, hex_digest, signatures};

/// A header that is present, well formed and fresh; [`SignatureCheck::update`] feeds it the raw
/// body and [`SignatureCheck::finish`] says whether any `v0=` matches under any secret.
///
/// Made by [`super::SignatureVerifier::begin`].
#[derive(Clone)]
pub struct SignatureCheck<'h> {
    header: &'h [u8],
    timestamp: u64,
    macs: Vec<HmacSha256>,
}

impl std::fmt::Debug for SignatureCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureCheck")
            .field("timestamp", &self.timestamp)
            .field("secrets", &self.macs.len())
            .finish()
    }
}

impl<'h> SignatureCheck<'h> {
    /// Starts MACs keyed with each of `keys` over `"<t_text>."`.
    pub(super) fn new(
        header: &'h [u8],
        t_text: &[u8],
        timestamp: u64,
        keys: &[HmacSha256],
    ) -> Self {
        let macs = keys
            .iter()
            .map(|key| {
                let mut mac = key.clone();
                mac.update(t_text);
                mac.update(b".");
                mac
            })
            .collect();
        Self {
            header,
            timestamp,
            macs,
        }
    }

    /// The signed `t` from the header, unix seconds.
    pub fn timestamp_unix_secs(&self) -> u64 {
        self.timestamp
    }

    /// Feeds the next bytes of the raw body, in the order received.
    pub fn update(&mut self, chunk: &[u8]) {
        for mac in &mut self.macs {
            mac.update(chunk);
        }
    }

    /// Compares the MACs of everything fed with the header's `v0=` values (constant-time).
    ///
    /// # Errors
    /// [`SignatureError::Mismatch`] if no value matches under any secret.
    pub fn finish(self) -> Result<Verified, SignatureError> {
        let mut matched = None;
        for (index, mac) in self.macs.into_iter().enumerate() {
            let expected = hex_digest(mac);
            let mut any = Choice::from(0);
            for candidate in signatures(self.header) {
                any |= expected.as_slice().ct_eq(candidate);
            }
            if bool::from(any) && matched.is_none() {
                matched = Some(index);
            }
        }
        matched
            .map(|secret_index| Verified {
                timestamp_unix_secs: self.timestamp,
                secret_index,
            })
            .ok_or(SignatureError::Mismatch)
    }
}
