//! `memvox elevenlabs config`: the ElevenLabs API requests it prints are the ones the fixtures
//! pin, and the overrides it enables and the agent's Custom LLM follow the configuration.

use crate::support::{memvox, stderr_of};

#[test]
fn prints_the_api_requests_pinned_by_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .args([
            "elevenlabs",
            "config",
            "--base-url",
            "https://mem.example.org/",
            "--agent-id",
            "agent_1",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let requests = config["requests"].as_array().unwrap();
    let routes: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r["method"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        routes,
        [
            ("POST", "/v1/workspace/webhooks"),
            ("POST", "/v1/convai/tools"),
            ("PATCH", "/v1/convai/agents/agent_1")
        ]
    );
    let (webhook, tool, agent) = (
        &requests[0]["body"],
        &requests[1]["body"],
        &requests[2]["body"],
    );
    assert_eq!(
        webhook["settings"]["webhook_url"],
        "https://mem.example.org/webhook/post-call"
    );
    assert_eq!(webhook["settings"]["auth_type"], "hmac");
    assert_eq!(tool["tool_config"]["name"], "memory_query");
    assert_eq!(
        tool["tool_config"]["api_schema"]["url"],
        "https://mem.example.org/tools/memory-query"
    );
    let settings = &agent["platform_settings"];
    assert_eq!(
        settings["workspace_overrides"]["conversation_initiation_client_data_webhook"]["url"],
        "https://mem.example.org/webhook/conversation-init"
    );
    assert_eq!(
        settings["workspace_overrides"]["webhooks"]["transcript_format"],
        "json"
    );
    assert!(
        settings["overrides"]
            .get("conversation_config_override")
            .is_none(),
        "no override is enabled that memvox does not send"
    );
    let pinned = memvox(dir.path())
        .args([
            "elevenlabs",
            "config",
            "--base-url",
            "https://memvox.example.com",
            "--secret-id",
            "memvox_bearer_secret_id_placeholder",
            "--init-secret-id",
            "memvox_init_secret_id_placeholder",
            "--agent-id",
            "agent_4701kf3qz8mrx2v9tn6bq0c5wd",
            "--post-call-webhook-id",
            "wh_placeholder",
        ])
        .output()
        .unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&pinned.stdout).unwrap();
    for (index, fixture) in [
        "api_create_webhook_request.json",
        "api_create_tool_request.json",
        "api_update_agent_request.json",
    ]
    .into_iter()
    .enumerate()
    {
        let path = format!(
            "{}/../../fixtures/elevenlabs/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        );
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(printed["requests"][index]["body"], expected, "{fixture}");
    }
    let with_greeting = memvox(dir.path())
        .args(["elevenlabs", "config", "--agent-id", "agent_1"])
        .env("MEMVOX_QUERY__FIRST_MESSAGE_OVERRIDE", "true")
        .output()
        .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&with_greeting.stdout).unwrap();
    assert_eq!(
        config["requests"][2]["body"]["platform_settings"]["overrides"]["conversation_config_override"],
        serde_json::json!({"agent": {"first_message": true}})
    );
    let with_proxy = memvox(dir.path())
        .args([
            "elevenlabs",
            "config",
            "--base-url",
            "https://memvox.example.com",
            "--agent-id",
            "agent_4701kf3qz8mrx2v9tn6bq0c5wd",
            "--llm-secret-id",
            "memvox_llm_token_secret_id_placeholder",
        ])
        .env("MEMVOX_QUERY__LLM_PROXY__ENABLED", "true")
        .env(
            "MEMVOX_QUERY__LLM_PROXY__UPSTREAM_URL",
            "http://127.0.0.1:8000/v1",
        )
        .env("MEMVOX_QUERY__LLM_PROXY__MODELS__MEMVOX", "llama3")
        .output()
        .unwrap();
    assert!(with_proxy.status.success(), "{}", stderr_of(&with_proxy));
    let config: serde_json::Value = serde_json::from_slice(&with_proxy.stdout).unwrap();
    let path = format!(
        "{}/../../fixtures/elevenlabs/api_update_agent_custom_llm_request.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(config["requests"][3]["body"], expected);
}
