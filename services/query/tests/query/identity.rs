//! Whose memories a call reaches, on both store backends: an outbound call is keyed on the
//! number dialled at init and in the tool, never on our own number; the tool reads a user only
//! for an identity token memvox (or an integrator) signed for this agent and conversation, so
//! a raw or replayed id from a web widget reads nothing.

use axum::body::Body;
use axum::http::Request;
use memvox_core::{NewMemory, Sector};
use memvox_identity::{IdentityKeys, IdentitySettings};
use memvox_testkit::Backend;
use serde_json::{Value, json};

use crate::support;
use crate::support::{AGENT, Harness, INIT_SECRET, NOW, TestEmbedder};

/// Our agent's number.
const OURS: &str = "+14155550142";
const ALICE: &str = "+14155550177";
const BOB: &str = "+14155550188";

/// A harness knowing `OURS` as our number, with Alice (bound to `ALICE`) remembering Denver.
async fn harness(backend: Backend) -> Harness {
    let embedder = TestEmbedder::new(&[("denver", [1.0, 0.0, 0.0, 0.0])]);
    let mut h = Harness::new(backend, embedder).await;
    h.state = h
        .state
        .with_identities(support::identities(IdentitySettings {
            own_numbers: vec![OURS.into()],
            ..IdentitySettings::default()
        }));
    let s = h.store();
    s.ensure_user("alice", NOW).await.unwrap();
    s.bind_caller(ALICE, "alice", NOW).await.unwrap();
    let memory = NewMemory {
        user_id: "alice".into(),
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

async fn init(h: &Harness, caller_id: &str, called_number: &str) -> Value {
    let body = json!({
        "caller_id": caller_id,
        "called_number": called_number,
        "agent_id": "agent_1",
        "call_sid": "CA1",
        "conversation_id": "conv_1"
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

async fn tool(h: &Harness, caller_id: &str, called_number: &str) -> Vec<String> {
    let body = json!({
        "query": "denver",
        "user_id": "",
        "caller_id": caller_id,
        "called_number": called_number,
        "conversation_id": "conv_1"
    });
    h.tool_contents(body).await
}

/// A widget conversation's tool call: no phone numbers, only the `memory_user_id` the client
/// set.
async fn widget_tool(
    h: &Harness,
    user_id: &str,
    agent_id: &str,
    conversation: &str,
) -> Vec<String> {
    let body = json!({
        "query": "denver",
        "user_id": user_id,
        "caller_id": "",
        "agent_id": agent_id,
        "conversation_id": conversation
    });
    h.tool_contents(body).await
}

async fn outbound_calls_key_on_the_dialled_number(backend: Backend) {
    let h = harness(backend).await;
    let to_alice = init(&h, OURS, ALICE).await;
    assert_eq!(
        to_alice["dynamic_variables"]["memory_context"],
        "Lives in Denver."
    );
    let to_bob = init(&h, OURS, BOB).await;
    assert_eq!(to_bob["dynamic_variables"]["memory_context"], "");
    assert_ne!(to_bob["user_id"], to_alice["user_id"]);
    assert_eq!(tool(&h, OURS, ALICE).await, ["Lives in Denver"]);
    assert!(tool(&h, OURS, BOB).await.is_empty());
    // Inbound, Alice calling us, is Alice too.
    assert_eq!(tool(&h, ALICE, OURS).await, ["Lives in Denver"]);
}

async fn without_our_numbers_an_outbound_call_reaches_nobody(backend: Backend) {
    let mut h = harness(backend).await;
    h.state = h
        .state
        .with_identities(support::identities(IdentitySettings::default()));
    let answer = init(&h, OURS, ALICE).await;
    assert_eq!(answer["dynamic_variables"]["memory_context"], "");
    assert!(tool(&h, OURS, ALICE).await.is_empty());
}

fn refused(h: &Harness, reason: &str) -> u64 {
    h.state
        .metrics
        .identity_refused
        .with_label_values(&[reason])
        .get()
}

async fn a_widget_carrying_another_users_id_reads_nothing(backend: Backend) {
    let h = harness(backend).await;
    let now_secs = u64::try_from(NOW / 1000).unwrap();
    let keys = &h.state.identities.keys;
    // Init's token for Alice's call conv_1 reads her memories in that call.
    let hers = keys
        .issue("alice", AGENT, Some("conv_1"), now_secs)
        .unwrap();
    assert_eq!(
        widget_tool(&h, &hers, AGENT, "conv_1").await,
        ["Lives in Denver"]
    );
    // A visitor typing her id, replaying her token in another conversation or on another
    // agent, or forging one, reads nothing.
    assert!(widget_tool(&h, "alice", AGENT, "conv_w").await.is_empty());
    assert_eq!(refused(&h, "not_a_token"), 1);
    assert!(widget_tool(&h, &hers, AGENT, "conv_w").await.is_empty());
    assert_eq!(refused(&h, "wrong_conversation"), 1);
    assert!(widget_tool(&h, &hers, "agent_2", "conv_1").await.is_empty());
    assert_eq!(refused(&h, "wrong_agent"), 1);
    let forger = IdentityKeys::new(Some(b"a key that is not memvox's key!!".to_vec()), &[], 600);
    let forged = forger.issue("alice", AGENT, None, now_secs).unwrap();
    assert!(widget_tool(&h, &forged, AGENT, "conv_w").await.is_empty());
    assert_eq!(refused(&h, "bad_signature"), 1);
    let stale = keys
        .issue("alice", AGENT, None, now_secs - 7 * 3600)
        .unwrap();
    assert!(widget_tool(&h, &stale, AGENT, "conv_w").await.is_empty());
    assert_eq!(refused(&h, "expired"), 1);
}

async fn an_integrator_signed_id_is_accepted(backend: Backend) {
    let mut h = harness(backend).await;
    let secret = "integrator shared secret, 32+ bytes";
    h.state = h
        .state
        .with_identities(support::identities(IdentitySettings {
            integrator_secrets: vec![secret.into()],
            ..IdentitySettings::default()
        }));
    let now_secs = u64::try_from(NOW / 1000).unwrap();
    let integrator = IdentityKeys::new(Some(secret.as_bytes().to_vec()), &[], 600);
    let signed = integrator.issue("alice", AGENT, None, now_secs).unwrap();
    assert_eq!(
        widget_tool(&h, &signed, AGENT, "conv_w").await,
        ["Lives in Denver"]
    );
}

memvox_testkit::both_backends!(
    outbound_calls_key_on_the_dialled_number,
    without_our_numbers_an_outbound_call_reaches_nobody,
    a_widget_carrying_another_users_id_reads_nothing,
    an_integrator_signed_id_is_accepted,
);
