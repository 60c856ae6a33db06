//! Who `/mcp` lets in and whose memories each request reaches, on both store backends: no or
//! a wrong token is 401, a token over its rate 429, an oversized body 413; a tool token reaches
//! only the caller its identity headers resolve to (a bound number, or a memvox identity token
//! for this agent and conversation), never one a tool argument names. Every tool call is
//! logged with the user it reached, never for a user erased since, and counted by tool and
//! outcome.

use axum::http::StatusCode;
use memvox_core::Sector;
use memvox_query::QuerySettings;
use memvox_testkit::Backend;
use serde_json::{Value, json};

use crate::mcp::{call, ok, post, rpc};
use crate::support::{
    self, ADMIN_TOKEN, AGENT, Harness, NOW, TOKEN, TestEmbedder, add_memory, log_column, logged,
};

const ALICE: &str = "+14155550177";
const BOB: &str = "+14155550188";

/// Alice (bound to `ALICE`) has a dog; Bob (bound to `BOB`) has a cat. Returns Bob's memory id.
async fn seed(h: &Harness) -> i64 {
    let s = h.store();
    add_memory(
        s,
        "alice",
        "Has a dog named Rex",
        Sector::Semantic,
        0.8,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    let cat = add_memory(
        s,
        "bob",
        "Has a cat named Tom",
        Sector::Semantic,
        0.8,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    s.bind_caller(ALICE, "alice", NOW).await.unwrap();
    s.bind_caller(BOB, "bob", NOW).await.unwrap();
    cat
}

fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[("pet", [1.0, 0.0, 0.0, 0.0])])
}

/// The contents a search for pets answers with `headers` and the tool token.
async fn pets(h: &Harness, headers: &[(&str, &str)]) -> Vec<String> {
    let answer = call(
        h,
        TOKEN,
        headers,
        "search_memories",
        json!({ "query": "pet", "limit": 5 }),
    )
    .await;
    ok(&answer)["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_tool_token_reaches_only_its_caller(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let bobs = seed(&h).await;
    let alice = [("x-memvox-caller-id", ALICE)];
    assert_eq!(pets(&h, &alice).await, ["Has a dog named Rex"]);

    let listed = rpc(&h, TOKEN, &alice, "tools/list", json!({})).await;
    for tool in listed["result"]["tools"].as_array().unwrap() {
        assert!(
            tool["inputSchema"]["properties"].get("user_id").is_none(),
            "{tool}"
        );
    }
    let naming = call(
        &h,
        TOKEN,
        &alice,
        "search_memories",
        json!({ "query": "pet", "user_id": "bob" }),
    )
    .await;
    assert_eq!(naming["error"]["code"], -32602, "{naming}");
    assert!(
        naming["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("user_id is for admin tokens")
    );

    let forget = call(
        &h,
        TOKEN,
        &alice,
        "forget_memory",
        json!({ "memory_id": bobs }),
    )
    .await;
    assert_eq!(
        forget["result"]["structuredContent"]["error"]["code"], "not_found",
        "{forget}"
    );
    assert!(
        h.store().get_memory("bob", bobs).await.unwrap().is_some(),
        "Bob's memory stays"
    );

    let added = call(
        &h,
        TOKEN,
        &alice,
        "add_memory",
        json!({ "content": "Likes long walks" }),
    )
    .await;
    assert_eq!(ok(&added)["user_id"], "alice");
    let profile = call(&h, TOKEN, &alice, "get_profile", json!({})).await;
    assert_eq!(ok(&profile)["profile"]["user_id"], "alice");
    assert_eq!(ok(&profile)["profile"]["counts"]["total"], 2);
    let calls = call(&h, TOKEN, &alice, "list_recent_calls", json!({})).await;
    assert_eq!(ok(&calls)["calls"], json!([]));

    // An identity token memvox issued for Bob's call names Bob, for that agent only.
    let token = h.token("bob");
    let as_bob = [
        ("x-memvox-user-id", token.as_str()),
        ("x-memvox-agent-id", AGENT),
    ];
    assert_eq!(pets(&h, &as_bob).await, ["Has a cat named Tom"]);
    let other_agent = [
        ("x-memvox-user-id", token.as_str()),
        ("x-memvox-agent-id", "agent_2"),
    ];
    assert!(pets(&h, &other_agent).await.is_empty());
    // A raw id reaches nobody, as in the memory-query tool.
    assert!(pets(&h, &[("x-memvox-user-id", "bob")]).await.is_empty());
    assert!(pets(&h, &[]).await.is_empty());
    let nobody = call(
        &h,
        TOKEN,
        &[("x-memvox-user-id", "bob")],
        "get_profile",
        json!({}),
    )
    .await;
    assert_eq!(nobody["result"]["isError"], true);
    assert_eq!(
        nobody["result"]["structuredContent"]["error"]["code"],
        "no_caller"
    );
    let write = call(
        &h,
        TOKEN,
        &[],
        "add_memory",
        json!({ "content": "Owns a boat" }),
    )
    .await;
    assert_eq!(
        write["result"]["structuredContent"]["error"]["code"],
        "no_caller"
    );
}

/// The API's error body of an HTTP refusal: status and code.
fn refusal((status, body): (StatusCode, Value)) -> (u16, String) {
    (
        status.as_u16(),
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn credentials_rates_and_sizes_are_checked_before_the_protocol(backend: Backend) {
    let settings = QuerySettings {
        rate_limit_per_second: 1,
        rate_limit_burst: 2,
        max_body_bytes: 1_024,
        ..support::settings()
    };
    let h = Harness::with_settings(backend, embedder(), settings).await;
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }).to_string();
    let unauthorized = (401, "unauthorized".to_owned());
    assert_eq!(
        refusal(post(&h, None, &[], ping.clone()).await),
        unauthorized
    );
    assert_eq!(
        refusal(post(&h, Some("wrong"), &[], ping.clone()).await),
        unauthorized
    );
    let too_big = "x".repeat(2_000);
    assert_eq!(
        refusal(post(&h, Some(ADMIN_TOKEN), &[], too_big).await),
        (413, "payload_too_large".to_owned())
    );
    let (status, _) = post(&h, Some(ADMIN_TOKEN), &[], ping.clone()).await;
    assert_eq!(status, 200);
    let limited = post(&h, Some(ADMIN_TOKEN), &[], ping.clone()).await;
    assert_eq!(refusal(limited), (429, "rate_limited".to_owned()));
    // Each token has its own bucket, as on the API.
    let (status, answer) = post(&h, Some(TOKEN), &[], ping).await;
    assert_eq!((status.as_u16(), &answer["result"]), (200, &json!({})));
    let get = axum::http::Request::builder()
        .method("GET")
        .uri("/mcp")
        .header("host", "memvox.test")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(
        refusal(h.send(get).await),
        (405, "method_not_allowed".to_owned())
    );
}

/// `/mcp` is routed publicly while the admin API is not: it refuses the admin token unless
/// `query.mcp_admin` is on, and still serves callers' tool tokens.
async fn the_admin_token_needs_mcp_admin(backend: Backend) {
    let settings = QuerySettings {
        mcp_admin: false,
        ..support::settings()
    };
    let h = Harness::with_settings(backend, embedder(), settings).await;
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }).to_string();
    assert_eq!(
        refusal(post(&h, Some(ADMIN_TOKEN), &[], ping.clone()).await),
        (403, "forbidden".to_owned())
    );
    let (status, answer) = post(&h, Some(TOKEN), &[], ping).await;
    assert_eq!((status.as_u16(), &answer["result"]), (200, &json!({})));
}

