//! The OpenAI summarizer and its deadline fallback against a local Chat Completions server.

use std::sync::Arc;
use std::time::Duration;

use memvox_ai::{
    ChatModelSettings, ExtractiveSummarizer, OpenAiSummarizer, SummarizeError, Summarizer,
    SummarizerProvider, SummarizerSettings, SummarizerWithFallback, SummaryMemory, SummarySource,
    build_summarizer,
};
use memvox_core::Sector;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn chat_settings(server: &MockServer) -> ChatModelSettings {
    ChatModelSettings {
        base_url: format!("{}/v1", server.uri()),
        api_key: Some(secrecy::SecretString::from("sk-test")),
        timeout_ms: 5_000,
        ..ChatModelSettings::default()
    }
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-sum",
        "object": "chat.completion",
        "created": 1_767_225_700,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 120, "completion_tokens": 24, "total_tokens": 144}
    })
}

fn ranked() -> Vec<SummaryMemory> {
    vec![
        SummaryMemory {
            content: "Moved prescriptions to the Elm Street pharmacy".into(),
            sector: Sector::Semantic,
        },
        SummaryMemory {
            content: "Prefers mornings for callbacks".into(),
            sector: Sector::Procedural,
        },
    ]
}

async fn serve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_model_writes_the_query_summary_from_the_ranked_memories() {
    let server = MockServer::start().await;
    let text = "The caller moved prescriptions to the Elm Street pharmacy.";
    serve(
        &server,
        ResponseTemplate::new(200).set_body_json(completion(&format!(" \"{text}\" "))),
    )
    .await;
    let summarizer = OpenAiSummarizer::new(&chat_settings(&server)).unwrap();

    let summary = summarizer
        .summarize_for_query("which pharmacy?", &ranked())
        .await
        .unwrap();

    assert_eq!(summary.text, text);
    assert_eq!(summary.source, SummarySource::Llm);
    let requests = server.received_requests().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Agent's question: which pharmacy?"), "{user}");
    assert!(
        user.contains("1. (semantic) Moved prescriptions to the Elm Street pharmacy"),
        "{user}"
    );
    assert!(body["max_completion_tokens"].as_u64().unwrap() <= 200);
}

#[tokio::test]
async fn no_memories_means_no_request() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(200).set_body_json(completion("unused")),
    )
    .await;
    let summarizer = OpenAiSummarizer::new(&chat_settings(&server)).unwrap();
    assert_eq!(summarizer.summarize_user(&[]).await.unwrap().text, "");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn an_empty_answer_is_invalid_output() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(200).set_body_json(completion("   ")),
    )
    .await;
    let summarizer = OpenAiSummarizer::new(&chat_settings(&server)).unwrap();
    let err = summarizer.summarize_user(&ranked()).await.unwrap_err();
    assert!(matches!(err, SummarizeError::InvalidOutput { .. }), "{err}");
}

#[tokio::test]
async fn a_model_slower_than_the_deadline_falls_back_to_extractive() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(completion("too late"))
        .set_delay(Duration::from_secs(10));
    serve(&server, slow).await;
    let primary = Arc::new(OpenAiSummarizer::new(&chat_settings(&server)).unwrap());
    let summarizer = SummarizerWithFallback::new(
        primary,
        ExtractiveSummarizer::default(),
        Duration::from_millis(100),
    );

    let summary = summarizer
        .summarize_for_query("pharmacy", &ranked())
        .await
        .unwrap();

    assert_eq!(summary.source, SummarySource::Extractive);
    assert_eq!(
        summary.text,
        "Moved prescriptions to the Elm Street pharmacy. Prefers mornings for callbacks."
    );
    let reason = summary.fallback_reason.unwrap();
    assert!(reason.contains("100 ms deadline"), "{reason}");
}

#[tokio::test]
async fn a_failing_model_falls_back_with_its_error() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(503).set_body_string("upstream overloaded"),
    )
    .await;
    let mut settings = SummarizerSettings {
        provider: SummarizerProvider::OpenAi,
        deadline_ms: 5_000,
        ..SummarizerSettings::default()
    };
    settings.openai = chat_settings(&server);
    let summarizer = build_summarizer(&settings).unwrap();

    let summary = summarizer.summarize_user(&ranked()).await.unwrap();

    assert_eq!(summary.source, SummarySource::Extractive);
    assert!(summary.fallback_reason.unwrap().contains("503"));
}

#[tokio::test]
async fn a_model_within_the_deadline_answers() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(200).set_body_json(completion("Dana prefers morning callbacks.")),
    )
    .await;
    let mut settings = SummarizerSettings {
        provider: SummarizerProvider::OpenAi,
        deadline_ms: 5_000,
        ..SummarizerSettings::default()
    };
    settings.openai = chat_settings(&server);
    let summarizer = build_summarizer(&settings).unwrap();

    let summary = summarizer.summarize_user(&ranked()).await.unwrap();

    assert_eq!(summary.source, SummarySource::Llm);
    assert_eq!(summary.text, "Dana prefers morning callbacks.");
    assert_eq!(summary.fallback_reason, None);
}
