//! The model-API metrics move with real requests to a local server speaking OpenAI's wire
//! format: every embeddings and chat request is counted once with its outcome (a retried 503
//! twice, a 401 as rejected, a late answer as a timeout, vectors of the wrong size as invalid),
//! timed, and the tokens of the answer's `usage` are added up per operation; a summary request
//! cut off by the summarizer's deadline counts as abandoned.
//!
//! The collectors are process-wide, so each test names its own model and reads only that
//! model's series.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use memvox_ai::{
    CallTranscript, ChatModelSettings, Embedder, Extractor, OpenAiEmbedder, OpenAiExtractor,
    OpenAiSettings, OpenAiSummarizer, Summarizer, SummarizerProvider, SummarizerSettings,
    SummaryMemory, SummarySource, build_summarizer, register_metrics,
};
use memvox_core::{Role, Sector, Turn};
use prometheus::Registry;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A registry holding the model-API metrics.
fn registry() -> Registry {
    let registry = Registry::new();
    register_metrics(&registry).unwrap();
    registry
}

/// The sample of `name` whose labels are exactly `labels` (a histogram's sample count).
fn value(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> f64 {
    let family = registry.gather().into_iter().find(|f| f.name() == name);
    let Some(family) = family else { return 0.0 };
    family
        .get_metric()
        .iter()
        .find(|m| {
            m.get_label().len() == labels.len()
                && labels.iter().all(|(k, v)| {
                    m.get_label()
                        .iter()
                        .any(|l| l.name() == *k && l.value() == *v)
                })
        })
        .map_or(0.0, |m| {
            let histogram = m.get_histogram();
            if histogram.get_sample_count() > 0 {
                histogram.get_sample_count() as f64
            } else {
                m.get_counter().get_value()
            }
        })
}

fn requests(registry: &Registry, operation: &str, model: &str, outcome: &str) -> f64 {
    let labels = [
        ("operation", operation),
        ("model", model),
        ("outcome", outcome),
    ];
    value(registry, "memvox_ai_requests_total", &labels)
}

fn timed(registry: &Registry, operation: &str, model: &str) -> f64 {
    let labels = [("operation", operation), ("model", model)];
    value(registry, "memvox_ai_request_duration_seconds", &labels)
}

fn tokens(registry: &Registry, operation: &str, model: &str, kind: &str) -> f64 {
    let labels = [("operation", operation), ("model", model), ("kind", kind)];
    value(registry, "memvox_ai_tokens_total", &labels)
}

fn embed_settings(server: &MockServer, model: &str) -> OpenAiSettings {
    OpenAiSettings {
        base_url: format!("{}/v1", server.uri()),
        api_key: Some(secrecy::SecretString::from("sk-test")),
        model: model.to_owned(),
        dimensions: Some(2),
        max_retries: 2,
        initial_backoff_ms: 1,
        timeout_ms: 5_000,
        ..OpenAiSettings::default()
    }
}

/// An embeddings answer with one `dim`-sized vector per input and 7 prompt tokens.
fn embeddings(request: &Request, dim: usize) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let data: Vec<Value> = (0..body["input"].as_array().unwrap().len())
        .map(|i| json!({"object": "embedding", "index": i, "embedding": vec![1.0; dim]}))
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "object": "list", "data": data, "model": "m",
        "usage": {"prompt_tokens": 7, "total_tokens": 7}
    }))
}

fn openai_error(status: u16, kind: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": "no", "type": kind, "param": null, "code": null}
    }))
}

/// Answers embeddings requests with `dim`-sized vectors, after `first` for the first request.
async fn mount_embeddings(server: &MockServer, first: ResponseTemplate, dim: usize) {
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/embeddings"))
        .respond_with(move |r: &Request| embeddings(r, dim))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_retried_embeddings_request_counts_each_attempt_and_its_tokens() {
    let (server, registry, model) = (MockServer::start().await, registry(), "embed-retried");
    mount_embeddings(&server, openai_error(503, "server_error"), 2).await;
    let embedder = OpenAiEmbedder::new(&embed_settings(&server, model)).unwrap();

    embedder.embed(&["a", "b"]).await.unwrap();

    assert_eq!(requests(&registry, "embed", model, "unavailable"), 1.0);
    assert_eq!(requests(&registry, "embed", model, "ok"), 1.0);
    assert_eq!(timed(&registry, "embed", model), 2.0, "both attempts timed");
    assert_eq!(tokens(&registry, "embed", model, "prompt"), 7.0);
    assert_eq!(tokens(&registry, "embed", model, "completion"), 0.0);
}

#[tokio::test]
async fn rejected_and_invalid_embeddings_answers_are_told_apart() {
    let (server, registry) = (MockServer::start().await, registry());
    mount_embeddings(&server, openai_error(401, "invalid_request_error"), 3).await;
    let rejected = OpenAiEmbedder::new(&embed_settings(&server, "embed-rejected")).unwrap();
    let invalid = OpenAiEmbedder::new(&embed_settings(&server, "embed-invalid")).unwrap();

    rejected.embed(&["a"]).await.unwrap_err();
    invalid.embed(&["a"]).await.unwrap_err(); // three floats where two were configured

    assert_eq!(
        requests(&registry, "embed", "embed-rejected", "rejected"),
        1.0
    );
    assert_eq!(requests(&registry, "embed", "embed-rejected", "ok"), 0.0);
    assert_eq!(
        requests(&registry, "embed", "embed-invalid", "invalid"),
        1.0
    );
    assert_eq!(requests(&registry, "embed", "embed-invalid", "ok"), 0.0);
}

fn chat_settings(server: &MockServer, model: &str, timeout_ms: u64) -> ChatModelSettings {
    ChatModelSettings {
        base_url: format!("{}/v1", server.uri()),
        api_key: Some(secrecy::SecretString::from("sk-test")),
        model: model.to_owned(),
        timeout_ms,
        ..ChatModelSettings::default()
    }
}

fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_767_225_700,
        "model": "m",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null, "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340}
    }))
}