async fn calls_are_logged_unless_their_user_was_erased(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let bobs = seed(&h).await;
    let alice = [
        ("x-memvox-caller-id", ALICE),
        ("x-memvox-conversation-id", "conv_mcp"),
    ];
    assert_eq!(pets(&h, &alice).await, ["Has a dog named Rex"]);
    let forget = call(
        &h,
        TOKEN,
        &alice,
        "forget_memory",
        json!({ "memory_id": bobs }),
    )
    .await;
    assert_eq!(forget["result"]["isError"], true, "{forget}");
    logged(&h, 2).await;
    assert_eq!(
        log_column(&h, "tool_name").await,
        ["mcp:forget_memory", "mcp:search_memories"]
    );
    assert_eq!(log_column(&h, "user_id").await, ["alice", "alice"]);
    assert_eq!(
        log_column(&h, "conversation_id").await,
        ["conv_mcp", "conv_mcp"]
    );
    let outcomes = "SELECT COUNT(*) FROM tool_invocations WHERE success \
                    UNION ALL SELECT COUNT(*) FROM tool_invocations WHERE error_message IS NOT NULL";
    assert_eq!(h.db.integers(outcomes).await, [1, 1]);

    // Bob is erased: an admin's call about him at the same instant is not logged, a later
    // call about Alice is.
    h.store().erase_user("bob", NOW).await.unwrap();
    let profile = call(
        &h,
        ADMIN_TOKEN,
        &[],
        "get_profile",
        json!({ "user_id": "bob" }),
    )
    .await;
    assert_eq!(profile["result"]["isError"], true, "{profile}");
    assert_eq!(pets(&h, &alice).await, ["Has a dog named Rex"]);
    logged(&h, 3).await;
    assert_eq!(log_column(&h, "user_id").await, ["alice", "alice", "alice"]);

    let unknown = call(&h, TOKEN, &alice, "recall_everything", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    logged(&h, 4).await;
    let counted = |tool: &str, outcome: &str| {
        let calls = &h.state.metrics.mcp_calls;
        calls.with_label_values(&[tool, outcome]).get()
    };
    assert_eq!(counted("search_memories", "ok"), 2);
    assert_eq!(counted("forget_memory", "tool_error"), 1);
    assert_eq!(counted("get_profile", "tool_error"), 1);
    assert_eq!(counted("unknown", "invalid"), 1);
}

memvox_testkit::both_backends!(
    a_tool_token_reaches_only_its_caller,
    credentials_rates_and_sizes_are_checked_before_the_protocol,
    the_admin_token_needs_mcp_admin,
    calls_are_logged_unless_their_user_was_erased,
);
