//! The conversations API client against a local fake speaking the documented shapes (the
//! fixtures `api_*.json`): the query it sends, the key header, pages, details, retries of 429
//! (honouring `Retry-After`) and 5xx within the attempts allowed, and the errors that are not
//! retried (401, 404, a bad id, an answer over the limit).
#![cfg(feature = "api")]
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use memvox_elevenlabs::api::{
    ApiClient, ApiError, ClientOptions, ListQuery, RetryNotice, RetryPolicy, RetryReason,
};
use memvox_elevenlabs::post_call::ConversationStatus;
use url::Url;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_import";
const DETAILS_PATH: &str = "/v1/convai/conversations/conv_5201kf3r7e9yq2m8vx4pn0td6h";

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/elevenlabs/");
    std::fs::read(format!("{path}{name}")).unwrap()
}

fn json(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(fixture(name), "application/json")
}

/// A client of `server` with short waits, and the retries it announced.
fn client(server: &MockServer, max_attempts: u32) -> (ApiClient, Arc<Mutex<Vec<RetryNotice>>>) {
    let options = ClientOptions {
        base_url: Url::parse(&server.uri()).unwrap(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        },
        max_response_bytes: 1024 * 1024,
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let client = ApiClient::new(KEY, options)
        .unwrap()
        .with_retry_observer(Arc::new(move |notice| log.lock().unwrap().push(*notice)));
    (client, seen)
}

/// A fake answering the details with `failure` `times` times, then with the fixture.
async fn failing_then_details(failure: ResponseTemplate, times: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(DETAILS_PATH))
        .respond_with(failure)
        .up_to_n_times(times)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(DETAILS_PATH))
        .respond_with(json("api_conversation_details.json"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn pages_carry_the_filters_the_cursor_and_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/convai/conversations"))
        .and(header("xi-api-key", KEY))
        .and(query_param("agent_id", "agent_1"))
        .and(query_param("call_start_after_unix", "1767200000"))
        .and(query_param("call_start_before_unix", "1767300000"))
        .and(query_param("page_size", "2"))
        .and(query_param_is_missing("cursor"))
        .respond_with(json("api_conversations_page_1.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/convai/conversations"))
        .and(query_param("cursor", "cur_8f2e1d7c0b9a"))
        .respond_with(json("api_conversations_page_2.json"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 1);
    let mut query = ListQuery {
        agent_id: Some("agent_1"),
        after_unix: Some(1_767_200_000),
        before_unix: Some(1_767_300_000),
        cursor: None,
        page_size: 2,
    };
    let first = client.list(&query).await.unwrap();
    assert_eq!(first.conversations.len(), 3);
    assert_eq!(
        first.conversations[1].status,
        ConversationStatus::Processing
    );
    assert_eq!(first.next(), Some("cur_8f2e1d7c0b9a"));
    query.cursor = first.next();
    let second = client.list(&query).await.unwrap();
    assert_eq!(second.conversations.len(), 2);
    assert_eq!(second.next(), None);
}

#[tokio::test]
async fn details_are_returned_as_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(DETAILS_PATH))
        .and(header("xi-api-key", KEY))
        .respond_with(json("api_conversation_details.json"))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 1);
    let details = client
        .details("conv_5201kf3r7e9yq2m8vx4pn0td6h")
        .await
        .unwrap();
    assert_eq!(details, fixture("api_conversation_details.json"));
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_time_the_api_asks() {
    let busy = ResponseTemplate::new(429)
        .insert_header("retry-after", "1")
        .set_body_raw(fixture("api_error_429.json"), "application/json");
    let server = failing_then_details(busy, 1).await;
    let (client, retries) = client(&server, 3);
    let started = std::time::Instant::now();
    client
        .details("conv_5201kf3r7e9yq2m8vx4pn0td6h")
        .await
        .unwrap();
    let retries = retries.lock().unwrap().clone();
    assert_eq!(
        retries,
        [RetryNotice {
            reason: RetryReason::RateLimited,
            attempt: 1,
            delay: Duration::from_secs(1),
        }]
    );
    assert!(started.elapsed() >= Duration::from_secs(1), "waited");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn server_errors_back_off_exponentially_and_give_up_at_the_limit() {
    let server = failing_then_details(ResponseTemplate::new(503), 2).await;
    let (patient, retries) = client(&server, 3);
    patient
        .details("conv_5201kf3r7e9yq2m8vx4pn0td6h")
        .await
        .unwrap();
    let delays: Vec<(RetryReason, Duration)> = retries
        .lock()
        .unwrap()
        .iter()
        .map(|n| (n.reason, n.delay))
        .collect();
    assert_eq!(
        delays,
        [
            (RetryReason::ServerError(503), Duration::from_millis(10)),
            (RetryReason::ServerError(503), Duration::from_millis(20)),
        ]
    );

    let failing = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&failing)
        .await;
    let (impatient, _) = client(&failing, 2);
    let error = impatient.details("conv_1").await.unwrap_err();
    assert!(
        matches!(error, ApiError::GaveUp { attempts: 2, .. }),
        "{error}"
    );
    assert_eq!(failing.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_refused_key_is_a_clear_error_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_raw(fixture("api_error_401.json"), "application/json"),
        )
        .mount(&server)
        .await;
    let (client, retries) = client(&server, 5);
    let error = client.list(&ListQuery::default()).await.unwrap_err();
    assert!(error.is_credentials());
    let text = error.to_string();
    assert!(
        text.contains("401: invalid_api_key: Invalid API key"),
        "{text}"
    );
    assert!(text.contains("elevenlabs.api_key"), "{text}");
    assert!(retries.lock().unwrap().is_empty(), "not retried");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn missing_conversations_bad_ids_and_oversized_answers_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/convai/conversations/conv_gone"))
        .respond_with(ResponseTemplate::new(404).set_body_string(r#"{"detail":"Not Found"}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/convai/conversations/conv_huge"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2 * 1024 * 1024)))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let gone = client.details("conv_gone").await.unwrap_err();
    assert!(matches!(gone, ApiError::NotFound(_)), "{gone}");
    let huge = client.details("conv_huge").await.unwrap_err();
    assert!(matches!(huge, ApiError::TooLarge { .. }), "{huge}");
    let bad = client.details("../agents").await.unwrap_err();
    assert!(matches!(bad, ApiError::InvalidId(_)), "{bad}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
