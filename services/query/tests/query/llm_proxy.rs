//! `POST /llm/v1/chat/completions` against a wiremock upstream speaking OpenAI's wire format,
//! on both store backends: a streamed answer (with a tool call) and a JSON one pass back
//! byte for byte; the caller's memories reach the upstream in the system prompt, ElevenLabs'
//! fields and the caller's token do not; the caller is found from identity headers, the extra
//! body or the conversation's `user_id`, never from a raw id or a number in the body; an
//! unknown caller, a lookup past its budget and a closed store forward the request unchanged,
//! each counted.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use memvox_ai::{AiError, Embedder};
use memvox_core::Sector;
use memvox_query::llm_proxy::context::BLOCK_HEADER;
use memvox_query::llm_proxy::{ContextPlacement, LlmProxySettings};
use memvox_query::{QuerySettings, QueryState, hash_token, router};
use memvox_testkit::Backend;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    self, AGENT, Harness, LLM_TOKEN, NOW, TestEmbedder, add_memory, log_column, logged,
    recalls_on_the_bus,
};

/// memvox's key for the upstream.
pub const UPSTREAM_KEY: &str = "sk-upstream";
const ALICE: &str = "+14155550177";
const BOB: &str = "+14155550188";
/// Alice's memory, in the block the upstream receives.
const ALICE_BLOCK_LINE: &str = "- 2026-01-01: Has a dog named Rex";

/// An OpenAI stream: text, then a tool call, then the end.
pub const SSE: &str = concat!(
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1767225645,",
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",",
    "\"content\":\"Rex is well?\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1767225645,",
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,",
    "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"end_call\",",
    "\"arguments\":\"{}\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1767225645,",
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},",
    "\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: [DONE]\n\n"
);

/// Settings with the proxy on, forwarding to `upstream`.
pub fn proxy_settings(upstream: &str) -> QuerySettings {
    QuerySettings {
        llm_proxy: LlmProxySettings {
            enabled: true,
            token_sha256: vec![hash_token(LLM_TOKEN)],
            upstream_url: format!("{upstream}/v1"),
            upstream_api_key: Some(UPSTREAM_KEY.into()),
            models: [("memvox".to_owned(), "gpt-4o-mini".to_owned())].into(),
            // Generous: a loaded test machine must not fail open where a test expects memories.
            budget_ms: 5_000,
            read_timeout_ms: 2_000,
            ..LlmProxySettings::default()
        },
        ..support::settings()
    }
}

