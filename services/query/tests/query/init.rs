//! `POST /webhook/conversation-init` on both store backends: a new caller gets a guest id and
//! nothing is written, a returning caller is greeted with what memvox knows (by first-message
//! override only when configured), a body without `Content-Type` is read, a flood is limited,
//! and a failing store still yields a complete 200 answer.

use axum::body::Body;
use axum::http::Request;
use memvox_core::{NewMemory, Sector};
use memvox_identity::Expected;
use memvox_testkit::Backend;
use serde_json::{Value, json};

use crate::support;
use crate::support::{DAY, Harness, INIT_SECRET, NOW, TestEmbedder};

const CALLER: &str = "+14155550199";
const VARIABLES: [&str; 6] = [
    "memory_user_id",
    "user_name",
    "memory_summary",
    "memory_context",
    "recent_topics",
    "last_interaction",
];

fn init_request(secret: Option<&str>, body: &Value) -> Request<Body> {
    init_request_typed(secret, body, Some("application/json"))
}

fn init_request_typed(
    secret: Option<&str>,
    body: &Value,
    content_type: Option<&str>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method("POST")
        .uri("/webhook/conversation-init");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    if let Some(secret) = secret {
        builder = builder.header("x-memvox-secret", secret);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

fn body(caller: &str) -> Value {
    json!({
        "caller_id": caller,
        "called_number": "+14155550142",
        "agent_id": "agent_1",
        "call_sid": "CA1",
        "conversation_id": "conv_1"
    })
}

async fn init(h: &Harness, caller: &str) -> Value {
    let (status, answer) = h.send(init_request(Some(INIT_SECRET), &body(caller))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "conversation_initiation_client_data");
    for name in VARIABLES {
        assert!(
            answer["dynamic_variables"][name].is_string(),
            "{name} missing: {answer}"
        );
    }
    answer
}

/// The user the answer's identity token names, verified for the request's agent and
/// conversation; `memory_user_id` carries the same token.
fn subject(h: &Harness, answer: &Value) -> String {
    let token = answer["user_id"].as_str().unwrap();
    assert_eq!(answer["dynamic_variables"]["memory_user_id"], token);
    let expected = Expected {
        agent: Some("agent_1"),
        conversation: Some("conv_1"),
        at_secs: u64::try_from(NOW / 1000).unwrap(),
    };
    let verified = h.state.identities.keys.verify(token, &expected).unwrap();
    assert!(
        h.state
            .identities
            .keys
            .verify(
                token,
                &Expected {
                    agent: Some("agent_2"),
                    ..expected
                }
            )
            .is_err(),
        "bound to the agent"
    );
    verified.claims.sub
}

async fn a_new_caller_gets_a_guest_id_and_nothing_is_written(backend: Backend) {
    let h = Harness::new(backend, TestEmbedder::default()).await;
    let before = h.table_counts().await;
    let answer = init(&h, CALLER).await;
    let guest = h.state.identities.keys.guest_user_id(CALLER);
    assert!(guest.starts_with("guest_"));
    assert_ne!(guest, memvox_core::guest_user_id(CALLER), "a keyed hash");
    assert_eq!(subject(&h, &answer), guest);
    assert!(
        !answer["user_id"].as_str().unwrap().contains(&guest),
        "opaque"
    );
    assert_eq!(answer["dynamic_variables"]["user_name"], "");
    assert!(answer.get("conversation_config_override").is_none());
    assert_eq!(subject(&h, &init(&h, CALLER).await), guest);
    for n in 0..20 {
        init(&h, &format!("+1415555{n:04}")).await;
    }
    assert_eq!(
        h.table_counts().await,
        before,
        "probing numbers writes nothing"
    );
}

async fn returning_dana(backend: Backend, settings: memvox_query::QuerySettings) -> Harness {
    let h = Harness::with_settings(backend, TestEmbedder::default(), settings).await;
    let s = h.store();
    s.ensure_user("dana", NOW - 30 * DAY).await.unwrap();
    s.bind_caller(CALLER, "dana", NOW - 30 * DAY).await.unwrap();
    s.update_user_profile("dana", Some("Dana"), Some("Prefers short answers."))
        .await
        .unwrap();
    s.touch_user("dana", 1_765_815_600_000).await.unwrap();
    for (content, salience, at) in [
        ("Moved prescriptions to Elm Street", 0.9, NOW - 20 * DAY),
        ("Allergic to penicillin", 0.8, NOW - 25 * DAY),
        ("Asked about refill pickup times", 0.3, NOW - DAY),
    ] {
        let memory = NewMemory {
            user_id: "dana".into(),
            content: content.into(),
            sector: Sector::Semantic,
            salience,
            provenance: None,
        };
        s.insert_memory(&memory, at).await.unwrap();
    }
    h
}

async fn a_returning_caller_is_greeted_with_their_memories(backend: Backend) {
    let h = returning_dana(backend, support::settings()).await;
    let answer = init(&h, CALLER).await;
    let variables = &answer["dynamic_variables"];
    assert_eq!(subject(&h, &answer), "dana");
    assert_eq!(variables["user_name"], "Dana");
    assert_eq!(variables["memory_summary"], "Prefers short answers.");
    assert_eq!(
        variables["memory_context"],
        "Moved prescriptions to Elm Street. Allergic to penicillin. Asked about refill pickup times."
    );
    assert_eq!(
        variables["recent_topics"],
        "Asked about refill pickup times. Moved prescriptions to Elm Street."
    );
    assert_eq!(variables["last_interaction"], "2025-12-15T16:20:00Z");
    assert!(
        answer.get("conversation_config_override").is_none(),
        "no override unless configured: {answer}"
    );
}

async fn the_first_message_override_is_sent_only_when_configured(backend: Backend) {
    let settings = memvox_query::QuerySettings {
        first_message_override: true,
        ..support::settings()
    };
    let h = returning_dana(backend, settings).await;
    let answer = init(&h, CALLER).await;
    assert_eq!(
        answer["conversation_config_override"],
        json!({"agent": {"first_message": "Hi Dana, welcome back! How can I help you today?"}})
    );
    let stranger = init(&h, "+14155550100").await;
    assert!(stranger.get("conversation_config_override").is_none());
}

async fn a_body_without_content_type_is_answered(backend: Backend) {
    let h = returning_dana(backend, support::settings()).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let request = init_request_typed(Some(INIT_SECRET), &body(CALLER), content_type);
        let (status, answer) = h.send(request).await;
        assert_eq!(status, 200, "{content_type:?}: {answer}");
        assert_eq!(answer["dynamic_variables"]["user_name"], "Dana");
    }
}

async fn an_init_flood_is_limited(backend: Backend) {
    let per_number = memvox_query::QuerySettings {
        init_rate_per_number_per_minute: 2,
        init_rate_global_per_second: 0,
        ..support::settings()
    };
    let h = returning_dana(backend, per_number).await;
    for _ in 0..2 {
        assert_eq!(
            init(&h, CALLER).await["dynamic_variables"]["user_name"],
            "Dana"
        );
    }
    let over = init(&h, CALLER).await;
    assert_eq!(over["dynamic_variables"]["user_name"], "", "{over}");
    assert!(over.get("user_id").is_none());
    assert_eq!(limited(&h, "number"), 1);
    assert!(init(&h, "+14155550100").await["user_id"].is_string());

    let global = memvox_query::QuerySettings {
        init_rate_per_number_per_minute: 0,
        init_rate_global_per_second: 2,
        ..support::settings()
    };
    let h = Harness::with_settings(backend, TestEmbedder::default(), global).await;
    for n in 0..12 {
        init(&h, &format!("+1415555{n:04}")).await;
    }
    // Two a second are admitted: however slow the machine, most of the burst was limited.
    assert!(limited(&h, "global") >= 6, "{}", limited(&h, "global"));
    assert_eq!(limited(&h, "number"), 0);
}

fn limited(h: &Harness, limit: &str) -> u64 {
    h.state
        .metrics
        .init_limited
        .with_label_values(&[limit])
        .get()
}

async fn a_failing_store_still_yields_a_complete_answer(backend: Backend) {
    let h = Harness::new(backend, TestEmbedder::default()).await;
    h.break_store().await;
    let answer = init(&h, CALLER).await;
    for name in VARIABLES {
        assert_eq!(answer["dynamic_variables"][name], "", "{name}");
    }
    assert!(answer.get("user_id").is_none());
}

/// PostgreSQL only: a table lock held by another transaction blocks the lookup for as long as
/// the test wants, so the deadline passes without any timing assumption.
#[tokio::test]
async fn a_lookup_past_its_deadline_yields_a_complete_answer() {
    let settings = memvox_query::QuerySettings {
        init_deadline_ms: 50,
        ..support::settings()
    };
    let h = Harness::with_settings(Backend::Postgres, TestEmbedder::default(), settings).await;
    let pool = h.db.postgres_pool().expect("a PostgreSQL harness");
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE caller_identities IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let answer = init(&h, CALLER).await;
    lock.rollback().await.unwrap();
    assert_eq!(answer["dynamic_variables"]["memory_user_id"], "");
    assert!(answer.get("conversation_config_override").is_none());
}

async fn the_secret_is_required(backend: Backend) {
    let h = Harness::new(backend, TestEmbedder::default()).await;
    for secret in [None, Some("wrong")] {
        let (status, answer) = h.send(init_request(secret, &body(CALLER))).await;
        assert_eq!(status, 401);
        assert_eq!(answer["error"]["code"], "unauthorized");
    }
    assert_eq!(h.store().user_for_caller(CALLER).await.unwrap(), None);
    let anonymous = init(&h, "").await;
    assert_eq!(anonymous["dynamic_variables"]["memory_user_id"], "");
}

async fn a_recent_fact_displaces_an_old_one_of_about_the_same_salience(backend: Backend) {
    let h = returning_dana(backend, support::settings()).await;
    let s = h.store();
    for i in 0..4 {
        let old = NewMemory {
            user_id: "dana".into(),
            content: format!("Old habit number {i}"),
            sector: Sector::Semantic,
            salience: 0.35,
            provenance: None,
        };
        s.insert_memory(&old, NOW - 700 * DAY).await.unwrap();
    }
    let answer = init(&h, CALLER).await;
    let context = answer["dynamic_variables"]["memory_context"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        context.contains("Asked about refill pickup times"),
        "salience 0.3 said yesterday outranks 0.35 said two years ago: {context}"
    );
    assert_eq!(context.matches("Old habit").count(), 2, "{context}");
}

async fn a_warm_caller_is_answered_from_their_index_as_from_the_store(backend: Backend) {
    let h = returning_dana(backend, support::settings()).await;
    let s = h.store();
    for i in 0..120 {
        let filler = NewMemory {
            user_id: "dana".into(),
            content: format!("Routine note number {i}"),
            sector: Sector::Procedural,
            salience: 0.1,
            provenance: None,
        };
        s.insert_memory(&filler, NOW - 400 * DAY).await.unwrap();
    }
    let cold = init(&h, CALLER).await;
    let mut waited = 0;
    while s.warm_view("dana").await.unwrap().is_none() {
        assert!(
            waited < 200,
            "init loads the caller's index ahead of the call"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    let warm = init(&h, CALLER).await;
    let context = |answer: &Value| answer["dynamic_variables"]["memory_context"].clone();
    assert_eq!(context(&warm), context(&cold));
    assert_eq!(
        context(&warm),
        "Moved prescriptions to Elm Street. Allergic to penicillin. Asked about refill pickup times. Routine note number 103. Routine note number 104."
    );
}

memvox_testkit::both_backends!(
    a_warm_caller_is_answered_from_their_index_as_from_the_store,
    a_new_caller_gets_a_guest_id_and_nothing_is_written,
    a_returning_caller_is_greeted_with_their_memories,
    a_recent_fact_displaces_an_old_one_of_about_the_same_salience,
    the_first_message_override_is_sent_only_when_configured,
    a_body_without_content_type_is_answered,
    an_init_flood_is_limited,
    a_failing_store_still_yields_a_complete_answer,
    the_secret_is_required,
);
