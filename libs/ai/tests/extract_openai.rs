//! The OpenAI extractor against a local server speaking the Chat Completions wire format.

use memvox_ai::{
    CallTranscript, ChatModelSettings, ExistingMemory, ExtractError, Extractor, OpenAiExtractor,
    ProviderError,
};
use memvox_core::{MemoryOp, Role, Sector, Turn};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn settings(server: &MockServer, timeout_ms: u64) -> ChatModelSettings {
    ChatModelSettings {
        base_url: format!("{}/v1", server.uri()),
        api_key: Some(secrecy::SecretString::from("sk-test")),
        timeout_ms,
        ..ChatModelSettings::default()
    }
}

fn call() -> CallTranscript {
    let turn = |index: u32, role: Role, words: Option<&str>| Turn {
        index,
        role,
        message: words.map(str::to_owned),
        time_in_call_secs: i64::from(index) * 4,
    };
    CallTranscript {
        user_id: "user_1".into(),
        conversation_id: "conv_llm".into(),
        started_at: 1_767_225_600_000,
        turns: vec![
            turn(0, Role::Agent, Some("Hi Dana, how can I help?")),
            turn(
                1,
                Role::User,
                Some("I moved to Austin, and please text me instead of email."),
            ),
            turn(2, Role::Agent, None),
            turn(3, Role::User, Some("Also I'm allergic to shellfish.")),
        ],
        existing: vec![
            ExistingMemory {
                id: 11,
                content: "Lives in Denver".into(),
                sector: Sector::Semantic,
            },
            ExistingMemory {
                id: 12,
                content: "Prefers email".into(),
                sector: Sector::Procedural,
            },
        ],
        ..CallTranscript::default()
    }
}

/// A Chat Completions response whose message content is `content`.
fn completion(content: &str, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_767_225_700,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": finish_reason
        }],
        "usage": {"prompt_tokens": 812, "completion_tokens": 96, "total_tokens": 908}
    })
}

fn good_answer() -> String {
    json!({"memories": [
        {"content": "Lives in Austin", "sector": "semantic", "salience": 0.7, "turn_indexes": [1], "op": "supersede", "target_id": 11},
        {"content": "Prefers text messages", "sector": "procedural", "salience": 0.8, "turn_indexes": [1], "op": "supersede", "target_id": 12},
        {"content": "Allergic to shellfish", "sector": "semantic", "salience": 0.9, "turn_indexes": [3, 3], "op": "add", "target_id": null}
    ]})
    .to_string()
}

async fn mount(server: &MockServer, response: ResponseTemplate, times: Option<u64>) {
    let mock = Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", "Bearer sk-test"))
        .respond_with(response);
    match times {
        Some(n) => mock.up_to_n_times(n).with_priority(1).mount(server).await,
        None => mock.mount(server).await,
    }
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("request body is JSON"))
        .collect()
}

#[tokio::test]
async fn success_returns_validated_candidates_and_sends_a_strict_schema() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(completion(&good_answer(), "stop")),
        None,
    )
    .await;
    let extractor = OpenAiExtractor::new(&settings(&server, 5_000)).unwrap();

    let got = extractor.extract(&call()).await.unwrap();

    let summary: Vec<(&str, MemoryOp, &[u32])> = got
        .iter()
        .map(|c| (c.content.as_str(), c.op, c.turn_indexes.as_slice()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "Lives in Austin",
                MemoryOp::Supersede { target: 11 },
                &[1][..]
            ),
            (
                "Prefers text messages",
                MemoryOp::Supersede { target: 12 },
                &[1][..]
            ),
            ("Allergic to shellfish", MemoryOp::Add, &[3][..]),
        ]
    );
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 1);
    let body = &sent[0];
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["additionalProperties"],
        false
    );
    assert_eq!(body["messages"][0]["role"], "system");
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("- id 11 (semantic): Lives in Denver"),
        "{user}"
    );
    assert!(
        user.contains("[3] caller (0:12): Also I'm allergic to shellfish."),
        "{user}"
    );
    assert!(!user.contains("[2]"), "tool turns are left out");
}

#[tokio::test]
async fn schema_violating_output_is_retried_once_with_the_reason() {
    let server = MockServer::start().await;
    let unknown_target = json!({"memories": [
        {"content": "Lives in Austin", "sector": "semantic", "salience": 0.7, "turn_indexes": [1], "op": "supersede", "target_id": 99}
    ]})
    .to_string();
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(completion(&unknown_target, "stop")),
        Some(1),
    )
    .await;
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(completion(&good_answer(), "stop")),
        None,
    )
    .await;
    let extractor = OpenAiExtractor::new(&settings(&server, 5_000)).unwrap();

    let got = extractor.extract(&call()).await.unwrap();

    assert_eq!(got.len(), 3);
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    let retry_note = sent[1]["messages"][2]["content"].as_str().unwrap();
    assert!(
        retry_note.contains("target 99 is not one of the existing memory ids"),
        "{retry_note}"
    );
}

