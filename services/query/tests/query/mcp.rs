//! `/mcp` as an MCP client sees it, on both store backends: the handshake, the tool list and
//! every tool through the query service's own paths (admin token), and the JSON-RPC errors of
//! malformed messages, unknown tools and bad arguments.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use memvox_testkit::Backend;
use serde_json::{Value, json};

use crate::support::{ADMIN_TOKEN, Harness, NOW, TestEmbedder};

/// The protocol version the tests negotiate.
const VERSION: &str = "2025-11-25";

/// A POST to `/mcp` with `token`, extra `headers` and the raw `body`; status and JSON body.
pub async fn post(
    h: &Harness,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut builder = Request::builder()
        .method("POST")
        .uri("/mcp")
        .header("host", "memvox.test")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", VERSION);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    h.send(builder.body(body.into()).unwrap()).await
}

/// A JSON-RPC request `method` with `params`.
pub async fn rpc(
    h: &Harness,
    token: &str,
    headers: &[(&str, &str)],
    method: &str,
    params: Value,
) -> Value {
    let message = json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params });
    let (status, body) = post(h, Some(token), headers, message.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 7, "{body}");
    body
}

/// Calls tool `name`; the JSON-RPC answer.
pub async fn call(
    h: &Harness,
    token: &str,
    headers: &[(&str, &str)],
    name: &str,
    arguments: Value,
) -> Value {
    let params = json!({ "name": name, "arguments": arguments });
    rpc(h, token, headers, "tools/call", params).await
}

/// The tool's structured result, which must not be an error.
pub fn ok(answer: &Value) -> &Value {
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    &answer["result"]["structuredContent"]
}

fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[
        ("dog", [1.0, 0.0, 0.0, 0.0]),
        ("Has a dog named Rex", [1.0, 0.0, 0.0, 0.0]),
    ])
}

/// The handshake, the tool list, then every tool with an admin token.
async fn an_admin_initializes_lists_and_calls_every_tool(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let init = json!({
        "protocolVersion": VERSION,
        "capabilities": {},
        "clientInfo": { "name": "test", "version": "1" }
    });
    let answer = rpc(&h, ADMIN_TOKEN, &[], "initialize", init).await;
    assert_eq!(answer["result"]["protocolVersion"], VERSION);
    assert_eq!(answer["result"]["serverInfo"]["name"], "memvox");
    assert!(answer["result"]["capabilities"]["tools"].is_object());
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (status, _) = post(&h, Some(ADMIN_TOKEN), &[], note.to_string()).await;
    assert_eq!(status, 202);

    let listed = rpc(&h, ADMIN_TOKEN, &[], "tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let expected = [
        "search_memories",
        "add_memory",
        "get_profile",
        "forget_memory",
        "list_recent_calls",
    ];
    assert_eq!(names, expected);
    for tool in tools {
        assert!(tool["description"].as_str().unwrap().len() > 40);
        assert!(
            tool["inputSchema"]["required"]
                .as_array()
                .unwrap()
                .contains(&json!("user_id"))
        );
    }

    let added = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "add_memory",
        json!({
            "user_id": "alice", "content": "Has a dog named Rex", "salience": 0.8
        }),
    )
    .await;
    let id = ok(&added)["id"].as_i64().unwrap();
    assert_eq!(ok(&added)["sector"], "semantic");

    let found = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "search_memories",
        json!({
            "user_id": "alice", "query": "dog"
        }),
    )
    .await;
    assert_eq!(ok(&found)["memories"][0]["id"], id, "{found}");
    assert_eq!(ok(&found)["memories"][0]["content"], "Has a dog named Rex");
    let text = found["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("Rex"),
        "the text content carries the answer too"
    );

    let profile = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "get_profile",
        json!({ "user_id": "alice" }),
    )
    .await;
    assert_eq!(ok(&profile)["profile"]["counts"]["total"], 1, "{profile}");
    assert_eq!(ok(&profile)["top_memories"][0]["id"], id);

    for (conversation, at) in [("conv_old", NOW - 86_400_000), ("conv_new", NOW - 60_000)] {
        h.store()
            .record_call(&crate::api::call_of("alice", conversation, at), NOW)
            .await
            .unwrap();
    }
    let calls = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "list_recent_calls",
        json!({
            "user_id": "alice", "limit": 1
        }),
    )
    .await;
    let listed = ok(&calls)["calls"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["conversation_id"], "conv_new", "newest first");
    assert_eq!(listed[0]["status"], "completed");

    let forgotten = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "forget_memory",
        json!({ "user_id": "alice", "memory_id": id }),
    )
    .await;
    assert_eq!(ok(&forgotten)["deleted"], id);
    assert!(h.store().get_memory("alice", id).await.unwrap().is_none());
    let again = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "forget_memory",
        json!({ "user_id": "alice", "memory_id": id }),
    )
    .await;
    assert_eq!(again["result"]["isError"], true, "{again}");
    let error = &again["result"]["structuredContent"]["error"];
    assert_eq!(error["code"], "not_found");
    assert_eq!(error["message"], format!("memory {id} not found"));

    let unknown = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "get_profile",
        json!({ "user_id": "nobody" }),
    )
    .await;
    assert_eq!(
        unknown["result"]["structuredContent"]["error"]["code"],
        "not_found"
    );
}

