//! Scopes and the agent allowlist on both store backends: with a scope per agent, a caller's
//! number, guest id and tokens on one agent reach nothing on another; an agent outside
//! `identity.agent_ids` gets nothing from conversation-init or the tool.

use axum::body::Body;
use axum::http::Request;
use memvox_core::{NewMemory, Sector};
use memvox_identity::{IdentitySettings, ScopeGranularity};
use memvox_testkit::Backend;
use serde_json::{Value, json};

use crate::support;
use crate::support::{Harness, INIT_SECRET, NOW, TestEmbedder};

const ALICE: &str = "+14155550177";

/// A harness with `settings` (signing with the test key) where Alice called agent_a and
/// remembers Denver there.
async fn harness(backend: Backend, settings: IdentitySettings) -> Harness {
    let embedder = TestEmbedder::new(&[("denver", [1.0, 0.0, 0.0, 0.0])]);
    let mut h = Harness::new(backend, embedder).await;
    h.state = h.state.with_identities(support::identities(settings));
    let s = h.store();
    let alice = "agent_a:alice";
    s.ensure_user(alice, NOW).await.unwrap();
    s.bind_caller(&format!("agent_a:{ALICE}"), alice, NOW)
        .await
        .unwrap();
    let memory = NewMemory {
        user_id: alice.into(),
        content: "Lives in Denver".into(),
        sector: Sector::Semantic,
        salience: 0.9,
        provenance: None,
    };
    let id = s.insert_memory(&memory, NOW).await.unwrap().id;
    s.store_embeddings(&[(id, vec![1.0, 0.0, 0.0, 0.0])], NOW)
        .await
        .unwrap();
    h
}

fn per_agent() -> IdentitySettings {
    IdentitySettings {
        scope: ScopeGranularity::Agent,
        ..IdentitySettings::default()
    }
}

async fn init(h: &Harness, agent_id: &str) -> Value {
    let body = json!({
        "caller_id": ALICE, "called_number": "+14155550142", "agent_id": agent_id,
        "call_sid": "CA1", "conversation_id": "conv_1"
    });
    let request = Request::builder()
        .method("POST")
        .uri("/webhook/conversation-init")
        .header("x-memvox-secret", INIT_SECRET)
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, answer) = h.send(request).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn tool(h: &Harness, user_id: &str, caller_id: &str, agent_id: &str) -> Vec<String> {
    let body = json!({
        "query": "denver", "user_id": user_id, "caller_id": caller_id,
        "agent_id": agent_id, "conversation_id": "conv_1"
    });
    h.tool_contents(body).await
}

async fn an_id_from_another_agents_scope_gets_nothing(backend: Backend) {
    let h = harness(backend, per_agent()).await;
    let on_a = init(&h, "agent_a").await;
    assert_eq!(
        on_a["dynamic_variables"]["memory_context"],
        "Lives in Denver."
    );
    let token_a = on_a["user_id"].as_str().unwrap().to_owned();
    assert_eq!(tool(&h, &token_a, "", "agent_a").await, ["Lives in Denver"]);
    assert_eq!(tool(&h, "", ALICE, "agent_a").await, ["Lives in Denver"]);
    // The same caller on agent_b is someone else there.
    let on_b = init(&h, "agent_b").await;
    assert_eq!(on_b["dynamic_variables"]["memory_context"], "");
    assert_ne!(on_b["user_id"], on_a["user_id"]);
    assert!(tool(&h, "", ALICE, "agent_b").await.is_empty());
    assert!(tool(&h, &token_a, "", "agent_b").await.is_empty());
    // A scoped user id typed raw is no identity either.
    assert!(tool(&h, "agent_a:alice", "", "agent_b").await.is_empty());
}

async fn agents_outside_the_allowlist_get_nothing(backend: Backend) {
    let settings = IdentitySettings {
        agent_ids: vec!["agent_a".into()],
        ..per_agent()
    };
    let h = harness(backend, settings).await;
    assert_eq!(tool(&h, "", ALICE, "agent_a").await, ["Lives in Denver"]);
    let other = init(&h, "agent_b").await;
    assert!(other.get("user_id").is_none(), "{other}");
    assert!(tool(&h, "", ALICE, "agent_b").await.is_empty());
    assert!(
        tool(&h, "", ALICE, "").await.is_empty(),
        "an unnamed agent is not listed"
    );
    let ignored = |route: &str| {
        h.state
            .metrics
            .agent_ignored
            .with_label_values(&[route])
            .get()
    };
    assert_eq!((ignored("init"), ignored("tool")), (1, 2));
}

memvox_testkit::both_backends!(
    an_id_from_another_agents_scope_gets_nothing,
    agents_outside_the_allowlist_get_nothing,
);
