//! The OpenAI embedder against a local wiremock server speaking OpenAI's wire format
//! (`POST /v1/embeddings`, `{"object":"list","data":[{"object":"embedding","index",
//! "embedding"}],"model","usage"}`, errors as `{"error":{"message","type","param","code"}}`).

use memvox_ai::{AiError, Embedder, Fault, OpenAiEmbedder, OpenAiSettings};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const DIM: usize = 4;

fn settings(server: &MockServer) -> OpenAiSettings {
    OpenAiSettings {
        base_url: format!("{}/v1", server.uri()),
        api_key: Some(secrecy::SecretString::from("sk-test")),
        dimensions: Some(DIM),
        batch_size: 16,
        max_retries: 2,
        initial_backoff_ms: 1,
        timeout_ms: 5_000,
        ..OpenAiSettings::default()
    }
}

fn inputs(request: &Request) -> Vec<String> {
    let body: Value = serde_json::from_slice(&request.body).expect("request is JSON");
    serde_json::from_value(body["input"].clone()).expect("input is an array of strings")
}

/// The vector the fake server gives a text: `[len, 1, 0, 0]` (not normalised, as some servers).
fn fake_vector(text: &str, dim: usize) -> Vec<f32> {
    let mut v = vec![0.0; dim];
    v[0] = text.len() as f32;
    v[1] = 1.0;
    v
}

/// Answers like OpenAI, but lists the items in reverse order so only `index` gives the order.
struct Embeddings {
    dim: usize,
}

impl Respond for Embeddings {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let data: Vec<Value> = inputs(request)
            .iter()
            .enumerate()
            .rev()
            .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": fake_vector(t, self.dim)}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": data,
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 8, "total_tokens": 8}
        }))
    }
}

fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": kind, "param": null, "code": code}
    }))
}

fn expected(text: &str) -> Vec<f32> {
    let mut v = fake_vector(text, DIM);
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

#[tokio::test]
async fn success_sends_the_openai_request_and_orders_by_index() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .and(header("authorization", "Bearer sk-test"))
        .respond_with(Embeddings { dim: DIM })
        .expect(1)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    assert_eq!(e.dimension(), DIM);
    assert_eq!(e.model_id(), "openai:text-embedding-3-small:4");

    let got = e.embed(&["a", "bbb", "cc"]).await.unwrap();
    assert_eq!(got, vec![expected("a"), expected("bbb"), expected("cc")]);

    let requests = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["model"], "text-embedding-3-small");
    assert_eq!(body["dimensions"], 4);
    assert_eq!(body["input"], json!(["a", "bbb", "cc"]));
}

#[tokio::test]
async fn inputs_are_split_into_batches_and_reassembled_in_order() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(Embeddings { dim: DIM })
        .expect(3)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&OpenAiSettings {
        batch_size: 3,
        ..settings(&server)
    })
    .unwrap();
    let texts: Vec<String> = (1..=7).map(|n| "x".repeat(n)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();

    let got = e.embed(&refs).await.unwrap();

    let want: Vec<Vec<f32>> = refs.iter().map(|t| expected(t)).collect();
    assert_eq!(got, want);
    let sizes: Vec<usize> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| inputs(r).len())
        .collect();
    assert_eq!(sizes, vec![3, 3, 1]);
}

#[tokio::test]
async fn a_rate_limit_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai_error(
            429,
            "Rate limit reached",
            "rate_limit_error",
            None,
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(Embeddings { dim: DIM })
        .expect(1)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    assert_eq!(e.embed(&["hello"]).await.unwrap(), vec![expected("hello")]);
}

#[tokio::test]
async fn server_errors_are_retried_until_the_budget_is_spent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .expect(3)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    let err = e.embed(&["hello"]).await.unwrap_err();
    assert!(matches!(err, AiError::Unavailable { .. }), "{err:?}");
    assert!(err.retryable());
    assert!(err.to_string().contains("500"), "{err}");
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai_error(
            401,
            "Incorrect API key provided",
            "invalid_request_error",
            Some("invalid_api_key"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    let err = e.embed(&["hello"]).await.unwrap_err();
    assert!(
        matches!(err, AiError::Rejected { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(err.fault(), Fault::Config);
    assert!(!err.retryable());
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried_even_though_it_is_a_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai_error(
            429,
            "You exceeded your current quota",
            "insufficient_quota",
            Some("insufficient_quota"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    let err = e.embed(&["hello"]).await.unwrap_err();
    assert!(
        matches!(err, AiError::Rejected { status: 429, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    let err = e.embed(&["hello"]).await.unwrap_err();
    assert_eq!(err.fault(), Fault::Protocol, "{err:?}");
    assert!(err.to_string().contains("<html>gateway"), "{err}");
}

#[tokio::test]
async fn a_timeout_is_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Delayed(Embeddings { dim: DIM }))
        .expect(2)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&OpenAiSettings {
        timeout_ms: 100,
        max_retries: 1,
        ..settings(&server)
    })
    .unwrap();
    let err = e.embed(&["hello"]).await.unwrap_err();
    assert!(matches!(err, AiError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn a_wrong_dimension_is_a_clear_configuration_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Embeddings { dim: 3 })
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    let err = e.embed(&["hello"]).await.unwrap_err();
    assert!(
        matches!(
            err,
            AiError::DimensionMismatch {
                expected: 4,
                actual: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.fault(), Fault::Config);
    assert!(err.to_string().contains("text-embedding-3-small"), "{err}");
}

#[tokio::test]
async fn missing_or_repeated_indexes_are_rejected() {
    let server = MockServer::start().await;
    let item =
        |i: u32| json!({"object": "embedding", "index": i, "embedding": [1.0, 0.0, 0.0, 0.0]});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": [item(0), item(0)], "model": "m",
            "usage": {"prompt_tokens": 2, "total_tokens": 2}
        })))
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    let err = e.embed(&["a", "b"]).await.unwrap_err();
    assert!(err.to_string().contains("index 0 returned twice"), "{err}");
    let err = e.embed(&["a", "b", "c"]).await.unwrap_err();
    assert!(err.to_string().contains("2 vectors for 3 inputs"), "{err}");
}

#[tokio::test]
async fn empty_text_fails_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Embeddings { dim: DIM })
        .expect(0)
        .mount(&server)
        .await;
    let e = OpenAiEmbedder::new(&settings(&server)).unwrap();
    let err = e.embed(&["fine", ""]).await.unwrap_err();
    assert!(
        matches!(err, AiError::InvalidInput { index: 1, .. }),
        "{err:?}"
    );
    assert_eq!(e.embed(&[]).await.unwrap(), Vec::<Vec<f32>>::new());
}

/// Answers like [`Embeddings`], but only after any client timeout used here has passed.
struct Delayed(Embeddings);

impl Respond for Delayed {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0
            .respond(request)
            .set_delay(std::time::Duration::from_secs(2))
    }
}