/// The JSON-RPC error `answer` carries: its code and message.
fn rpc_error(answer: &Value) -> (i64, &str) {
    let error = &answer["error"];
    (
        error["code"].as_i64().unwrap(),
        error["message"].as_str().unwrap(),
    )
}

/// Malformed messages, unknown methods and tools, and bad arguments are JSON-RPC errors.
async fn bad_messages_get_json_rpc_errors(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let admin = Some(ADMIN_TOKEN);
    let (status, answer) = post(&h, admin, &[], "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(rpc_error(&answer).0, -32700, "{answer}");
    assert!(rpc_error(&answer).1.starts_with("parse error"));
    let call_with =
        |params| json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params });
    for (body, expected, says) in [
        (
            json!([{ "jsonrpc": "2.0", "id": 1, "method": "ping" }]),
            -32600,
            "batches",
        ),
        (json!({ "id": 1, "method": "ping" }), -32600, "jsonrpc"),
        (
            json!({ "jsonrpc": "2.0", "id": 1, "method": 5 }),
            -32600,
            "method",
        ),
        (call_with(json!({})), -32602, "params.name"),
        (
            call_with(json!({ "name": "get_profile", "arguments": [1] })),
            -32602,
            "params.arguments",
        ),
    ] {
        let (status, answer) = post(&h, admin, &[], body.to_string()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let (code, message) = rpc_error(&answer);
        assert_eq!(code, expected, "{body}: {answer}");
        let id = if body.is_object() {
            json!(1)
        } else {
            Value::Null
        };
        assert_eq!(answer["id"], id, "{body}: the request's id");
        assert!(message.contains(says), "{body}: {message}");
    }
    let unknown = rpc(&h, ADMIN_TOKEN, &[], "memories/dump", json!({})).await;
    assert_eq!(rpc_error(&unknown).0, -32601, "{unknown}");

    let no_tool = call(&h, ADMIN_TOKEN, &[], "drop_database", json!({})).await;
    let (code, message) = rpc_error(&no_tool);
    assert_eq!(code, -32602);
    assert!(
        message.contains("unknown tool `drop_database`"),
        "{message}"
    );
    assert_eq!(no_tool["error"]["data"]["code"], "unknown_tool");

    let cases = [
        (
            "search_memories",
            json!({ "user_id": "u" }),
            "missing field `query`",
        ),
        (
            "search_memories",
            json!({ "user_id": "u", "query": "x", "colour": 1 }),
            "unknown field",
        ),
        (
            "forget_memory",
            json!({ "user_id": "u", "memory_id": "seven" }),
            "invalid type",
        ),
        (
            "add_memory",
            json!({ "user_id": "u", "content": "  " }),
            "content must not be empty",
        ),
        (
            "add_memory",
            json!({ "user_id": "u", "content": "x", "sector": "gossip" }),
            "gossip",
        ),
        (
            "add_memory",
            json!({ "content": "x" }),
            "user_id is required",
        ),
    ];
    for (tool, arguments, says) in cases {
        let answer = call(&h, ADMIN_TOKEN, &[], tool, arguments.clone()).await;
        let (code, message) = rpc_error(&answer);
        assert_eq!(code, -32602, "{tool} {arguments}: {answer}");
        assert!(message.contains(says), "{tool} {arguments}: {message}");
    }
    h.store().ensure_user("u", NOW).await.unwrap();
    let empty = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "search_memories",
        json!({ "user_id": "u", "query": "" }),
    )
    .await;
    assert_eq!(rpc_error(&empty), (-32602, "query must not be empty"));
}

memvox_testkit::both_backends!(
    an_admin_initializes_lists_and_calls_every_tool,
    bad_messages_get_json_rpc_errors,
);