/// A chat request with `body`, the LLM token and `headers`.
pub fn chat_request(headers: &[(&str, &str)], body: &Value) -> Request<Body> {
    let mut builder = Request::builder()
        .method("POST")
        .uri("/llm/v1/chat/completions")
        .header("authorization", format!("Bearer {LLM_TOKEN}"))
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

/// Sends a chat request through the query router over `state`.
pub async fn chat(state: &QueryState, headers: &[(&str, &str)], body: &Value) -> Response<Body> {
    memvox_testkit::http::respond(&router(state.clone()), chat_request(headers, body)).await
}

/// A turn of a conversation as ElevenLabs sends it: system prompt, one earlier exchange, the
/// user's latest message.
pub fn turn(stream: bool, extra: Value) -> Value {
    let mut body = json!({
        "model": "memvox",
        "stream": stream,
        "temperature": 0.5,
        "max_tokens": 5000,
        "messages": [
            {"role": "system", "content": "You are a friendly vet assistant."},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "pet"}
        ],
        "tools": [{"type": "function", "function": {"name": "end_call", "parameters": {}}}]
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

/// The JSON bodies the upstream received, in order.
pub async fn received(upstream: &MockServer) -> Vec<Value> {
    upstream
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect()
}

/// The system prompt of a forwarded body.
fn system_prompt(body: &Value) -> &str {
    body["messages"][0]["content"].as_str().unwrap()
}

/// A proxy over a fresh store with Alice (a dog) and Bob (a cat), each bound to their number,
/// forwarding to a wiremock upstream that answers `answer`.
async fn proxy(backend: Backend, answer: ResponseTemplate) -> (Harness, MockServer) {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {UPSTREAM_KEY}")))
        .respond_with(answer)
        .mount(&upstream)
        .await;
    let embedder = TestEmbedder::new(&[("pet", [1.0, 0.0, 0.0, 0.0])]);
    let h = Harness::with_settings(backend, embedder, proxy_settings(&upstream.uri())).await;
    let s = h.store();
    let pets = [
        ("alice", ALICE, "Has a dog named Rex"),
        ("bob", BOB, "Has a cat named Tom"),
    ];
    for (user, number, pet) in pets {
        add_memory(
            s,
            user,
            pet,
            Sector::Semantic,
            0.8,
            NOW,
            [1.0, 0.0, 0.0, 0.0],
        )
        .await;
        s.bind_caller(number, user, NOW).await.unwrap();
    }
    (h, upstream)
}

/// An upstream answer streamed as OpenAI streams.
pub fn sse_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(SSE, "text/event-stream")
}

/// The proxy's counter of requests with `context`.
fn requests(h: &Harness, context: &str) -> u64 {
    let metrics = &h.state.metrics.llm_proxy;
    metrics.requests.with_label_values(&[context]).get()
}

/// The proxy's counter of fail-opens for `reason`.
fn failed_open(h: &Harness, reason: &str) -> u64 {
    let metrics = &h.state.metrics.llm_proxy;
    metrics.failed_open.with_label_values(&[reason]).get()
}

async fn a_stream_passes_back_unchanged_with_the_callers_memories_upstream(backend: Backend) {
    let (h, upstream) = proxy(backend, sse_answer()).await;
    let caller = [("x-memvox-caller-id", ALICE), ("x-memvox-agent-id", AGENT)];
    let response = chat(&h.state, &caller, &turn(true, json!({}))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let bytes = memvox_testkit::http::body(response).await;
    assert_eq!(
        bytes,
        SSE.as_bytes(),
        "the stream passes back byte for byte"
    );

    let [sent] = received(&upstream).await.try_into().unwrap();
    let expected =
        format!("You are a friendly vet assistant.\n\n{BLOCK_HEADER}\n{ALICE_BLOCK_LINE}");
    assert_eq!(system_prompt(&sent), expected);
    assert_eq!(sent["model"], "gpt-4o-mini", "mapped");
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["tools"][0]["function"]["name"], "end_call");
    assert_eq!(sent["messages"].as_array().unwrap().len(), 3);
    assert_eq!(requests(&h, "added"), 1);
    logged(&h, 1).await;
    assert_eq!(log_column(&h, "tool_name").await, ["llm_proxy"]);
    assert_eq!(log_column(&h, "user_id").await, ["alice"]);
}

async fn a_json_answer_passes_back_and_identity_comes_from_the_body(backend: Backend) {
    let completion = json!({
        "id": "chatcmpl-2", "object": "chat.completion", "created": 1767225645,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hi Bob!"}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
    });
    let answer = ResponseTemplate::new(200).set_body_json(&completion);
    let (h, upstream) = proxy(backend, answer).await;
    let bobs = h.token("bob");
    // The conversation-init response's custom_llm_extra_body reaches the LLM as
    // elevenlabs_extra_body.
    let extra = json!({"elevenlabs_extra_body": {"memory_user_id": bobs, "agent_id": AGENT},
                       "user_id": "ignored-when-the-extra-body-names-one"});
    let response = chat(&h.state, &[], &turn(false, extra)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&memvox_testkit::http::body(response).await).unwrap();
    assert_eq!(body, completion);

    // The conversation's user_id alone (memvox's conversation-init sets it to the token).
    let response = chat(
        &h.state,
        &[],
        &turn(false, json!({ "user_id": h.token("alice") })),
    )
    .await;
    assert_eq!(response.status(), 200);

    let [to_bob, to_alice] = received(&upstream).await.try_into().unwrap();
    assert!(system_prompt(&to_bob).ends_with("- 2026-01-01: Has a cat named Tom"));
    assert!(system_prompt(&to_alice).ends_with(ALICE_BLOCK_LINE));
    for sent in [&to_bob, &to_alice] {
        for field in ["user_id", "elevenlabs_extra_body", "custom_llm_extra_body"] {
            assert!(
                sent.get(field).is_none(),
                "{field} is not forwarded: {sent}"
            );
        }
        assert!(
            !sent.to_string().contains("mvx1."),
            "no identity token goes upstream"
        );
    }
}

async fn unknown_or_unproven_callers_are_forwarded_unchanged(backend: Backend) {
    let (h, upstream) = proxy(backend, sse_answer()).await;
    let unchanged = turn(true, json!({}));
    let strangers: [(&[(&str, &str)], Value); 4] = [
        (&[("x-memvox-caller-id", "+14155550199")], json!({})),
        // A raw id a client typed, and a number in the (client-settable) extra body.
        (
            &[],
            json!({"elevenlabs_extra_body": {"memory_user_id": "alice", "caller_id": ALICE}}),
        ),
        // Alice's token for another agent.
        (
            &[("x-memvox-agent-id", "agent_other")],
            json!({"user_id": h.token("alice")}),
        ),
        (&[], json!({})),
    ];
    for (headers, extra) in strangers {
        let response = chat(&h.state, headers, &turn(true, extra)).await;
        assert_eq!(response.status(), 200);
        assert_eq!(memvox_testkit::http::body(response).await, SSE.as_bytes());
    }
    for sent in received(&upstream).await {
        assert_eq!(sent["messages"], unchanged["messages"], "no memories added");
    }
    assert_eq!(requests(&h, "unknown_caller"), 4);
    assert_eq!(requests(&h, "added"), 0);
    let refused = &h.state.metrics.identity_refused;
    assert_eq!(refused.with_label_values(&["not_a_token"]).get(), 1);
    assert_eq!(refused.with_label_values(&["wrong_agent"]).get(), 1);
}

async fn a_closed_store_fails_open(backend: Backend) {
    let (h, upstream) = proxy(backend, sse_answer()).await;
    h.break_store().await;
    let caller = [("x-memvox-caller-id", ALICE)];
    let response = chat(&h.state, &caller, &turn(true, json!({}))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(memvox_testkit::http::body(response).await, SSE.as_bytes());
    let [sent] = received(&upstream).await.try_into().unwrap();
    assert_eq!(system_prompt(&sent), "You are a friendly vet assistant.");
    assert_eq!(failed_open(&h, "error"), 1);
    assert_eq!(requests(&h, "failed_open"), 1);
}

/// An embedder that takes `delay` per call.
#[derive(Debug)]
struct SlowEmbedder {
    inner: TestEmbedder,
    delay: Duration,
}

#[async_trait::async_trait]
impl Embedder for SlowEmbedder {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        tokio::time::sleep(self.delay).await;
        self.inner.embed(texts).await
    }
}

async fn a_lookup_past_its_budget_fails_open_and_finishes_behind(backend: Backend) {
    let (h, upstream) = proxy(backend, sse_answer()).await;
    let mut state = h.state.clone();
    state.embedder = Arc::new(SlowEmbedder {
        inner: TestEmbedder::new(&[("pet", [1.0, 0.0, 0.0, 0.0])]),
        delay: Duration::from_millis(400),
    });
    let mut settings = (*state.settings).clone();
    settings.llm_proxy.budget_ms = 30;
    state.settings = Arc::new(settings);
    let caller = [("x-memvox-caller-id", ALICE)];
    let response = chat(&state, &caller, &turn(true, json!({}))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(memvox_testkit::http::body(response).await, SSE.as_bytes());
    let [sent] = received(&upstream).await.try_into().unwrap();
    assert_eq!(system_prompt(&sent), "You are a friendly vet assistant.");
    assert_eq!(failed_open(&h, "timeout"), 1);
    assert_eq!(
        h.state.metrics.llm_proxy.lookup.get_sample_count(),
        0,
        "still running"
    );
    for _ in 0..250 {
        if h.state.metrics.llm_proxy.lookup.get_sample_count() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the late lookup never finished");
}

async fn memories_can_go_just_before_the_user_message(backend: Backend) {
    let (mut h, upstream) = proxy(backend, sse_answer()).await;
    let mut settings = (*h.state.settings).clone();
    settings.llm_proxy.placement = ContextPlacement::BeforeUser;
    h.state.settings = Arc::new(settings);
    let caller = [("x-memvox-caller-id", ALICE)];
    let response = chat(&h.state, &caller, &turn(true, json!({}))).await;
    assert_eq!(response.status(), 200);
    let [sent] = received(&upstream).await.try_into().unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0]["content"], "You are a friendly vet assistant.");
    assert_eq!(messages[2]["role"], "system");
    assert!(
        messages[2]["content"]
            .as_str()
            .unwrap()
            .ends_with(ALICE_BLOCK_LINE)
    );
    assert_eq!(messages[3]["content"], "pet");
}

/// Memories put before the model on every turn are not announced as recalled (a tool query in
/// the same interval is: the control).
async fn turns_are_not_announced_as_recalls(backend: Backend) {
    let (h, _upstream) = proxy(backend, sse_answer()).await;
    let alice = [("x-memvox-caller-id", ALICE)];
    for _ in 0..3 {
        let response = chat(&h.state, &alice, &turn(true, json!({}))).await;
        assert_eq!(response.status(), 200);
        memvox_testkit::http::body(response).await;
    }
    assert_eq!(requests(&h, "added"), 3);
    let bobs = h
        .tool_contents(json!({"query": "pet", "caller_id": BOB}))
        .await;
    assert_eq!(bobs, ["Has a cat named Tom"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let recalled = loop {
        let recalled = recalls_on_the_bus(&h).await;
        if !recalled.is_empty() {
            break recalled;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no recall was announced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let users: Vec<&str> = recalled.iter().map(|(user, _)| user.as_str()).collect();
    assert_eq!(users, ["bob"], "the tool's recall only");
}

memvox_testkit::both_backends!(
    turns_are_not_announced_as_recalls,
    a_stream_passes_back_unchanged_with_the_callers_memories_upstream,
    a_json_answer_passes_back_and_identity_comes_from_the_body,
    unknown_or_unproven_callers_are_forwarded_unchanged,
    a_closed_store_fails_open,
    a_lookup_past_its_budget_fails_open_and_finishes_behind,
    memories_can_go_just_before_the_user_message,
);
