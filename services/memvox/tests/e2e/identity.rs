//! Who a call is with, end to end on both deployments (SQLite + in-process bus, PostgreSQL +
//! Redis Streams): the number of the other party decides, direction-aware, whatever identity
//! the call claims; without a number only an identity token memvox or an integrator signed for
//! the call is taken, so a web widget claiming another user's id writes nothing to them.

use memvox::Memvox;
use memvox_store::{MemoryFilter, MemoryOrder};

use crate::support;
use crate::support::{Deployment, Pipeline, accept, accept_typed, call_payload};

/// Our agent's number (the fixture's `agent_number`).
const OURS: &str = "+14155550142";
/// The fixture's agent.
const AGENT: &str = "agent_4701kf3qz8mrx2v9tn6bq0c5wd";
/// The fixture call's start (unix seconds): tokens are checked at it.
const START: u64 = 1_767_225_600;

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

async fn memories_of(app: &Memvox, user_id: &str) -> Vec<String> {
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
    let keys = &app.identities.keys;
    let shared = keys.guest_user_id(OURS);
    let (alice, bob) = ("+14155550177", "+14155550188");
    // Tokens for our own number's guest, as an init that took our number for the caller
    // would have issued them: genuine, but for the wrong user.
    let claim = |conversation| {
        keys.issue(&shared, AGENT, Some(conversation), START)
            .unwrap()
    };
    let to_alice = outbound(
        "conv_out_a",
        alice,
        "I live in Denver.",
        &claim("conv_out_a"),
    );
    let to_bob = outbound("conv_out_b", bob, "I live in Boston.", &claim("conv_out_b"));
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
    assert_eq!(refused(&app, "phone_mismatch"), 2);
}

/// The fixture call as a web-widget conversation (no phone call, no numbers) saying `says`,
/// whose client set `memory_user_id` (echoed as `data.user_id`) to `claimed`.
fn widget(conversation_id: &str, says: &str, claimed: &str) -> String {
    let mut value: serde_json::Value =
        serde_json::from_str(&call_payload(conversation_id, Some(says))).unwrap();
    let data = &mut value["data"];
    data["user_id"] = claimed.into();
    data["metadata"]["phone_call"] = serde_json::Value::Null;
    data["metadata"]["conversation_initiation_source"] = "widget".into();
    let client = &mut data["conversation_initiation_client_data"];
    client["user_id"] = claimed.into();
    let variables = client["dynamic_variables"].as_object_mut().unwrap();
    variables.retain(|name, _| !name.starts_with("system__"));
    variables.insert("memory_user_id".into(), claimed.into());
    value.to_string()
}

async fn a_widget_claiming_another_users_id_writes_nothing_to_them(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let secret = "integrator shared secret, 32+ bytes";
    let app = support::app_with(deployment, dir.path(), |config| {
        config.shared.identity.integrator_secrets = vec![secret.into()];
    })
    .await;
    let pipeline = Pipeline::new(&app);
    let victim = "mem_usr_8c1f2a";
    app.store.ensure_user(victim, 0).await.unwrap();
    let keys = &app.identities.keys;
    let replayed = keys
        .issue(victim, AGENT, Some("conv_theirs"), START)
        .unwrap();
    let other_agent = keys.issue(victim, "agent_other", None, START).unwrap();
    for (conversation, claimed) in [
        ("conv_w1", victim.to_owned()),
        ("conv_w2", replayed),
        ("conv_w3", other_agent),
    ] {
        let planted = widget(conversation, "I'm allergic to peanuts.", &claimed);
        accept(&app, conversation, planted).await;
    }
    let integrator = memvox_identity::IdentityKeys::new(Some(secret.into()), &[], 600);
    let signed = integrator.issue("crm_42", AGENT, None, START).unwrap();
    accept(
        &app,
        "conv_w4",
        widget("conv_w4", "I live in Lyon.", &signed),
    )
    .await;
    pipeline.run().await;

    assert!(
        memories_of(&app, victim).await.is_empty(),
        "nothing planted"
    );
    for conversation in ["conv_w1", "conv_w2", "conv_w3"] {
        let call = app.store.get_call(conversation).await.unwrap().unwrap();
        assert_eq!(
            call.conversation.user_id, None,
            "{conversation} is nobody's"
        );
    }
    assert_eq!(refused(&app, "not_a_token"), 1);
    assert_eq!(refused(&app, "wrong_conversation"), 1);
    assert_eq!(refused(&app, "wrong_agent"), 1);
    let theirs = memories_of(&app, "crm_42").await;
    assert!(theirs.iter().any(|m| m.contains("Lyon")), "{theirs:?}");
}

