//! `memvox-llm-proxy`, the custom-LLM proxy on its own: it refuses to start while the proxy is
//! off, and once on it serves the proxy (forwarding to a wiremock upstream), health and metrics,
//! and no other route of the query service.

use std::process::Stdio;

use memvox_query::hash_token;
use memvox_testkit::Running;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::llm_proxy::{SSE, sse_answer, turn};
use crate::support::LLM_TOKEN;

/// The binary, run in `dir` on a fresh embedded store.
fn proxy_binary(dir: &std::path::Path) -> std::process::Command {
    memvox_testkit::memvox_command(env!("CARGO_BIN_EXE_memvox-llm-proxy"), dir)
}

#[test]
fn it_refuses_to_start_while_the_proxy_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let output = proxy_binary(dir.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("query.llm_proxy.enabled"), "{stderr}");
}

#[tokio::test]
async fn it_serves_the_proxy_and_nothing_else() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse_answer())
        .mount(&upstream)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let port = memvox_testkit::free_port();
    let _proxy = Running(
        proxy_binary(dir.path())
            .env("MEMVOX_HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .env("MEMVOX_QUERY__LLM_PROXY__ENABLED", "true")
            .env(
                "MEMVOX_QUERY__LLM_PROXY__UPSTREAM_URL",
                format!("{}/v1", upstream.uri()),
            )
            .env(
                "MEMVOX_QUERY__LLM_PROXY__TOKEN_SHA256",
                format!("[{}]", hash_token(LLM_TOKEN)),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    memvox_testkit::wait_until_ready(&base).await;
    let answer = client
        .post(format!("{base}/llm/v1/chat/completions"))
        .bearer_auth(LLM_TOKEN)
        .json(&turn(true, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), SSE);
    let tool = client
        .post(format!("{base}/tools/memory-query"))
        .bearer_auth(LLM_TOKEN)
        .json(&json!({"query": "pet"}))
        .send()
        .await
        .unwrap();
    assert_eq!(tool.status(), 404, "the proxy alone serves no tool");
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("memvox_llm_proxy_requests_total{context=\"unknown_caller\"} 1"),
        "{metrics}"
    );
}
