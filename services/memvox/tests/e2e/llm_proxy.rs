//! The custom-LLM proxy end to end on both deployments (SQLite + in-process bus, PostgreSQL +
//! Redis Streams), as an ElevenLabs agent uses it: a call is processed into memories, the next
//! call's conversation-init hands out the caller's identity token (the conversation's
//! `user_id`), and a streamed chat turn carrying it reaches a wiremock OpenAI upstream with the
//! caller's memory in the system prompt, its stream passed back unchanged.

use memvox_query::hash_token;
use memvox_query::llm_proxy::context::BLOCK_HEADER;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support;
use crate::support::{Deployment, FIXTURE, Pipeline, accept, serve};

const LLM_TOKEN: &str = "llm-token-e2e";
const INIT_SECRET: &str = "init-secret-e2e";
/// The fixture call's agent and caller.
const AGENT: &str = "agent_4701kf3qz8mrx2v9tn6bq0c5wd";
const CALLER: &str = "+14155550199";
const SSE: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Elm Street.\"}}]}\n\ndata: [DONE]\n\n";

async fn a_callers_memories_reach_the_agents_llm(deployment: Deployment) {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(SSE, "text/event-stream"))
        .mount(&upstream)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let upstream_url = format!("{}/v1", upstream.uri());
    let app = support::app_with(deployment, dir.path(), |config| {
        let query = &mut config.query;
        query.init_secrets = vec![INIT_SECRET.into()];
        query.llm_proxy.enabled = true;
        query.llm_proxy.token_sha256 = vec![hash_token(LLM_TOKEN)];
        query.llm_proxy.upstream_url = upstream_url;
        // Generous: a loaded test machine must not fail open where memories are expected.
        query.llm_proxy.budget_ms = 5_000;
    })
    .await;
    accept(
        &app,
        "conv_first",
        FIXTURE.replace("conv_5201kf3r7e9yq2m8vx4pn0td6h", "conv_first"),
    )
    .await;
    Pipeline::new(&app).run().await;
    let base = serve(memvox_query::router(app.query().unwrap())).await;
    let client = reqwest::Client::new();

    let init: Value = client
        .post(format!("{base}/webhook/conversation-init"))
        .header("x-memvox-secret", INIT_SECRET)
        .json(
            &json!({"caller_id": CALLER, "called_number": "+14155550142", "agent_id": AGENT,
                      "call_sid": "CA1", "conversation_id": "conv_next"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = init["user_id"].as_str().expect("an identity token");

    let turn = json!({
        "model": "gpt-4o-mini", "stream": true, "user_id": token,
        "messages": [{"role": "system", "content": "You are a pharmacy assistant."},
                     {"role": "user", "content": "Which pharmacy did I switch to?"}]
    });
    let response = client
        .post(format!("{base}/llm/v1/chat/completions"))
        .bearer_auth(LLM_TOKEN)
        .header("x-memvox-agent-id", AGENT)
        .header("x-memvox-conversation-id", "conv_next")
        .json(&turn)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), SSE);

    let requests = upstream.received_requests().await.unwrap();
    let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let system = sent["messages"][0]["content"].as_str().unwrap();
    let (prompt, block) = system.split_once("\n\n").unwrap();
    assert_eq!(prompt, "You are a pharmacy assistant.");
    assert!(block.starts_with(BLOCK_HEADER), "{system}");
    assert!(
        block.contains("Elm Street"),
        "the caller's memory: {system}"
    );
    assert!(sent.get("user_id").is_none());
}

#[tokio::test]
async fn embedded_a_callers_memories_reach_the_agents_llm() {
    a_callers_memories_reach_the_agents_llm(Deployment::Embedded).await;
}

#[tokio::test]
async fn distributed_a_callers_memories_reach_the_agents_llm() {
    a_callers_memories_reach_the_agents_llm(Deployment::Distributed).await;
}
