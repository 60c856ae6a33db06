//! Unit tests for the verifier beyond the shared SDK vectors (which live in `tests/`).

use super::*;

const SECRET: &[u8] = b"wsec_test_secret";
const BODY: &[u8] = br#"{"type":"post_call_audio","event_timestamp":1,"data":{}}"#;
const T: u64 = 1_767_225_645;

fn verifier() -> SignatureVerifier {
    SignatureVerifier::new([SECRET]).unwrap()
}

fn verify(v: &SignatureVerifier, header: &str, now: u64) -> Result<Verified, SignatureError> {
    v.verify(Some(header.as_bytes()), BODY, now)
}

#[test]
fn signed_body_verifies_and_reports_timestamp() {
    let header = sign(SECRET, T, BODY);
    assert!(header.starts_with("t=1767225645,v0="));
    assert_eq!(header.len(), "t=1767225645,v0=".len() + 64);
    let ok = verify(&verifier(), &header, T + 5).unwrap();
    assert_eq!(ok.timestamp_unix_secs, T);
    assert_eq!(ok.secret_index, 0);
}

#[test]
fn sign_matches_the_sdk_vector() {
    let body = br#"{"type":"post_call_audio","event_timestamp":1767225647,"data":{"agent_id":"agent_4701kf3qz8mrx2v9tn6bq0c5wd","conversation_id":"conv_5201kf3r7e9yq2m8vx4pn0td6h","full_audio":"SUQzBAAAAAAAAA=="}}"#;
    assert_eq!(
        sign(SECRET, T, body),
        "t=1767225645,v0=1e476cb7d334a95d24da364525a2ee61fa1c77a06d41e97586556f0045e3a408"
    );
}

#[test]
fn any_of_several_secrets_is_accepted_and_identified() {
    let v = SignatureVerifier::new(["wsec_new", "wsec_old"]).unwrap();
    let old = sign(b"wsec_old", T, BODY);
    assert_eq!(verify(&v, &old, T).unwrap().secret_index, 1);
    let new = sign(b"wsec_new", T, BODY);
    assert_eq!(verify(&v, &new, T).unwrap().secret_index, 0);
    let other = sign(b"wsec_other", T, BODY);
    assert_eq!(verify(&v, &other, T), Err(SignatureError::Mismatch));
}

#[test]
fn any_of_several_v0_elements_may_match() {
    let good = sign(SECRET, T, BODY);
    let good_hex = good.split_once(",v0=").unwrap().1;
    let header = format!("t={T},v0={},v0={good_hex}", "0".repeat(64));
    assert!(verify(&verifier(), &header, T).is_ok());
}

#[test]
fn verifier_refuses_missing_or_empty_secrets() {
    let none: [&str; 0] = [];
    assert_eq!(
        SignatureVerifier::new(none).unwrap_err(),
        SecretError::NoSecrets
    );
    assert_eq!(
        SignatureVerifier::new(["wsec_a", ""]).unwrap_err(),
        SecretError::EmptySecret(1)
    );
}

#[test]
fn absent_and_empty_headers_are_missing() {
    assert_eq!(
        verifier().verify(None, BODY, T),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        verifier().verify(Some(b""), BODY, T),
        Err(SignatureError::Missing)
    );
}

#[test]
fn malformed_headers_name_what_is_wrong() {
    let hex = "a".repeat(64);
    let cases = [
        (format!("v0={hex}"), Malformation::NoTimestamp),
        (
            format!("t={T},t={T},v0={hex}"),
            Malformation::DuplicateTimestamp,
        ),
        (format!("t=+{T},v0={hex}"), Malformation::InvalidTimestamp),
        (format!("t=,v0={hex}"), Malformation::InvalidTimestamp),
        (format!("t=-1,v0={hex}"), Malformation::InvalidTimestamp),
        (
            format!("t=99999999999999999999,v0={hex}"),
            Malformation::InvalidTimestamp,
        ),
        (format!("t={T},v1={hex}"), Malformation::NoSignature),
        (format!("t={T}, v0={hex}"), Malformation::NoSignature),
        ("garbage".to_owned(), Malformation::NoTimestamp),
    ];
    for (header, expected) in cases {
        assert_eq!(
            verify(&verifier(), &header, T),
            Err(SignatureError::Malformed(expected)),
            "{header}"
        );
    }
}

