//! All 15 SDK-checked signature vectors (`fixtures/elevenlabs/signature_vectors.json`) through
//! the HTTP endpoint, with the gateway clock pinned to each vector's `now_unix_secs`: a valid
//! vector is acknowledged with 200, an invalid one refused with 401 and never stored.

use axum::http::StatusCode;
use memvox_gateway::Clock;
use serde_json::Value;

use crate::support::{Backend, BusKind, Gateway, fixture};

#[tokio::test]
async fn every_vector_gets_the_sdk_outcome_over_http() {
    let vectors: Value = serde_json::from_slice(&fixture("signature_vectors.json")).unwrap();
    let vectors = vectors["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 15);

    let mut accepted = 0;
    for vector in vectors {
        let id = vector["id"].as_str().unwrap();
        let body = match vector["body_file"].as_str() {
            Some(file) => fixture(file),
            None => vector["body"].as_str().unwrap().as_bytes().to_vec(),
        };
        let header = vector["header"].as_str().unwrap();
        let now = vector["now_unix_secs"].as_u64().unwrap();
        let mut gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
        gateway.router =
            memvox_gateway::router(gateway.state.clone().with_clock(Clock::fixed_secs(now)));

        let (status, answer) = gateway.post(&body, Some(header)).await;
        let stored = gateway.events().await.len();
        if vector["valid"].as_bool().unwrap() {
            assert_eq!(status, StatusCode::OK, "{id}: {answer}");
            assert_eq!(stored, 1, "{id}");
            accepted += 1;
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{id}: {answer}");
            assert_eq!(answer["error"]["code"], "invalid_signature", "{id}");
            assert_eq!(stored, 0, "{id}");
        }
    }
    assert_eq!(accepted, 6, "six vectors are valid");
}
