//! Who a call is with, end to end on both deployments (SQLite + in-process bus, PostgreSQL +
//! Redis Streams): the number of the other party decides, direction-aware, whatever user id
//! the call claims.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use memvox_runtime::App;
use memvox_store::{MemoryFilter, MemoryOrder};
use support::{Deployment, Pipeline, accept, call_payload};

/// Our agent's number (the fixture's `agent_number`).
const OURS: &str = "+14155550142";

/// The fixture call as an outbound call from our number to `callee`, saying `says`, and
/// claiming `claimed` as its user id (what an init webhook that took our number for the
/// caller would have handed every callee).
fn outbound(conversation_id: &str, callee: &str, says: &str, claimed: &str) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&call_payload(conversation_id, Some(says))).unwrap();
    let data = &mut value["data"];
    data["user_id"] = claimed.into();
    let phone = &mut data["metadata"]["phone_call"];
    phone["direction"] = "outbound".into();
    phone["agent_number"] = OURS.into();
    phone["external_number"] = callee.into();
    let variables = &mut data["conversation_initiation_client_data"]["dynamic_variables"];
    variables["memory_user_id"] = claimed.into();
    variables["system__caller_id"] = OURS.into();
    variables["system__called_number"] = callee.into();
    value.to_string()
}

async fn memories_of(app: &App, user_id: &str) -> Vec<String> {
    app.store
        .list_memories(user_id, &MemoryFilter::default(), MemoryOrder::Newest, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect()
}

async fn two_outbound_callees_stay_apart(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app(deployment, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    let shared = memvox_core::guest_user_id(OURS);
    let (alice, bob) = ("+14155550177", "+14155550188");
    let to_alice = outbound("conv_out_a", alice, "I live in Denver.", &shared);
    let to_bob = outbound("conv_out_b", bob, "I live in Boston.", &shared);
    accept(&app, "conv_out_a", to_alice).await;
    accept(&app, "conv_out_b", to_bob).await;
    pipeline.run().await;

    let user_of = |number: &'static str| {
        let store = app.store.clone();
        async move { store.user_for_caller(number).await.unwrap().unwrap() }
    };
    let (a, b) = (user_of(alice).await, user_of(bob).await);
    assert_ne!(a, b, "two callees, two users");
    assert!(a != shared && b != shared, "nobody is our number's user");
    assert_eq!(app.store.user_for_caller(OURS).await.unwrap(), None);
    assert!(app.store.get_user(&shared).await.unwrap().is_none());
    let (of_a, of_b) = (memories_of(&app, &a).await, memories_of(&app, &b).await);
    assert!(of_a.iter().any(|m| m.contains("Denver")), "{of_a:?}");
    assert!(of_a.iter().all(|m| !m.contains("Boston")), "{of_a:?}");
    assert!(of_b.iter().any(|m| m.contains("Boston")), "{of_b:?}");
    assert!(of_b.iter().all(|m| !m.contains("Denver")), "{of_b:?}");
    let call = app.store.get_call("conv_out_b").await.unwrap().unwrap();
    assert_eq!(call.conversation.user_id.as_deref(), Some(b.as_str()));
}

#[tokio::test]
async fn embedded_two_outbound_callees_stay_apart() {
    two_outbound_callees_stay_apart(Deployment::Embedded).await;
}

#[tokio::test]
async fn distributed_two_outbound_callees_stay_apart() {
    two_outbound_callees_stay_apart(Deployment::Distributed).await;
}
