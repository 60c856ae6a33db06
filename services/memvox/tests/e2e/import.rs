//! Past calls imported from the ElevenLabs conversations API (a local fake speaking the
//! documented shapes) end as memories on both deployments, through the same pipeline as a
//! webhook's; `memvox elevenlabs import` imports, finds the call already stored when run again,
//! and stops on a refused key with one clear error line; `memvox serve` with the poll on turns
//! a call whose webhook never came into memories the agent can query, and refuses to start
//! with the poll on and no key.

use memvox::Memvox;
use memvox_config::Secret;
use memvox_gateway::GatewayState;
use memvox_gateway::import::{ImportMetrics, Importer, Outcome, RunOptions};
use memvox_store::{MemoryFilter, MemoryOrder};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, Deployment, Pipeline, assert_one_line_error, memvox, stdout_of};

const CALL: &str = "conv_5201kf3r7e9yq2m8vx4pn0td6h";
const AGENT: &str = "agent_4701kf3qz8mrx2v9tn6bq0c5wd";
const USER: &str = "mem_usr_8c1f2a";
const NUMBER: &str = "+14155550199";

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/elevenlabs/");
    std::fs::read(format!("{path}{name}")).unwrap()
}

/// A fake API listing the fixture call (done) and answering its details with the fixture.
async fn fake_api() -> MockServer {
    fake_api_at(1_767_225_600).await
}

