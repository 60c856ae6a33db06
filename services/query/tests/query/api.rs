//! The `/v1` REST API on both store backends: manual add, read, edit, list filters, search,
//! delete, user profile, export, erasure down to zero rows (`/openapi.json` is in `openapi.rs`).

use memvox_bus::{EVENTS, Envelope, Message};
use memvox_testkit::Backend;
use serde_json::json;

use crate::support;
use crate::support::{Harness, NOW, TestEmbedder, request};

fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[
        ("Likes green tea", [1.0, 0.0, 0.0, 0.0]),
        ("Likes black coffee", [0.0, 1.0, 0.0, 0.0]),
        ("Lives in Lyon", [0.0, 0.0, 1.0, 0.0]),
        ("tea", [1.0, 0.0, 0.0, 0.0]),
        ("coffee", [0.0, 1.0, 0.0, 0.0]),
    ])
}

async fn add(h: &Harness, content: &str, sector: &str) -> i64 {
    let body = json!({"content": content, "sector": sector, "salience": 0.7});
    let (status, memory) = h.call("POST", "/v1/users/u1/memories", Some(body)).await;
    assert_eq!(status, 201, "{memory}");
    assert_eq!(memory["content"], content);
    memory["id"].as_i64().unwrap()
}

async fn memories_can_be_added_edited_listed_searched_and_deleted(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let tea = add(&h, "Likes green tea", "semantic").await;
    let lyon = add(&h, "Lives in Lyon", "episodic").await;

    let (status, found) = h
        .call(
            "POST",
            "/v1/users/u1/memories/search",
            Some(json!({"query": "tea", "limit": 1})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["memories"][0]["id"], tea);

    let edit = json!({"content": "Likes black coffee", "salience": 0.9});
    let (status, edited) = h
        .call("PATCH", &format!("/v1/users/u1/memories/{tea}"), Some(edit))
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["content"], "Likes black coffee");
    let (_, found) = h
        .call(
            "POST",
            "/v1/users/u1/memories/search",
            Some(json!({"query": "coffee", "limit": 1})),
        )
        .await;
    assert_eq!(found["memories"][0]["id"], tea, "the edit was re-embedded");

    let pause = json!({"state": "paused"});
    let (status, _) = h
        .call(
            "PATCH",
            &format!("/v1/users/u1/memories/{lyon}"),
            Some(pause),
        )
        .await;
    assert_eq!(status, 200);
    let (_, active) = h.call("GET", "/v1/users/u1/memories", None).await;
    assert_eq!(active.as_array().unwrap().len(), 1);
    let (_, paused) = h
        .call(
            "GET",
            "/v1/users/u1/memories?state=paused&sector=episodic",
            None,
        )
        .await;
    assert_eq!(paused[0]["id"], lyon);
    let (status, bad) = h
        .call("GET", "/v1/users/u1/memories?sector=gossip", None)
        .await;
    assert_eq!(
        (status.as_u16(), bad["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    let (_, none) = h
        .call(
            "GET",
            &format!("/v1/users/u1/memories?created_after={}", NOW + 1),
            None,
        )
        .await;
    assert_eq!(none, json!([]));

    let (status, user) = h.call("GET", "/v1/users/u1", None).await;
    assert_eq!(status, 200);
    assert_eq!(user["counts"]["total"], 2);
    assert_eq!(
        user["counts"]["by_state"],
        json!({"active": 1, "paused": 1})
    );

    let uri = format!("/v1/users/u1/memories/{lyon}");
    assert_eq!(h.call("DELETE", &uri, None).await.0, 204);
    assert_eq!(h.call("GET", &uri, None).await.0, 404);
    assert_eq!(h.call("DELETE", &uri, None).await.0, 404);
    assert_eq!(
        h.call("GET", "/v1/users/u1/memories/abc", None).await.0,
        400
    );
    assert_eq!(h.call("GET", "/v1/users/nobody", None).await.0, 404);
    assert_eq!(
        h.call("GET", &format!("/v1/users/other/memories/{tea}"), None)
            .await
            .0,
        404
    );
}

async fn export_holds_every_memory_with_its_history_and_every_call(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    // More memories than one page of the export, so the last ones come on a later page.
    const FILLER: usize = 600;
    for n in 0..FILLER {
        let filler = memvox_core::NewMemory {
            user_id: "u1".into(),
            content: format!("Filler fact number {n}"),
            sector: memvox_core::Sector::Semantic,
            salience: 0.5,
            provenance: None,
        };
        h.store().insert_memory(&filler, NOW).await.unwrap();
    }
    let tea = add(&h, "Likes green tea", "semantic").await;
    let coffee = add(&h, "Likes black coffee", "semantic").await;
    let lyon = add(&h, "Lives in Lyon", "episodic").await;
    h.store()
        .supersede_memory("u1", tea, coffee, NOW)
        .await
        .unwrap();
    h.call(
        "PATCH",
        &format!("/v1/users/u1/memories/{lyon}"),
        Some(json!({"state": "paused", "content": "Lives in Paris"})),
    )
    .await;
    h.store().bind_caller("+15550100", "u1", NOW).await.unwrap();
    let mut call = call_of("u1", "conv_export", NOW - 60_000);
    call.turns = vec![memvox_core::Turn {
        index: 0,
        role: memvox_core::Role::User,
        message: Some("My card ends in 4242".into()),
        time_in_call_secs: 3,
    }];
    h.store().record_call(&call, NOW).await.unwrap();
    h.store()
        .record_call(&call_of("u1", "conv_export_2", NOW - 60_000), NOW + 1)
        .await
        .unwrap();
    h.store()
        .record_call(&call_of("u2", "conv_someone_else", NOW - 60_000), NOW)
        .await
        .unwrap();
    let (status, export) = h.call("GET", "/v1/users/u1/export", None).await;
    assert_eq!(status, 200);
    assert_eq!(export["user"]["user_id"], "u1");
    assert_eq!(export["phone_numbers"], json!(["+15550100"]), "decrypted");
    let memories = export["memories"].as_array().unwrap();
    assert_eq!(memories.len(), FILLER + 3);
    let ids: Vec<i64> = memories.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "each memory once, in the order written"
    );
    let superseded = memories.iter().find(|m| m["id"] == tea).unwrap();
    assert_eq!(superseded["superseded_by"], coffee);
    assert!(superseded["history"].is_array());
    let moved = memories.iter().find(|m| m["id"] == lyon).unwrap();
    assert_eq!(moved["state"], "paused");
    assert_eq!(moved["content"], "Lives in Paris");
    assert_eq!(moved["history"][0]["content"], "Lives in Lyon", "{moved}");
    let coffee_history = &memories.iter().find(|m| m["id"] == coffee).unwrap()["history"];
    assert_eq!(coffee_history, &json!([]), "history is per memory");
    let calls: Vec<&str> = export["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation"]["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["conv_export", "conv_export_2"], "their calls only");
    assert_eq!(
        export["calls"][0]["turns"][0]["message"], "My card ends in 4242",
        "turns decrypted"
    );
}

/// A completed one-minute call of `user_id` started at `started_at`, without turns.
pub fn call_of(user_id: &str, conversation_id: &str, started_at: i64) -> memvox_store::CallRecord {
    memvox_store::CallRecord {
        conversation: memvox_core::Conversation {
            conversation_id: conversation_id.into(),
            agent_id: "agent_1".into(),
            user_id: Some(user_id.into()),
            started_at,
            duration_secs: Some(60),
            status: memvox_core::ConversationStatus::Completed,
            failure_reason: None,
        },
        turns: Vec::new(),
        analysis: None,
    }
}

/// Erasure leaves no row, no cache key and no audio file of the user (others' files stay).
async fn erasure_leaves_zero_rows_and_zero_cache_keys_for_the_user(backend: Backend) {
    let cache = support::cache_settings();
    let prefix = cache.key_prefix.clone();
    let caching = support::caching(
        cache,
        Some(&memvox_testkit::redis_url()),
        &prometheus::Registry::new(),
    );
    let mut h = Harness::with_cache(backend, embedder(), support::settings(), &caching).await;
    let audio = tempfile::tempdir().unwrap();
    h.state = h
        .state
        .clone()
        .with_audio_dir(Some(audio.path().to_owned()));
    let baseline = h.table_counts().await;
    h.store()
        .record_call(&call_of("u1", "conv_u1", NOW - 60_000), NOW)
        .await
        .unwrap();
    // A dead letter of the user's call, and one of someone else's.
    let bus = h.state.bus.clone();
    bus.ensure_group(EVENTS, "extraction").await.unwrap();
    for conversation in ["conv_u1", "conv_other"] {
        let message = Message::EventAccepted {
            event_id: 1,
            event_type: "post_call_transcription".into(),
            conversation_id: conversation.into(),
        };
        bus.publish(EVENTS, &Envelope::new(message)).await.unwrap();
    }
    let delivered = bus
        .read(EVENTS, "extraction", "w", 10, std::time::Duration::ZERO)
        .await
        .unwrap();
    for delivery in &delivered {
        bus.dead_letter("extraction", delivery, "gave up")
            .await
            .unwrap();
    }
    for conversation in ["conv_u1", "conv_other"] {
        std::fs::write(
            memvox_config::audio_path(audio.path(), conversation),
            "bXAz",
        )
        .unwrap();
    }
    add(&h, "Likes green tea", "semantic").await;
    let coffee = add(&h, "Likes black coffee", "semantic").await;
    h.call(
        "PATCH",
        &format!("/v1/users/u1/memories/{coffee}"),
        Some(json!({"content": "Lives in Lyon"})),
    )
    .await;
    h.store().bind_caller("+15550100", "u1", NOW).await.unwrap();
    for query in ["tea", "coffee"] {
        let search = json!({"query": query});
        let (status, _) = h
            .call("POST", "/v1/users/u1/memories/search", Some(search))
            .await;
        assert_eq!(status, 200);
    }
    assert_ne!(h.table_counts().await, baseline);
    // The version key and both answers are in Redis.
    assert_eq!(memvox_testkit::keys::keys(&prefix).await.len(), 3);
    let (status, receipt) = h.call("DELETE", "/v1/users/u1", None).await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["user_id"], "u1");
    assert!(receipt["total"].as_u64().unwrap() >= 6, "{receipt}");
    assert_eq!(receipt["audio_files"], 1, "{receipt}");
    assert_eq!(receipt["dead_letters"], 1, "{receipt}");
    let letters = bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    assert_eq!(letters.len(), 1, "the other caller's letter stays");
    assert!(!memvox_config::audio_path(audio.path(), "conv_u1").exists());
    assert!(memvox_config::audio_path(audio.path(), "conv_other").exists());
    assert_eq!(h.table_counts().await, baseline);
    assert_eq!(
        memvox_testkit::keys::keys(&prefix).await,
        Vec::<String>::new()
    );
    assert_eq!(h.call("GET", "/v1/users/u1", None).await.0, 404);
}

async fn the_api_needs_a_token(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let (status, body) = h.send(request("GET", "/v1/users/u1", None, None)).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = h
        .send(request("GET", "/v1/users/u1", Some("nope"), None))
        .await;
    assert_eq!(status, 401);
}

async fn a_tool_token_is_refused_on_v1_and_an_admin_token_on_the_tool(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let tea = add(&h, "Likes green tea", "semantic").await;
    for (method, uri, body) in [
        ("GET", "/v1/users/u1".to_owned(), None),
        ("DELETE", "/v1/users/u1".to_owned(), None),
        ("GET", "/v1/users/u1/export".to_owned(), None),
        ("GET", "/v1/users/u1/memories".to_owned(), None),
        (
            "POST",
            "/v1/users/u1/memories".to_owned(),
            Some(json!({"content": "Planted", "sector": "semantic"})),
        ),
        (
            "POST",
            "/v1/users/u1/memories/search".to_owned(),
            Some(json!({"query": "tea"})),
        ),
        ("GET", format!("/v1/users/u1/memories/{tea}"), None),
        (
            "PATCH",
            format!("/v1/users/u1/memories/{tea}"),
            Some(json!({"content": "Changed"})),
        ),
        ("DELETE", format!("/v1/users/u1/memories/{tea}"), None),
    ] {
        let (status, answer) = h
            .send(request(method, &uri, Some(support::TOKEN), body))
            .await;
        assert_eq!(status, 403, "{method} {uri}: {answer}");
        assert_eq!(answer["error"]["code"], "forbidden");
    }
    let (_, export) = h.call("GET", "/v1/users/u1/export", None).await;
    assert_eq!(export["memories"].as_array().unwrap().len(), 1, "{export}");
    assert_eq!(export["memories"][0]["content"], "Likes green tea");
    let (status, answer) = h
        .send(request(
            "POST",
            "/tools/memory-query",
            Some(support::ADMIN_TOKEN),
            Some(json!({"query": "tea", "user_id": "u1"})),
        ))
        .await;
    assert_eq!(status, 403, "{answer}");
}

memvox_testkit::both_backends!(
    memories_can_be_added_edited_listed_searched_and_deleted,
    export_holds_every_memory_with_its_history_and_every_call,
    erasure_leaves_zero_rows_and_zero_cache_keys_for_the_user,
    the_api_needs_a_token,
    a_tool_token_is_refused_on_v1_and_an_admin_token_on_the_tool,
    answers_are_cached_until_a_committed_write,
    added_and_edited_memories_go_through_the_memory_content_policy,
);

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let settings = memvox_query::QuerySettings {
        max_body_bytes: 64,
        ..support::settings()
    };
    let h = Harness::with_settings(Backend::Sqlite, embedder(), settings).await;
    let body = json!({"content": "x".repeat(100), "sector": "semantic"});
    let (status, answer) = h.call("POST", "/v1/users/u1/memories", Some(body)).await;
    assert_eq!(status, 413);
    assert_eq!(answer["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn each_token_is_rate_limited() {
    let settings = memvox_query::QuerySettings {
        rate_limit_per_second: 1,
        rate_limit_burst: 1,
        ..support::settings()
    };
    let h = Harness::with_settings(Backend::Sqlite, embedder(), settings).await;
    assert_eq!(h.call("GET", "/v1/users/nobody", None).await.0, 404);
    let response = tower::ServiceExt::oneshot(
        memvox_query::router(h.state.clone()),
        request("GET", "/v1/users/nobody", Some(support::ADMIN_TOKEN), None),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
}

async fn answers_are_cached_until_a_committed_write(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let tea = add(&h, "Likes green tea", "semantic").await;
    // "likes" is in both memories, so each matches the query while it exists.
    let search = json!({"query": "what the caller likes", "limit": 5});
    let uri = "/v1/users/u1/memories/search";
    let (_, first) = h.call("POST", uri, Some(search.clone())).await;
    assert_eq!(first["memories"][0]["id"], tea);
    // Recall reinforcement (salience drift) moves no version: the answer comes from the cache...
    h.store()
        .reinforce_memories("u1", &[tea], 0.2, NOW)
        .await
        .unwrap();
    let (_, cached) = h.call("POST", uri, Some(search.clone())).await;
    assert_eq!(cached["memories"], first["memories"]);
    // ...a committed store write is seen at once, even one that bumps no cache version...
    h.store().delete_memory("u1", tea).await.unwrap();
    let (_, after_delete) = h.call("POST", uri, Some(search.clone())).await;
    assert_eq!(after_delete["memories"], json!([]));
    // ...and a write through the API drops the user's answers at once.
    let coffee = add(&h, "Likes black coffee", "semantic").await;
    let (_, fresh) = h.call("POST", uri, Some(search)).await;
    let ids: Vec<i64> = fresh["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![coffee]);
}

async fn added_and_edited_memories_go_through_the_memory_content_policy(backend: Backend) {
    use memvox_core::redact::{FieldPolicy, Mode, PiiKind, RedactionPolicy};
    let mut h = Harness::new(backend, embedder()).await;
    let add = |content: &str| json!({"content": content, "sector": "semantic"});

    // The default masks card numbers and keeps email addresses.
    let (status, memory) = h
        .call(
            "POST",
            "/v1/users/u1/memories",
            Some(add(
                "Pays with card 4111 1111 1111 1111, receipts to ada@example.com",
            )),
        )
        .await;
    assert_eq!(status, 201, "{memory}");
    assert_eq!(
        memory["content"],
        "Pays with card [card number], receipts to ada@example.com"
    );
    let id = memory["id"].as_i64().unwrap();

    // Dropping emails from memory content refuses an add or an edit that holds one.
    h.state = h.state.clone().with_memory_content_policy(
        RedactionPolicy::default()
            .field(memvox_core::redact::Field::MemoryContent)
            .with(PiiKind::Email, Mode::Drop),
    );
    let (status, error) = h
        .call(
            "POST",
            "/v1/users/u1/memories",
            Some(add("Email is bob@example.org")),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(error.to_string().contains("email"), "{error}");
    let (status, _) = h
        .call(
            "PATCH",
            &format!("/v1/users/u1/memories/{id}"),
            Some(json!({"content": "Receipts to bob@example.org"})),
        )
        .await;
    assert_eq!(status, 400);
    let (_, unchanged) = h
        .call("GET", &format!("/v1/users/u1/memories/{id}"), None)
        .await;
    assert_eq!(
        unchanged["content"],
        "Pays with card [card number], receipts to ada@example.com"
    );

    // Text without personal data is stored exactly as sent.
    h.state = h
        .state
        .clone()
        .with_memory_content_policy(FieldPolicy::uniform(Mode::Drop));
    let said = "Prefers a callback after 4 pm about order 53819, since March 3rd";
    let (status, memory) = h
        .call("POST", "/v1/users/u1/memories", Some(add(said)))
        .await;
    assert_eq!(status, 201, "{memory}");
    assert_eq!(memory["content"], said);
}
