//! Runs every vector in `fixtures/elevenlabs/signature_vectors.json` (checked against both official
//! SDKs) through our verifier with the clock at the vector's `now_unix_secs`.

use memvox_elevenlabs::signature::{SignatureError, SignatureVerifier};
use serde::Deserialize;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/elevenlabs/");

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    id: String,
    secret: String,
    now_unix_secs: u64,
    body: Option<String>,
    body_file: Option<String>,
    header: String,
    valid: bool,
}

impl Vector {
    fn body(&self) -> Vec<u8> {
        match (&self.body, &self.body_file) {
            (Some(body), None) => body.as_bytes().to_vec(),
            (None, Some(file)) => {
                std::fs::read(format!("{FIXTURES}{file}")).expect("body_file is readable")
            }
            _ => panic!("vector {} needs exactly one of body / body_file", self.id),
        }
    }

    fn header(&self) -> Option<&[u8]> {
        (!self.header.is_empty()).then_some(self.header.as_bytes())
    }
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read(format!("{FIXTURES}signature_vectors.json")).expect("vectors file");
    serde_json::from_slice::<Vectors>(&text)
        .expect("vectors file is valid")
        .vectors
}

fn expected_reason(id: &str) -> Option<&'static str> {
    Some(match id {
        "tampered_body" | "reserialized_json_body" | "wrong_secret" | "malformed_uppercase_hex" => {
            "mismatch"
        }
        "stale_timestamp" => "stale",
        "malformed_v1_scheme" | "malformed_missing_timestamp" | "malformed_space_after_comma" => {
            "malformed"
        }
        "malformed_empty_header" => "missing",
        _ => return None,
    })
}

#[test]
fn all_fifteen_vectors_match_the_sdk_outcome() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 15);
    for vector in &vectors {
        let verifier = SignatureVerifier::new([vector.secret.as_str()]).unwrap();
        let outcome = verifier.verify(vector.header(), &vector.body(), vector.now_unix_secs);
        assert_eq!(
            outcome.is_ok(),
            vector.valid,
            "vector {}: {outcome:?}",
            vector.id
        );
        if let Err(error) = outcome {
            assert_eq!(
                Some(error.reason()),
                expected_reason(&vector.id),
                "vector {}",
                vector.id
            );
        }
    }
}

#[test]
fn absent_header_is_missing_like_the_empty_header_vector() {
    let vector = vectors()
        .into_iter()
        .find(|v| v.id == "valid_small_body")
        .unwrap();
    let verifier = SignatureVerifier::new([vector.secret.as_str()]).unwrap();
    assert_eq!(
        verifier.verify(None, &vector.body(), vector.now_unix_secs),
        Err(SignatureError::Missing)
    );
}

#[test]
fn a_configured_future_skew_limit_rejects_the_future_vector() {
    let vector = vectors()
        .into_iter()
        .find(|v| v.id == "future_timestamp_accepted_by_sdk")
        .unwrap();
    let strict = SignatureVerifier::new([vector.secret.as_str()])
        .unwrap()
        .with_max_future_skew_secs(300);
    assert_eq!(
        strict.verify(vector.header(), &vector.body(), vector.now_unix_secs),
        Err(SignatureError::Future { ahead_secs: 3600 })
    );
}

#[test]
fn rotation_accepts_the_fixture_secret_in_second_place() {
    let vector = vectors()
        .into_iter()
        .find(|v| v.id == "valid_fixture_file")
        .unwrap();
    let verifier = SignatureVerifier::new(["wsec_new_secret", vector.secret.as_str()]).unwrap();
    let verified = verifier
        .verify(vector.header(), &vector.body(), vector.now_unix_secs)
        .unwrap();
    assert_eq!(verified.secret_index, 1);
    assert_eq!(verified.timestamp_unix_secs, 1_767_225_645);
}

#[test]
fn sign_reproduces_every_valid_vector_header() {
    let mut reproduced = 0;
    for vector in vectors()
        .iter()
        .filter(|v| v.valid && v.header.starts_with("t="))
    {
        let t: u64 = vector.header[2..vector.header.find(',').unwrap()]
            .parse()
            .unwrap();
        let header = memvox_elevenlabs::sign(vector.secret.as_bytes(), t, &vector.body());
        assert_eq!(header, vector.header, "vector {}", vector.id);
        reproduced += 1;
    }
    assert_eq!(reproduced, 5);
}
