//! The custom-LLM proxy's edges: what each upstream failure becomes (502, 504, or the upstream's
//! own 4xx passed back), who may call it (LLM tokens only, within its body limit), and a real
//! streaming upstream on a socket showing that chunks pass back as they are generated and that
//! a client going away stops the upstream.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::routing::post;
use futures::StreamExt as _;
use memvox_query::QueryState;
use memvox_query::llm_proxy::{LlmProxy, LlmProxySettings};
use memvox_testkit::Backend;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::llm_proxy::{chat, chat_request, proxy_settings, received, turn};
use crate::support::{self, ADMIN_TOKEN, Harness, LLM_TOKEN, TOKEN, TestEmbedder, request};

/// The state with its proxy forwarding to `upstream_url` (a base URL) with `read_timeout_ms`.
fn redirected(state: &QueryState, upstream_url: &str, read_timeout_ms: u64) -> QueryState {
    let settings = LlmProxySettings {
        upstream_url: upstream_url.to_owned(),
        read_timeout_ms,
        ..state.settings.llm_proxy.clone()
    };
    let mut state = state.clone();
    state.llm_proxy = LlmProxy::new(&settings).unwrap();
    state
}

/// The status, `Retry-After` and body of a proxied turn.
async fn outcome(state: &QueryState) -> (u16, Option<String>, Value) {
    let response = chat(state, &[], &turn(true, json!({}))).await;
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = memvox_testkit::http::body(response).await;
    (status, retry, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn upstream_failures_are_mapped() {
    let upstream = MockServer::start().await;
    let settings = proxy_settings(&upstream.uri());
    let h = Harness::with_settings(Backend::Sqlite, TestEmbedder::default(), settings).await;
    let openai_error = |message: &str| json!({"error": {"message": message, "type": "invalid_request_error", "code": null}});
    let cases = [
        (ResponseTemplate::new(500), 502, "upstream_error"),
        (ResponseTemplate::new(401), 502, "upstream_credentials"),
        (ResponseTemplate::new(403), 502, "upstream_credentials"),
    ];
    for (answer, status, code) in cases {
        upstream.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&upstream)
            .await;
        let (got, _, body) = outcome(&h.state).await;
        assert_eq!(
            (got, body["error"]["code"].as_str().unwrap()),
            (status, code)
        );
        assert!(!body.to_string().contains("sk-"), "no key in {body}");
    }
    // The upstream's 4xx describe the request: passed back as they came.
    let passed_back = [
        (400, None, openai_error("Unrecognized request argument")),
        (404, None, openai_error("The model `gpt-9` does not exist")),
        (429, Some("7"), openai_error("Rate limit reached")),
    ];
    for (status, retry, body) in passed_back {
        upstream.reset().await;
        let mut answer = ResponseTemplate::new(status).set_body_json(&body);
        if let Some(retry) = retry {
            answer = answer.insert_header("retry-after", retry);
        }
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&upstream)
            .await;
        assert_eq!(
            outcome(&h.state).await,
            (status, retry.map(str::to_owned), body)
        );
    }

    let closed = redirected(&h.state, "http://127.0.0.1:1/v1", 2_000);
    let (status, _, body) = outcome(&closed).await;
    assert_eq!(
        (status, body["error"]["code"].as_str().unwrap()),
        (502, "upstream_unavailable")
    );

    upstream.reset().await;
    let slow = ResponseTemplate::new(200).set_delay(Duration::from_secs(5));
    Mock::given(method("POST"))
        .respond_with(slow)
        .mount(&upstream)
        .await;
    let impatient = redirected(&h.state, &format!("{}/v1", upstream.uri()), 200);
    let (status, _, body) = outcome(&impatient).await;
    assert_eq!(
        (status, body["error"]["code"].as_str().unwrap()),
        (504, "upstream_timeout")
    );

    let errors = &h.state.metrics.llm_proxy.upstream_errors;
    let counted = |reason: &str| errors.with_label_values(&[reason]).get();
    assert_eq!(counted("server_error"), 1);
    assert_eq!(counted("credentials"), 2);
    assert_eq!(counted("client_error"), 2);
    assert_eq!(counted("rate_limited"), 1);
    assert_eq!(counted("unavailable"), 1);
    assert_eq!(counted("timeout"), 1);
}