#[tokio::test]
async fn invalid_output_twice_fails_without_partial_results() {
    let cases = [
        ("not json at all", "stop", "not JSON"),
        (
            r#"{"memories": [{"content": "x", "sector": "semantic", "salience": 0.5, "turn_indexes": [7], "op": "add", "target_id": null}]}"#,
            "stop",
            "turn index 7",
        ),
        (
            r#"{"memories": [{"content": "x", "sector": "factual", "salience": 0.5, "turn_indexes": [1], "op": "add", "target_id": null}]}"#,
            "stop",
            "unknown sector",
        ),
        (
            r#"{"memories": [{"content": "x", "sector": "semantic", "salience": 1.5, "turn_indexes": [1], "op": "add", "target_id": null}]}"#,
            "stop",
            "salience",
        ),
        (
            r#"{"memories": [{"content": "  ", "sector": "semantic", "salience": 0.5, "turn_indexes": [1], "op": "add", "target_id": null}]}"#,
            "stop",
            "empty",
        ),
        (
            r#"{"memories": [{"content": "Lives in Austin", "sector": "semantic", "salience": 0.5, "turn_indexes": [1], "op": "update", "target_id": null}]}"#,
            "stop",
            "needs a target_id",
        ),
        (
            r#"{"memories": [{"content": "Lives in Au"#,
            "length",
            "truncated",
        ),
    ];
    for (answer, finish, reason) in cases {
        let server = MockServer::start().await;
        mount(
            &server,
            ResponseTemplate::new(200).set_body_json(completion(answer, finish)),
            None,
        )
        .await;
        let extractor = OpenAiExtractor::new(&settings(&server, 5_000)).unwrap();

        let err = extractor.extract(&call()).await.unwrap_err();

        assert!(
            matches!(err, ExtractError::InvalidOutput { attempts: 2, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains(reason),
            "`{err}` should mention `{reason}`"
        );
        assert!(!err.is_retryable());
        assert_eq!(bodies(&server).await.len(), 2);
    }
}

#[tokio::test]
async fn content_of_100_characters_is_rejected() {
    let server = MockServer::start().await;
    let long = "x".repeat(100);
    let answer = json!({"memories": [{"content": long, "sector": "semantic", "salience": 0.5, "turn_indexes": [1], "op": "add", "target_id": null}]});
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(completion(&answer.to_string(), "stop")),
        None,
    )
    .await;
    let extractor = OpenAiExtractor::new(&settings(&server, 5_000)).unwrap();
    let err = extractor.extract(&call()).await.unwrap_err();
    assert!(err.to_string().contains("100 characters"), "{err}");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retryable_and_not_retried_here() {
    for status in [429, 500, 503] {
        let server = MockServer::start().await;
        let body = json!({"error": {"message": "slow down", "type": "requests", "param": null, "code": null}});
        mount(
            &server,
            ResponseTemplate::new(status).set_body_json(body),
            None,
        )
        .await;
        let extractor = OpenAiExtractor::new(&settings(&server, 5_000)).unwrap();

        let err = extractor.extract(&call()).await.unwrap_err();

        assert!(
            matches!(
                err,
                ExtractError::Provider(ProviderError::Unavailable { .. })
            ),
            "{status}: {err}"
        );
        assert!(err.is_retryable());
        assert!(err.to_string().contains(&status.to_string()), "{err}");
        assert_eq!(
            bodies(&server).await.len(),
            1,
            "the bus retries, not the client"
        );
    }
}

#[tokio::test]
async fn a_rejected_key_or_exhausted_quota_is_not_retryable() {
    let cases = [
        (
            401,
            json!({"error": {"message": "Incorrect API key", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
        ),
        (
            429,
            json!({"error": {"message": "You exceeded your quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}),
        ),
    ];
    for (status, body) in cases {
        let server = MockServer::start().await;
        mount(
            &server,
            ResponseTemplate::new(status).set_body_json(body),
            None,
        )
        .await;
        let extractor = OpenAiExtractor::new(&settings(&server, 5_000)).unwrap();
        let err = extractor.extract(&call()).await.unwrap_err();
        assert!(
            matches!(err, ExtractError::Provider(ProviderError::Rejected { .. })),
            "{status}: {err}"
        );
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn a_slow_server_times_out_as_a_retryable_error() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(completion(&good_answer(), "stop"))
        .set_delay(std::time::Duration::from_secs(10));
    mount(&server, slow, None).await;
    let extractor = OpenAiExtractor::new(&settings(&server, 200)).unwrap();

    let err = extractor.extract(&call()).await.unwrap_err();

    assert!(
        matches!(
            err,
            ExtractError::Provider(ProviderError::Timeout { after_ms: 200, .. })
        ),
        "{err}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn an_unreachable_server_is_retryable() {
    let server = MockServer::start().await;
    let settings = settings(&server, 2_000);
    drop(server);
    let extractor = OpenAiExtractor::new(&settings).unwrap();
    let err = extractor.extract(&call()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}
