//! `ElevenLabs-Signature` webhook signatures: verification and signing.
//!
//! Format (spec §2.1): `t=<unix seconds>,v0=<lower-case hex HMAC-SHA256>`, where the MAC is keyed
//! with the whole secret string (including its `wsec_` prefix) and covers the bytes
//! `"<t>.<raw body>"`, with `<t>` exactly as written in the header.
//!
//! Behaviour follows the official SDKs (checked against all vectors in
//! `fixtures/elevenlabs/signature_vectors.json`) with two deliberate differences, both stricter:
//! a repeated `t=` element is rejected as malformed (the SDKs disagree on which one wins), and `t`
//! must be ASCII digits only. Elements are split on `,` and on the first `=`, never trimmed; unknown
//! elements (`v1=`, ` v0=` with a space) are ignored; any of several `v0=` elements may match.
//! Timestamps older than the tolerance (default 1800 s; exactly 1800 s still passes) are stale.
//! Future timestamps pass unless a future-skew limit is configured (the SDKs have none).
//!
//! Verification can run in two steps so a server can refuse before reading a body:
//! [`SignatureVerifier::begin`] checks everything the header alone decides (missing, malformed,
//! stale, future) and returns a [`SignatureCheck`] that MACs the body as it streams in;
//! [`SignatureCheck::finish`] then compares. [`SignatureVerifier::verify`] is both steps at once.
//!
//! Invariants: the clock is an argument, never read here; secrets are kept only as pre-keyed HMAC
//! state (never printed); the digest comparison is constant-time over the 64 hex bytes; a check
//! allocates only one HMAC state per secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::serde_util::parse_digits;

mod check;

pub use check::SignatureCheck;

type HmacSha256 = Hmac<Sha256>;

/// Name of the signature header, lower-case as HTTP libraries store header names.
pub const SIGNATURE_HEADER: &str = "elevenlabs-signature";

/// Default staleness tolerance: 30 minutes, as in the official SDKs.
pub const DEFAULT_TOLERANCE_SECS: u64 = 30 * 60;

/// Why a signature was rejected.
///
/// [`SignatureError::reason`] gives a stable, low-cardinality label for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is absent or empty.
    #[error("missing signature header")]
    Missing,
    /// The header has no usable `t=` / `v0=` pair.
    #[error("malformed signature header: {0}")]
    Malformed(Malformation),
    /// The timestamp is older than the configured tolerance.
    #[error("signature timestamp is {age_secs} s old, beyond the tolerance")]
    Stale {
        /// How far `t` lies in the past, in seconds.
        age_secs: u64,
    },
    /// The timestamp is further in the future than the configured skew allowance.
    #[error("signature timestamp is {ahead_secs} s in the future, beyond the allowed skew")]
    Future {
        /// How far `t` lies in the future, in seconds.
        ahead_secs: u64,
    },
    /// No `v0=` value matches the body under any configured secret.
    #[error("signature does not match the payload")]
    Mismatch,
}

impl SignatureError {
    /// Stable machine-readable reason: `missing`, `malformed`, `stale`, `future` or `mismatch`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed(_) => "malformed",
            Self::Stale { .. } => "stale",
            Self::Future { .. } => "future",
            Self::Mismatch => "mismatch",
        }
    }
}

/// What exactly is wrong with a malformed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformation {
    /// No `t=` element.
    #[error("no t= element")]
    NoTimestamp,
    /// More than one `t=` element.
    #[error("more than one t= element")]
    DuplicateTimestamp,
    /// The `t=` value is not a string of ASCII digits fitting in 64 bits.
    #[error("t= is not a unix timestamp")]
    InvalidTimestamp,
    /// No `v0=` element (e.g. the seed plan's `v1=` format).
    #[error("no v0= element")]
    NoSignature,
}

/// A secret could not be used for verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No secret was given at all.
    #[error("no webhook secret configured")]
    NoSecrets,
    /// The secret at this position (0-based) is empty.
    #[error("webhook secret #{0} is empty")]
    EmptySecret(usize),
}

/// A successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The signed `t` from the header, unix seconds.
    pub timestamp_unix_secs: u64,
    /// Position of the secret that matched, in the order given to [`SignatureVerifier::new`];
    /// useful to see when an old secret stops being used during rotation.
    pub secret_index: usize,
}

/// Verifies `ElevenLabs-Signature` headers against one or more secrets (several during rotation).
///
/// Build once at start-up and share; verification takes `&self`.
#[derive(Clone)]
pub struct SignatureVerifier {
    keys: Vec<HmacSha256>,
    tolerance_secs: u64,
    max_future_skew_secs: Option<u64>,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureVerifier")
            .field("secrets", &self.keys.len())
            .field("tolerance_secs", &self.tolerance_secs)
            .field("max_future_skew_secs", &self.max_future_skew_secs)
            .finish()
    }
}