#[test]
fn duplicate_timestamp_is_rejected_even_when_one_would_verify() {
    let good = sign(SECRET, T, BODY);
    let header = format!("t=1000,{good}");
    assert_eq!(
        verify(&verifier(), &header, T),
        Err(SignatureError::Malformed(Malformation::DuplicateTimestamp))
    );
}

#[test]
fn staleness_boundary_follows_the_configured_tolerance() {
    let v = verifier().with_tolerance_secs(300);
    let header = sign(SECRET, T, BODY);
    assert!(verify(&v, &header, T + 300).is_ok());
    assert_eq!(
        verify(&v, &header, T + 301),
        Err(SignatureError::Stale { age_secs: 301 })
    );
}

#[test]
fn future_timestamps_pass_by_default_and_fail_beyond_a_configured_skew() {
    let header = sign(SECRET, T + 3600, BODY);
    assert!(verify(&verifier(), &header, T).is_ok());
    let strict = verifier().with_max_future_skew_secs(300);
    assert_eq!(
        verify(&strict, &header, T),
        Err(SignatureError::Future { ahead_secs: 3600 })
    );
    let near = sign(SECRET, T + 300, BODY);
    assert!(verify(&strict, &near, T).is_ok());
}

#[test]
fn the_literal_timestamp_text_is_what_is_signed() {
    // "0<t>" has the same value as "<t>" but different signed bytes.
    let header = sign(SECRET, T, BODY).replacen("t=", "t=0", 1);
    assert_eq!(
        verify(&verifier(), &header, T),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn signature_of_wrong_length_or_case_is_a_mismatch() {
    let good = sign(SECRET, T, BODY);
    let upper = format!(
        "t={T},v0={}",
        good.split_once(",v0=").unwrap().1.to_uppercase()
    );
    assert_eq!(
        verify(&verifier(), &upper, T),
        Err(SignatureError::Mismatch)
    );
    let short = &good[..good.len() - 1];
    assert_eq!(verify(&verifier(), short, T), Err(SignatureError::Mismatch));
    let empty = format!("t={T},v0=");
    assert_eq!(
        verify(&verifier(), &empty, T),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn reasons_are_stable_labels() {
    let labels = [
        SignatureError::Missing,
        SignatureError::Malformed(Malformation::NoSignature),
        SignatureError::Stale { age_secs: 1 },
        SignatureError::Future { ahead_secs: 1 },
        SignatureError::Mismatch,
    ]
    .map(|error| error.reason());
    assert_eq!(
        labels,
        ["missing", "malformed", "stale", "future", "mismatch"]
    );
}

#[test]
fn debug_output_does_not_contain_the_secret() {
    let printed = format!("{:?}", verifier());
    assert!(!printed.contains("wsec_test_secret"), "{printed}");
    assert!(printed.contains("secrets: 1"), "{printed}");
}

#[test]
fn a_check_begun_from_the_header_verifies_the_body_in_any_chunks() {
    let v = SignatureVerifier::new([b"wsec_new".as_slice(), SECRET]).unwrap();
    let header = sign(SECRET, T, BODY);
    for size in [1, 7, BODY.len()] {
        let mut check = v.begin(Some(header.as_bytes()), T).unwrap();
        assert_eq!(check.timestamp_unix_secs(), T);
        for chunk in BODY.chunks(size) {
            check.update(chunk);
        }
        let ok = check.finish().unwrap();
        assert_eq!((ok.timestamp_unix_secs, ok.secret_index), (T, 1));
    }
    let mut tampered = v.begin(Some(header.as_bytes()), T).unwrap();
    tampered.update(&BODY[1..]);
    assert_eq!(tampered.finish(), Err(SignatureError::Mismatch));
}

#[test]
fn begin_decides_everything_the_header_alone_decides() {
    let v = verifier().with_max_future_skew_secs(10);
    let header = sign(SECRET, T, BODY);
    let begin = |header: Option<&str>, now| v.begin(header.map(str::as_bytes), now).err();
    assert_eq!(begin(None, T), Some(SignatureError::Missing));
    assert_eq!(
        begin(Some("v0=abc"), T),
        Some(SignatureError::Malformed(Malformation::NoTimestamp))
    );
    assert_eq!(
        begin(Some(&header), T + 1801),
        Some(SignatureError::Stale { age_secs: 1801 })
    );
    assert_eq!(
        begin(Some(&header), T - 11),
        Some(SignatureError::Future { ahead_secs: 11 })
    );
    assert_eq!(begin(Some(&header), T + 1800), None);
}