#[tokio::test]
async fn only_llm_tokens_within_the_body_limit_get_through() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"choices": []})))
        .mount(&upstream)
        .await;
    let mut settings = proxy_settings(&upstream.uri());
    settings.llm_proxy.max_body_bytes = 256 * 1024;
    let h = Harness::with_settings(Backend::Sqlite, TestEmbedder::default(), settings).await;
    let body = turn(false, json!({}));
    let refused = [
        (None, 401),
        (Some(TOKEN), 403),
        (Some(ADMIN_TOKEN), 403),
        (Some("not-a-token"), 401),
    ];
    for (token, status) in refused {
        let request = request(
            "POST",
            "/llm/v1/chat/completions",
            token,
            Some(body.clone()),
        );
        assert_eq!(h.send(request).await.0, status, "{token:?}");
    }
    for (method, uri) in [("POST", "/tools/memory-query"), ("GET", "/v1/users/alice")] {
        let body = (method == "POST").then(|| json!({"query": "pet"}));
        let request = request(method, uri, Some(LLM_TOKEN), body);
        assert_eq!(h.send(request).await.0, 403, "{uri}");
    }
    let malformed = [
        json!({"model": "memvox"}),
        json!({"messages": "pet"}),
        json!({"messages": [], "stream": "yes"}),
    ];
    for body in malformed {
        let (status, answer) = h.send(chat_request(&[], &body)).await;
        assert_eq!(
            (status.as_u16(), answer["error"]["code"].as_str()),
            (400, Some("invalid_request"))
        );
    }
    let not_json = axum::http::Request::builder()
        .method("POST")
        .uri("/llm/v1/chat/completions")
        .header("authorization", format!("Bearer {LLM_TOKEN}"))
        .body(Body::from("{\"messages\": ["))
        .unwrap();
    assert_eq!(h.send(not_json).await.0, 400);
    assert!(
        received(&upstream).await.is_empty(),
        "nothing refused was forwarded"
    );

    // A long conversation is over the API's 64 KiB but within the proxy's own limit.
    let long = turn(false, json!({"padding": "x".repeat(100 * 1024)}));
    assert_eq!(h.send(chat_request(&[], &long)).await.0, 200);
    let too_long = turn(false, json!({"padding": "x".repeat(300 * 1024)}));
    assert_eq!(h.send(chat_request(&[], &too_long)).await.0, 413);
    assert_eq!(received(&upstream).await.len(), 1);

    // Tokens configured, the proxy off.
    let off = Harness::with_settings(
        Backend::Sqlite,
        TestEmbedder::default(),
        support::settings(),
    )
    .await;
    let (status, answer) = off.send(chat_request(&[], &body)).await;
    assert_eq!(
        (status.as_u16(), answer["error"]["code"].as_str()),
        (503, Some("not_configured"))
    );
}

/// The first event of the fake upstream's stream, sent before it is told to go on.
const FIRST: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
/// Every later event, one per 10 ms until the client goes away.
const NEXT: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"}}]}\n\n";

/// Tells the test when the upstream's stream is dropped (its client went away).
struct Dropped(Option<oneshot::Sender<()>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        if let Some(sender) = self.0.take() {
            let _ = sender.send(());
        }
    }
}

/// An upstream on a loopback socket streaming [`FIRST`], then, once `go_on` is notified,
/// [`NEXT`] every 10 ms without end; `dropped` fires when its response stream is dropped.
async fn endless_upstream() -> (String, Arc<Notify>, oneshot::Receiver<()>) {
    let go_on = Arc::new(Notify::new());
    let (sender, dropped) = oneshot::channel();
    let sender = Arc::new(Mutex::new(Some(sender)));
    let handler = {
        let go_on = go_on.clone();
        move || {
            let (go_on, sender) = (go_on.clone(), sender.clone());
            async move {
                let guard = Dropped(sender.lock().unwrap().take());
                let events = futures::stream::unfold((0_u32, guard), move |(step, guard)| {
                    let go_on = go_on.clone();
                    async move {
                        match step {
                            0 => {}
                            1 => go_on.notified().await,
                            _ => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                        let event = if step == 0 { FIRST } else { NEXT };
                        Some((Ok::<_, std::io::Error>(event), (step + 1, guard)))
                    }
                });
                (
                    [("content-type", "text/event-stream")],
                    Body::from_stream(events),
                )
            }
        }
    };
    let app = axum::Router::new().route("/v1/chat/completions", post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), go_on, dropped)
}

#[tokio::test]
async fn chunks_pass_as_generated_and_a_client_leaving_stops_the_upstream() {
    let (url, go_on, dropped) = endless_upstream().await;
    let settings = proxy_settings("http://unused");
    let h = Harness::with_settings(Backend::Sqlite, TestEmbedder::default(), settings).await;
    let state = redirected(&h.state, &url, 2_000);
    let response = chat(&state, &[], &turn(true, json!({}))).await;
    assert_eq!(response.status(), 200);
    let mut body = response.into_body().into_data_stream();
    let first = body.next().await.unwrap().unwrap();
    assert_eq!(
        first,
        FIRST.as_bytes(),
        "the first event arrives before the upstream goes on"
    );
    go_on.notify_one();
    let next = body.next().await.unwrap().unwrap();
    assert!(next.starts_with(NEXT.as_bytes()), "{next:?}");
    drop(body);
    tokio::time::timeout(Duration::from_secs(5), dropped)
        .await
        .expect("the upstream's stream is dropped once the client is gone")
        .unwrap();
}