impl SignatureVerifier {
    /// Creates a verifier accepting a signature made with any of `secrets`, with the SDK defaults:
    /// 30 minutes of staleness tolerance and no bound on future timestamps.
    ///
    /// # Errors
    /// [`SecretError`] if `secrets` is empty or contains an empty secret.
    pub fn new<I, S>(secrets: I) -> Result<Self, SecretError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut keys = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let secret = secret.as_ref();
            if secret.is_empty() {
                return Err(SecretError::EmptySecret(index));
            }
            keys.push(keyed(secret));
        }
        if keys.is_empty() {
            return Err(SecretError::NoSecrets);
        }
        Ok(Self {
            keys,
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
            max_future_skew_secs: None,
        })
    }

    /// Sets how old (in seconds) a timestamp may be; exactly `secs` old still passes.
    pub fn with_tolerance_secs(mut self, secs: u64) -> Self {
        self.tolerance_secs = secs;
        self
    }

    /// Rejects timestamps more than `secs` ahead of the clock (stricter than the SDKs).
    pub fn with_max_future_skew_secs(mut self, secs: u64) -> Self {
        self.max_future_skew_secs = Some(secs);
        self
    }

    /// Verifies `header` (the raw `ElevenLabs-Signature` value, `None` if absent) over the exact raw
    /// request `body`, with the clock at `now_unix_secs`.
    ///
    /// # Errors
    /// [`SignatureError`] saying why the request must be rejected.
    pub fn verify(
        &self,
        header: Option<&[u8]>,
        body: &[u8],
        now_unix_secs: u64,
    ) -> Result<Verified, SignatureError> {
        let mut check = self.begin(header, now_unix_secs)?;
        check.update(body);
        check.finish()
    }

    /// Checks what `header` alone decides, with the clock at `now_unix_secs`, before any body byte
    /// is read; the returned check takes the body in chunks and compares at the end.
    ///
    /// # Errors
    /// [`SignatureError::Missing`], [`SignatureError::Malformed`], [`SignatureError::Stale`] or
    /// [`SignatureError::Future`]; a [`SignatureError::Mismatch`] only comes from
    /// [`SignatureCheck::finish`].
    pub fn begin<'h>(
        &self,
        header: Option<&'h [u8]>,
        now_unix_secs: u64,
    ) -> Result<SignatureCheck<'h>, SignatureError> {
        let header = match header {
            Some(header) if !header.is_empty() => header,
            _ => return Err(SignatureError::Missing),
        };
        let (t_text, timestamp) = parse_header(header).map_err(SignatureError::Malformed)?;
        self.check_freshness(timestamp, now_unix_secs)?;
        Ok(SignatureCheck::new(header, t_text, timestamp, &self.keys))
    }

    fn check_freshness(&self, timestamp: u64, now: u64) -> Result<(), SignatureError> {
        if let Some(age_secs) = now.checked_sub(timestamp)
            && age_secs > self.tolerance_secs
        {
            return Err(SignatureError::Stale { age_secs });
        }
        if let (Some(limit), Some(ahead_secs)) =
            (self.max_future_skew_secs, timestamp.checked_sub(now))
            && ahead_secs > limit
        {
            return Err(SignatureError::Future { ahead_secs });
        }
        Ok(())
    }
}

/// Signs `body` as ElevenLabs does and returns the full header value `t=<t>,v0=<hex>`.
///
/// For tests and the load generator; an empty secret is allowed here (it produces a valid MAC),
/// although [`SignatureVerifier::new`] refuses one.
pub fn sign(secret: &[u8], timestamp_unix_secs: u64, body: &[u8]) -> String {
    let t = timestamp_unix_secs.to_string();
    let hex = expected_hex(keyed(secret), t.as_bytes(), body);
    let mut header = String::with_capacity(t.len() + 68);
    header.push_str("t=");
    header.push_str(&t);
    header.push_str(",v0=");
    header.extend(hex.iter().map(|&byte| char::from(byte)));
    header
}

fn keyed(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (long keys are hashed), so this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

/// Lower-case hex of HMAC(key, `t` + "." + body).
fn expected_hex(mut mac: HmacSha256, t: &[u8], body: &[u8]) -> [u8; 64] {
    mac.update(t);
    mac.update(b".");
    mac.update(body);
    hex_digest(mac)
}

/// Lower-case hex of the MAC over everything given to it so far.
fn hex_digest(mac: HmacSha256) -> [u8; 64] {
    let digest = mac.finalize().into_bytes();
    let mut hex = [0u8; 64];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.iter()) {
        pair[0] = HEX_DIGITS[usize::from(byte >> 4)];
        pair[1] = HEX_DIGITS[usize::from(byte & 0x0f)];
    }
    hex
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

fn elements(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    header.split(|&byte| byte == b',').filter_map(|element| {
        let eq = element.iter().position(|&byte| byte == b'=')?;
        Some((&element[..eq], &element[eq + 1..]))
    })
}

fn signatures(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    elements(header).filter_map(|(key, value)| (key == b"v0").then_some(value))
}

/// Returns the literal `t` text and its value; checks that at least one `v0=` exists.
fn parse_header(header: &[u8]) -> Result<(&[u8], u64), Malformation> {
    let mut t_text = None;
    let mut has_signature = false;
    for (key, value) in elements(header) {
        match key {
            b"t" if t_text.is_some() => return Err(Malformation::DuplicateTimestamp),
            b"t" => t_text = Some(value),
            b"v0" => has_signature = true,
            _ => {}
        }
    }
    let t_text = t_text.ok_or(Malformation::NoTimestamp)?;
    if !has_signature {
        return Err(Malformation::NoSignature);
    }
    let timestamp = parse_digits(t_text).ok_or(Malformation::InvalidTimestamp)?;
    Ok((t_text, timestamp))
}

#[cfg(test)]
mod tests;