async fn mount_chat(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .mount(server)
        .await;
}

/// The caller's one memory, to summarize.
fn shellfish() -> [SummaryMemory; 1] {
    [SummaryMemory {
        content: "Allergic to shellfish".into(),
        sector: Sector::Semantic,
    }]
}

fn call() -> CallTranscript {
    CallTranscript {
        user_id: "user_1".into(),
        conversation_id: "conv_metrics".into(),
        turns: vec![Turn {
            index: 0,
            role: Role::User,
            message: Some("I'm allergic to shellfish.".into()),
            time_in_call_secs: 0,
        }],
        ..CallTranscript::default()
    }
}

#[tokio::test]
async fn extraction_and_summaries_count_under_their_own_operation_with_both_token_kinds() {
    let (server, registry, model) = (MockServer::start().await, registry(), "chat-ok");
    let answer = json!({"memories": [{"content": "Allergic to shellfish", "sector": "semantic",
        "salience": 0.9, "turn_indexes": [0], "op": "add", "target_id": null}]});
    mount_chat(&server, completion(&answer.to_string())).await;
    let settings = chat_settings(&server, model, 5_000);
    let extractor = OpenAiExtractor::new(&settings).unwrap();
    let summarizer = OpenAiSummarizer::new(&settings).unwrap();

    assert_eq!(extractor.extract(&call()).await.unwrap().len(), 1);
    summarizer.summarize_user(&shellfish()).await.unwrap();

    for operation in ["extract", "summarize"] {
        assert_eq!(
            requests(&registry, operation, model, "ok"),
            1.0,
            "{operation}"
        );
        assert_eq!(timed(&registry, operation, model), 1.0, "{operation}");
        assert_eq!(tokens(&registry, operation, model, "prompt"), 300.0);
        assert_eq!(tokens(&registry, operation, model, "completion"), 40.0);
    }
}

#[tokio::test]
async fn chat_failures_count_as_unavailable_rejected_or_timeout() {
    let registry = registry();
    let cases = [
        (
            "chat-429",
            openai_error(429, "rate_limit_exceeded"),
            "unavailable",
        ),
        (
            "chat-403",
            openai_error(403, "permission_error"),
            "rejected",
        ),
        (
            "chat-late",
            completion("{}").set_delay(Duration::from_millis(600)),
            "timeout",
        ),
    ];
    for (model, response, outcome) in cases {
        let server = MockServer::start().await;
        mount_chat(&server, response).await;
        let extractor = OpenAiExtractor::new(&chat_settings(&server, model, 200)).unwrap();
        extractor.extract(&call()).await.unwrap_err();
        assert_eq!(
            requests(&registry, "extract", model, outcome),
            1.0,
            "{model}"
        );
        assert_eq!(requests(&registry, "extract", model, "ok"), 0.0, "{model}");
        assert_eq!(
            tokens(&registry, "extract", model, "prompt"),
            0.0,
            "{model}"
        );
    }
}

#[tokio::test]
async fn a_summary_request_past_the_deadline_counts_as_abandoned() {
    let (server, registry, model) = (MockServer::start().await, registry(), "chat-abandoned");
    let late = completion("Dana is allergic to shellfish.").set_delay(Duration::from_millis(800));
    mount_chat(&server, late).await;
    let summarizer = build_summarizer(&SummarizerSettings {
        provider: SummarizerProvider::OpenAi,
        deadline_ms: 50,
        openai: chat_settings(&server, model, 5_000),
        ..SummarizerSettings::default()
    })
    .unwrap();

    let summary = summarizer.summarize_user(&shellfish()).await.unwrap();

    assert_eq!(summary.source, SummarySource::Extractive, "{summary:?}");
    assert_eq!(requests(&registry, "summarize", model, "abandoned"), 1.0);
    assert_eq!(requests(&registry, "summarize", model, "ok"), 0.0);
    assert_eq!(timed(&registry, "summarize", model), 1.0);
}