/// [`fake_api`] with the call started at `start` (unix seconds).
async fn fake_api_at(start: u64) -> MockServer {
    let server = MockServer::start().await;
    let mut details: serde_json::Value =
        serde_json::from_slice(&fixture("api_conversation_details.json")).unwrap();
    details["metadata"]["start_time_unix_secs"] = start.into();
    let page = serde_json::json!({
        "conversations": [{
            "agent_id": AGENT,
            "conversation_id": CALL,
            "start_time_unix_secs": start,
            "call_duration_secs": 31,
            "message_count": 9,
            "status": "done",
            "call_successful": "success",
        }],
        "next_cursor": null,
        "has_more": false,
    });
    Mock::given(method("GET"))
        .and(path("/v1/convai/conversations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/convai/conversations/{CALL}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(details))
        .mount(&server)
        .await;
    server
}

async fn an_imported_call_becomes_memories(deployment: Deployment) {
    let api = fake_api().await;
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(deployment, dir.path(), |config| {
        config.elevenlabs.api_key = Some(Secret::from("sk_test_e2e"));
        config.elevenlabs.api_url = api.uri();
    })
    .await;
    app.store.ensure_user(USER, 0).await.unwrap();
    app.store.bind_caller(NUMBER, USER, 0).await.unwrap();
    let pipeline = Pipeline::new(&app);
    let gateway = app.gateway().unwrap();
    let report = import(&app, &gateway).await;
    assert_eq!(report.of(Outcome::Imported), 1, "{report}");
    pipeline.run().await;

    let events = app.store.stale_pending_events(i64::MAX, 10).await.unwrap();
    assert!(events.is_empty(), "processed: {events:?}");
    let call = app.store.get_call(CALL).await.unwrap().unwrap();
    assert_eq!(call.conversation.user_id.as_deref(), Some(USER));
    assert_eq!(call.turns.len(), 9);
    let memories = app
        .store
        .list_memories(USER, &MemoryFilter::default(), MemoryOrder::Newest, 100)
        .await
        .unwrap();
    assert!(
        memories
            .iter()
            .any(|m| m.content == "Prefers mornings for callbacks"),
        "{memories:?}"
    );
    let again = import(&app, &gateway).await;
    assert_eq!(again.of(Outcome::Duplicate), 1, "{again}");
}

/// Runs an import of every agent's calls into `app` through `gateway`'s ingest.
async fn import(app: &Memvox, gateway: &GatewayState) -> memvox_gateway::import::Report {
    let metrics = ImportMetrics::register(&prometheus::Registry::new()).unwrap();
    let importer = Importer::new(gateway.clone(), &app.config.elevenlabs, metrics).unwrap();
    let report = importer
        .run(&RunOptions::default(), &mut |_| {})
        .await
        .unwrap();
    // As `memvox elevenlabs import` ends: what it staged (SQLite) moved and announced, marks written.
    gateway.unfinished().finish().await;
    report
}

#[tokio::test]
async fn embedded_imported_call_becomes_memories() {
    Box::pin(an_imported_call_becomes_memories(Deployment::Embedded)).await;
}

#[tokio::test]
async fn distributed_imported_call_becomes_memories() {
    Box::pin(an_imported_call_becomes_memories(Deployment::Distributed)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_imports_finds_duplicates_and_explains_a_refused_key() {
    let api = fake_api().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |url: String, args: &[&str]| {
        let mut command = memvox(dir.path());
        command
            .args(["elevenlabs", "import"])
            .args(args)
            .env("MEMVOX_ELEVENLABS__API_URL", url)
            .env("MEMVOX_ELEVENLABS__API_KEY", "sk_test_cli")
            .env_remove("ELEVENLABS_API_KEY");
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let first = run(api.uri(), &["--agent-id", AGENT]).await.unwrap();
    assert!(first.status.success(), "{}", support::stderr_of(&first));
    assert!(
        stdout_of(&first).contains("1 conversation(s): 1 imported, 0 duplicate"),
        "{}",
        stdout_of(&first)
    );
    let second = run(api.uri(), &["--agent-id", AGENT]).await.unwrap();
    assert!(
        stdout_of(&second).contains("1 conversation(s): 0 imported, 1 duplicate"),
        "{}",
        stdout_of(&second)
    );

    let refusing = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_raw(fixture("api_error_401.json"), "application/json"),
        )
        .mount(&refusing)
        .await;
    let refused = run(refusing.uri(), &["--restart"]).await.unwrap();
    assert_one_line_error(&refused, "refused the API key (401: invalid_api_key");
    let bad_time = run(api.uri(), &["--since", "last tuesday"]).await.unwrap();
    assert_one_line_error(&bad_time, "is not a time");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_polls_for_a_call_whose_webhook_never_came() {
    let api = fake_api_at(support::unix_now_secs() - 3_600).await;
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let token_hash = memvox_query::hash_token("agent-token");
    let child = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "MEMVOX_QUERY__TOOL_TOKEN_SHA256",
            format!("[\"{token_hash}\"]"),
        )
        .env("MEMVOX_ELEVENLABS__API_URL", api.uri())
        .env("MEMVOX_ELEVENLABS__API_KEY", "sk_test_poll")
        .env("MEMVOX_ELEVENLABS__POLL__ENABLED", "true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _running = support::Running(child);
    let base = format!("http://127.0.0.1:{port}");
    support::wait_until_ready(&base).await;
    let tool = serde_json::json!({
        "query": "when does she want a callback", "user_id": "", "limit": 3,
        "caller_id": NUMBER
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let client = reqwest::Client::new();
    loop {
        let answer: serde_json::Value = client
            .post(format!("{base}/tools/memory-query"))
            .bearer_auth("agent-token")
            .json(&tool)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if answer["memories"].as_array().is_some_and(|m| !m.is_empty()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the polled call never became memories: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let requested: Vec<String> = api
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(requested.contains(&format!("/v1/convai/conversations/{CALL}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_the_poll_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = memvox(dir.path());
    command
        .arg("serve")
        .env(
            "MEMVOX_HTTP__LISTEN",
            format!("127.0.0.1:{}", support::free_port()),
        )
        .env("MEMVOX_ELEVENLABS__POLL__ENABLED", "true")
        .env_remove("MEMVOX_ELEVENLABS__API_KEY")
        .env_remove("ELEVENLABS_API_KEY");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_one_line_error(&output, "elevenlabs.poll.enabled needs an API key");
}