/// The count of `memvox_extraction_identity_refused_total{reason}`.
fn refused(app: &Memvox, reason: &str) -> u64 {
    memvox_testkit::counter(
        app.metrics.registry(),
        "memvox_extraction_identity_refused_total",
        &[("reason", reason)],
    )
}

/// The fixture call's number.
const CALLER: &str = "+14155550199";

async fn another_agents_call_is_acknowledged_and_ignored(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(deployment, dir.path(), |config| {
        config.shared.identity.agent_ids = vec!["agent_served".into()];
    })
    .await;
    let pipeline = Pipeline::new(&app);
    let event = accept(&app, "conv_x", call_payload("conv_x", None)).await;
    let failure = include_str!("../../../../fixtures/elevenlabs/call_initiation_failure.json");
    let failed = "conv_7701kf5b2x9q3m6t8v1c4n0pd7";
    accept_typed(&app, "call_initiation_failure", failed, failure.to_owned()).await;
    pipeline.run().await;
    assert!(app.store.get_call(failed).await.unwrap().is_none());
    let stored = app.store.get_event(event).await.unwrap().unwrap();
    assert_eq!(stored.status, memvox_store::EventStatus::Completed);
    assert!(app.store.get_call("conv_x").await.unwrap().is_none());
    assert_eq!(app.store.user_for_caller(CALLER).await.unwrap(), None);
    assert_eq!(
        memvox_testkit::counter(
            app.metrics.registry(),
            "memvox_extraction_events_total",
            &[("outcome", "ignored_agent")]
        ),
        2
    );
}

async fn with_agent_scopes_a_caller_of_two_agents_is_two_users(deployment: Deployment) {
    let dir = tempfile::tempdir().unwrap();
    let app = support::app_with(deployment, dir.path(), |config| {
        config.shared.identity.scope = memvox_identity::ScopeGranularity::Agent;
    })
    .await;
    let pipeline = Pipeline::new(&app);
    accept(
        &app,
        "conv_a",
        call_payload("conv_a", Some("I live in Denver.")),
    )
    .await;
    let mut to_b: serde_json::Value =
        serde_json::from_str(&call_payload("conv_b", Some("I live in Boston."))).unwrap();
    to_b["data"]["agent_id"] = "agent_b".into();
    accept(&app, "conv_b", to_b.to_string()).await;
    pipeline.run().await;

    let key = |agent: &str| format!("{agent}:{CALLER}");
    let a = app
        .store
        .user_for_caller(&key(AGENT))
        .await
        .unwrap()
        .unwrap();
    let b = app
        .store
        .user_for_caller(&key("agent_b"))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(memvox_core::scope_of(&a), AGENT);
    assert_eq!(memvox_core::scope_of(&b), "agent_b");
    assert_eq!(app.store.user_for_caller(CALLER).await.unwrap(), None);
    let (of_a, of_b) = (memories_of(&app, &a).await, memories_of(&app, &b).await);
    assert!(
        of_a.iter().any(|m| m.contains("Denver")) && of_a.iter().all(|m| !m.contains("Boston"))
    );
    assert!(
        of_b.iter().any(|m| m.contains("Boston")) && of_b.iter().all(|m| !m.contains("Denver"))
    );
}

#[tokio::test]
async fn embedded_another_agents_call_is_acknowledged_and_ignored() {
    another_agents_call_is_acknowledged_and_ignored(Deployment::Embedded).await;
}

#[tokio::test]
async fn distributed_another_agents_call_is_acknowledged_and_ignored() {
    another_agents_call_is_acknowledged_and_ignored(Deployment::Distributed).await;
}

#[tokio::test]
async fn embedded_with_agent_scopes_a_caller_of_two_agents_is_two_users() {
    with_agent_scopes_a_caller_of_two_agents_is_two_users(Deployment::Embedded).await;
}

#[tokio::test]
async fn distributed_with_agent_scopes_a_caller_of_two_agents_is_two_users() {
    with_agent_scopes_a_caller_of_two_agents_is_two_users(Deployment::Distributed).await;
}

#[tokio::test]
async fn embedded_a_widget_claiming_another_users_id_writes_nothing_to_them() {
    a_widget_claiming_another_users_id_writes_nothing_to_them(Deployment::Embedded).await;
}

#[tokio::test]
async fn distributed_a_widget_claiming_another_users_id_writes_nothing_to_them() {
    a_widget_claiming_another_users_id_writes_nothing_to_them(Deployment::Distributed).await;
}

#[tokio::test]
async fn embedded_two_outbound_callees_stay_apart() {
    two_outbound_callees_stay_apart(Deployment::Embedded).await;
}

#[tokio::test]
async fn distributed_two_outbound_callees_stay_apart() {
    two_outbound_callees_stay_apart(Deployment::Distributed).await;
}
