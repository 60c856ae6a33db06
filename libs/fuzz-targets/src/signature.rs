//! Target `signature`: the `ElevenLabs-Signature` header and the body it signs, as the gateway
//! checks them (`SignatureVerifier::begin`, the body streamed in, `SignatureCheck::finish`).
//!
//! Input: the header's bytes, a newline, then the body. Checks: verifying at once and streaming
//! the body in two chunks agree; an accepted header really signs the body (an independent
//! HMAC-SHA256 over `"<t as written>.<body>"` equals one of its `v0=` values, and `t` is within
//! the tolerance); a header made by `sign` for this body is accepted by the secret that made it.

use std::sync::LazyLock;

use hmac::{Hmac, KeyInit, Mac};
use memvox_elevenlabs::signature::DEFAULT_TOLERANCE_SECS;
use memvox_elevenlabs::{SignatureError, SignatureVerifier, Verified, sign};
use sha2::Sha256;

use crate::{NOW_UNIX_SECS, split_line};

/// The secrets the verifier accepts: the vectors' secret and a second one, as during rotation.
pub(crate) const SECRETS: [&str; 2] = ["wsec_test_secret", "wsec_rotated_secret"];

static VERIFIER: LazyLock<SignatureVerifier> = LazyLock::new(|| {
    SignatureVerifier::new(SECRETS).unwrap_or_else(|error| panic!("fuzz secrets: {error}"))
});

/// Fuzzes signature verification; see the module docs for the input and the checks.
pub fn signature(data: &[u8]) {
    let (header, body) = split_line(data);
    let verdict = VERIFIER.verify(Some(header), body, NOW_UNIX_SECS);
    let cut = usize::from(body.first().copied().unwrap_or_default()) % (body.len() + 1);
    let streamed = VERIFIER
        .begin(Some(header), NOW_UNIX_SECS)
        .and_then(|mut check| {
            check.update(&body[..cut]);
            check.update(&body[cut..]);
            check.finish()
        });
    assert_eq!(verdict, streamed, "verify and the streamed check disagree");
    assert_eq!(header.is_empty(), verdict == Err(SignatureError::Missing));
    if let Ok(verified) = verdict {
        assert_really_signed(header, body, verified);
    }

    // A header `sign` makes for this body, at any instant within the tolerance, is accepted.
    let age = u64::from_le_bytes(widen(header)) % (DEFAULT_TOLERANCE_SECS + 1);
    let timestamp = NOW_UNIX_SECS - age;
    let made = sign(SECRETS[1].as_bytes(), timestamp, body);
    let expected = Verified {
        timestamp_unix_secs: timestamp,
        secret_index: 1,
    };
    assert_eq!(
        VERIFIER.verify(Some(made.as_bytes()), body, NOW_UNIX_SECS),
        Ok(expected),
        "a signature made by sign() is refused"
    );
}

/// The accepted header's `t` is fresh and one of its `v0=` values is the MAC of the body under
/// the secret the verifier named, computed here independently of the verifier.
fn assert_really_signed(header: &[u8], body: &[u8], verified: Verified) {
    let elements: Vec<(&[u8], &[u8])> = header
        .split(|&byte| byte == b',')
        .filter_map(|element| {
            let eq = element.iter().position(|&byte| byte == b'=')?;
            Some((&element[..eq], &element[eq + 1..]))
        })
        .collect();
    let times: Vec<&[u8]> = elements
        .iter()
        .filter(|(key, _)| *key == b"t")
        .map(|(_, value)| *value)
        .collect();
    let [t_text] = times[..] else {
        panic!("accepted a header without exactly one t=: {times:?}");
    };
    assert!(
        !t_text.is_empty() && t_text.iter().all(u8::is_ascii_digit),
        "accepted a t= that is not ASCII digits"
    );
    let t_value = std::str::from_utf8(t_text)
        .ok()
        .and_then(|text| text.parse::<u64>().ok());
    assert_eq!(
        t_value,
        Some(verified.timestamp_unix_secs),
        "t= read wrongly"
    );
    assert!(NOW_UNIX_SECS.saturating_sub(verified.timestamp_unix_secs) <= DEFAULT_TOLERANCE_SECS);

    let secret = SECRETS[verified.secret_index];
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(t_text);
    mac.update(b".");
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    assert!(
        elements
            .iter()
            .any(|(key, value)| *key == b"v0" && *value == expected.as_bytes()),
        "accepted a header none of whose v0= values is the body's MAC"
    );
}

/// The first eight bytes of `bytes`, zero-padded.
fn widen(bytes: &[u8]) -> [u8; 8] {
    let mut wide = [0u8; 8];
    let n = bytes.len().min(8);
    wide[..n].copy_from_slice(&bytes[..n]);
    wide
}
