//! `POST /tools/memory-query` on both store backends: the composite ranking on hand-computed
//! cases, graph expansion, sector filter, limit clamping, hidden memories, unknown users, auth,
//! the invocation log and coalesced recall announcements.

use memvox_core::{
    Conversation, ConversationStatus, LinkKind, MemoryLink, MemoryState, NewMemory, Provenance,
    Sector,
};
use memvox_query::QuerySettings;
use memvox_store::{CallRecord, MemoryEdit, ToolInvocation};
use memvox_testkit::Backend;
use serde_json::{Value, json};

use crate::support;
use crate::support::{
    DAY, Harness, NOW, TestEmbedder, add_memory as add, recalls_on_the_bus, request,
};

/// A query with no stop word, so the test embedder sees it as written (queries are embedded
/// without their stop words).
const QUERY: &str = "pharmacy";

fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[(QUERY, [1.0, 0.0, 0.0, 0.0])])
}

async fn query(harness: &Harness, body: Value) -> Value {
    let (status, answer) = harness
        .call("POST", "/tools/memory-query", Some(body))
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

fn close(actual: &Value, expected: f64) {
    let actual = actual.as_f64().unwrap();
    assert!((actual - expected).abs() < 6e-4, "{actual} != {expected}");
}

async fn ranking_follows_the_composite_formula_and_expands_one_waypoint(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let s = h.store();
    let a = add(
        s,
        "u1",
        "Switched to Elm Street pharmacy",
        Sector::Semantic,
        0.5,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    let b = add(
        s,
        "u1",
        "Called about a refill",
        Sector::Episodic,
        0.9,
        NOW - 10 * DAY,
        [0.6, 0.8, 0.0, 0.0],
    )
    .await;
    let c = add(
        s,
        "u1",
        "Pharmacist is called Ana",
        Sector::Semantic,
        0.2,
        NOW,
        [0.0, 0.0, 1.0, 0.0],
    )
    .await;
    let link = MemoryLink {
        source: b,
        target: c,
        weight: 0.9,
        kind: LinkKind::Manual,
    };
    s.upsert_links(&[link], NOW).await.unwrap();

    let answer = query(
        &h,
        json!({"query": QUERY, "user_id": h.token("u1"), "limit": 3, "explain": true}),
    )
    .await;
    // Relevance is 0.7·cosine + 0.3·lexical, the lexical score being BM25 over the best
    // candidate's; the query's one content word, "pharmacy", is in a only ("pharmacist" is
    // another word), so a's lexical score is 1 and the others' 0. The prior scales relevance
    // by 0.85 + 0.06·salience + 0.06·recency + 0.03·link.
    // a: (0.7·1 + 0.3·1) · (0.85 + 0.06·0.5 + 0.06·1 + 0) = 0.94
    // b: (0.7·0.6) · (0.85 + 0.06·0.9 + 0.06·e^(−0.015·10) + 0.03·0.9)
    // c has no relevance of its own (cosine 0), so it only comes back through b's link:
    // b.total · 0.9.
    let b_total = 0.42 * (0.85 + 0.06 * 0.9 + 0.06 * (-0.15f64).exp() + 0.03 * 0.9);
    assert_eq!(ids(&answer), vec![a, b, c]);
    let memories = &answer["memories"];
    let score = |i: usize, term: &str| memories[i]["explain"]["score"][term].clone();
    close(&score(0, "total"), 0.94);
    close(&score(0, "similarity"), 1.0);
    close(&score(0, "lexical"), 1.0);
    close(&score(1, "lexical"), 0.0);
    close(&score(1, "recency"), (-0.15f64).exp());
    close(&score(1, "link"), 0.9);
    close(&score(1, "total"), b_total);
    close(&score(2, "total"), b_total * 0.9);
    assert_eq!(memories[2]["via"], b);
    assert_eq!(memories[0]["kind"], "fact");
    assert_eq!(memories[0]["date"], "2026-01-01");
    assert_eq!(memories[0]["explain"]["timestamp"], "2026-01-01T00:00:45Z");
    assert_eq!(memories[0]["explain"]["sector"], "semantic");
    assert!(memories[0].get("source").is_none());

    let two = query(
        &h,
        json!({"query": QUERY, "user_id": h.token("u1"), "limit": 2}),
    )
    .await;
    assert_eq!(ids(&two), vec![a, b], "expansion never goes past the limit");
    assert!(
        two["memories"][0].get("explain").is_none(),
        "the agent's answer carries no score unless asked"
    );
    let one = query(
        &h,
        json!({"query": QUERY, "user_id": h.token("u1"), "limit": 1}),
    )
    .await;
    assert_eq!(ids(&one), vec![a]);
    assert!(answer["summary"].as_str().unwrap().contains("Elm Street"));
    assert!(answer["query_time_ms"].is_u64());
}

async fn sector_filter_and_hidden_memories(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let s = h.store();
    let semantic = add(
        s,
        "u1",
        "Likes tea",
        Sector::Semantic,
        0.5,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    let episodic = add(
        s,
        "u1",
        "Asked about tea",
        Sector::Episodic,
        0.5,
        NOW,
        [0.9, 0.1, 0.0, 0.0],
    )
    .await;
    let paused = add(
        s,
        "u1",
        "Likes coffee",
        Sector::Semantic,
        1.0,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    let old = add(
        s,
        "u1",
        "Lives in Lyon",
        Sector::Semantic,
        1.0,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    let new = add(
        s,
        "u1",
        "Lives in Paris",
        Sector::Semantic,
        0.1,
        NOW,
        [0.6, 0.8, 0.0, 0.0],
    )
    .await;
    let pause = MemoryEdit {
        state: Some(MemoryState::Paused),
        ..MemoryEdit::default()
    };
    s.edit_memory("u1", paused, &pause, NOW).await.unwrap();
    s.supersede_memory("u1", old, new, NOW).await.unwrap();

    let all = query(
        &h,
        json!({"query": QUERY, "user_id": h.token("u1"), "limit": 10}),
    )
    .await;
    assert_eq!(ids(&all), vec![semantic, episodic, new]);
    let only = json!({"query": QUERY, "user_id": h.token("u1"), "sectors": ["episodic"]});
    assert_eq!(ids(&query(&h, only).await), vec![episodic]);
    let bad = json!({"query": QUERY, "user_id": h.token("u1"), "sectors": ["gossip"]});
    let (status, body) = h.call("POST", "/tools/memory-query", Some(bad)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_request");
}

async fn limits_are_clamped_to_one_and_twenty(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    for i in 0..25 {
        let v = [1.0, i as f32 / 25.0, 0.0, 0.0];
        add(
            h.store(),
            "u1",
            &format!("fact {i}"),
            Sector::Semantic,
            0.5,
            NOW,
            v,
        )
        .await;
    }
    let count = |answer: Value| answer["memories"].as_array().unwrap().len();
    assert_eq!(
        count(query(&h, json!({"query": QUERY, "user_id": h.token("u1")})).await),
        3
    );
    assert_eq!(
        count(
            query(
                &h,
                json!({"query": QUERY, "user_id": h.token("u1"), "limit": 0})
            )
            .await
        ),
        1
    );
    assert_eq!(
        count(
            query(
                &h,
                json!({"query": QUERY, "user_id": h.token("u1"), "limit": 21})
            )
            .await
        ),
        20
    );
}

async fn unknown_users_get_an_empty_answer_and_callers_resolve(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let nobody = query(&h, json!({"query": QUERY, "user_id": h.token("nobody")})).await;
    assert_eq!(nobody["memories"], json!([]));
    assert_eq!(nobody["summary"], "");
    let empty = query(
        &h,
        json!({"query": QUERY, "user_id": "", "caller_id": "+15550100"}),
    )
    .await;
    assert_eq!(empty["memories"], json!([]));
    let id = add(
        h.store(),
        "dana",
        "Likes tea",
        Sector::Semantic,
        0.5,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    h.store()
        .bind_caller("+15550100", "dana", NOW)
        .await
        .unwrap();
    let by_caller = query(
        &h,
        json!({"query": QUERY, "user_id": "", "caller_id": "+15550100"}),
    )
    .await;
    assert_eq!(ids(&by_caller), vec![id]);
    let (status, _) = h
        .call(
            "POST",
            "/tools/memory-query",
            Some(json!({"query": " ", "user_id": h.token("dana")})),
        )
        .await;
    assert_eq!(status, 400);
}

async fn wrong_or_absent_tokens_are_refused(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let body = json!({"query": QUERY, "user_id": h.token("u1")});
    for token in [None, Some("wrong")] {
        let (status, answer) = h
            .send(request(
                "POST",
                "/tools/memory-query",
                token,
                Some(body.clone()),
            ))
            .await;
        assert_eq!(status, 401);
        assert_eq!(answer["error"]["code"], "unauthorized");
    }
    let malformed = axum::http::Request::builder()
        .method("POST")
        .uri("/tools/memory-query")
        .header("authorization", format!("Bearer {}", support::TOKEN))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let (status, answer) = h.send(malformed).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "malformed_json");
}

/// The log is written in batches, erased with the user, and never written for them after.
async fn invocations_are_written_in_batches(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    for i in 0..3 {
        let invocation = ToolInvocation {
            tool_name: "memory_query".into(),
            conversation_id: Some(format!("conv_{i}")),
            user_id: Some("u1".into()),
            request_params: json!({"query": QUERY}),
            response_data: Some(json!({"memories": []})),
            latency_ms: 1,
            success: true,
            error_message: None,
            created_at: NOW,
        };
        sender.send(invocation).await.unwrap();
    }
    drop(sender);
    memvox_query::invocations::write_batches(receiver, h.store().clone()).await;
    let receipt = h.store().erase_user("u1", NOW).await.unwrap();
    let logged = receipt
        .deleted
        .iter()
        .find(|(table, _)| table == "tool_invocations");
    assert_eq!(logged.map(|(_, n)| *n), Some(3), "{receipt:?}");

    // Entries queued before the erasure and written after it are dropped; a later call of
    // the same id (a new caller) is logged.
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    for (created_at, conversation) in [
        (NOW - 1, "conv_late"),
        (NOW, "conv_0"),
        (NOW + 1, "conv_new"),
    ] {
        let invocation = ToolInvocation {
            tool_name: "memory_query".into(),
            conversation_id: Some(conversation.into()),
            user_id: Some("u1".into()),
            request_params: json!({"query": QUERY}),
            response_data: None,
            latency_ms: 1,
            success: true,
            error_message: None,
            created_at,
        };
        sender.send(invocation).await.unwrap();
    }
    drop(sender);
    memvox_query::invocations::write_batches(receiver, h.store().clone()).await;
    assert_eq!(h.table_counts().await["tool_invocations"], 1);
}

/// An entry waits up to the linger for others to join its batch, and the writer still writes
/// what it holds once every sender is gone.
async fn invocations_linger_for_a_batch(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let writer = tokio::spawn(memvox_query::invocations::write_batches(
        receiver,
        h.store().clone(),
    ));
    let invocation = |conversation: &str| ToolInvocation {
        tool_name: "memory_query".into(),
        conversation_id: Some(conversation.into()),
        user_id: Some("u1".into()),
        request_params: json!({"query": QUERY}),
        response_data: None,
        latency_ms: 1,
        success: true,
        error_message: None,
        created_at: NOW,
    };
    sender.send(invocation("conv_first")).await.unwrap();
    tokio::time::sleep(memvox_query::invocations::LINGER / 4).await;
    assert_eq!(
        h.table_counts().await["tool_invocations"],
        0,
        "the first entry waits for others"
    );
    sender.send(invocation("conv_second")).await.unwrap();
    drop(sender);
    writer.await.unwrap();
    assert_eq!(h.table_counts().await["tool_invocations"], 2);
}

/// Recalls are announced once per caller per interval, naming what every query returned them;
/// a caller erased meanwhile (here by another replica) has their pending recalls dropped.
async fn recalls_are_announced_once_per_caller_and_interval(backend: Backend) {
    // Long enough for the queries and the erasure below to fall in one interval on a loaded
    // machine.
    let settings = QuerySettings {
        recall_flush_ms: 500,
        ..support::settings()
    };
    let h = Harness::with_settings(backend, embedder(), settings).await;
    let s = h.store();
    let vector = [1.0, 0.0, 0.0, 0.0];
    let elm = add(
        s,
        "u1",
        "Uses the Elm Street pharmacy",
        Sector::Semantic,
        0.5,
        NOW,
        vector,
    )
    .await;
    let oak = add(
        s,
        "u1",
        "Tried the Oak pharmacy once",
        Sector::Semantic,
        0.4,
        NOW,
        vector,
    )
    .await;
    add(
        s,
        "u2",
        "Uses the Pine pharmacy",
        Sector::Semantic,
        0.5,
        NOW,
        vector,
    )
    .await;
    for limit in [1, 2, 1] {
        let answer = query(
            &h,
            json!({"query": QUERY, "user_id": h.token("u1"), "limit": limit}),
        )
        .await;
        assert!(!ids(&answer).is_empty());
    }
    query(&h, json!({"query": QUERY, "user_id": h.token("u2")})).await;
    // Erased through another replica: this one still holds u2's recall, and must not announce it.
    h.store().erase_user("u2", NOW).await.unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while recalls_on_the_bus(&h).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no recall was announced"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Two more intervals: nothing else may follow.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let mut expected = vec![elm, oak];
    expected.sort_unstable();
    assert_eq!(
        recalls_on_the_bus(&h).await,
        [("u1".to_owned(), expected)],
        "one message for u1's three queries; none for the erased u2"
    );
}

async fn provenance_is_returned_as_source(backend: Backend) {
    let h = Harness::new(backend, embedder()).await;
    let s = h.store();
    s.ensure_user("u1", NOW).await.unwrap();
    let call = CallRecord {
        conversation: Conversation {
            conversation_id: "conv_1".into(),
            agent_id: "agent_1".into(),
            user_id: Some("u1".into()),
            started_at: NOW - 60_000,
            duration_secs: Some(60),
            status: ConversationStatus::Completed,
            failure_reason: None,
        },
        turns: Vec::new(),
        analysis: None,
    };
    s.record_call(&call, NOW).await.unwrap();
    let provenance = Provenance {
        conversation_id: "conv_1".into(),
        turn_indexes: vec![1, 3],
    };
    let memory = NewMemory {
        user_id: "u1".into(),
        content: "Likes tea".into(),
        sector: Sector::Semantic,
        salience: 0.5,
        provenance: Some(provenance),
    };
    let memory = s.insert_memory(&memory, NOW).await.unwrap();
    s.store_embeddings(&[(memory.id, vec![1.0, 0.0, 0.0, 0.0])], NOW)
        .await
        .unwrap();
    let answer = query(&h, json!({"query": QUERY, "user_id": h.token("u1")})).await;
    assert_eq!(
        answer["memories"][0]["source"],
        json!({"conversation_id": "conv_1", "turns": [1, 3]})
    );
}

async fn the_fixture_request_is_answered(backend: Backend) {
    let fixture: Value = serde_json::from_str(include_str!(
        "../../../../fixtures/elevenlabs/memory_query_tool_request.json"
    ))
    .unwrap();
    let body = fixture["body"].clone();
    let query_text = body["query"].as_str().unwrap().to_owned();
    let h = Harness::new(
        backend,
        TestEmbedder::new(&[(query_text.as_str(), [1.0, 0.0, 0.0, 0.0])]),
    )
    .await;
    let user = body["user_id"].as_str().unwrap();
    // The fixture's raw user id is not an identity token: the caller's number finds the user.
    let caller = body["caller_id"].as_str().unwrap();
    h.store().ensure_user(user, NOW).await.unwrap();
    h.store().bind_caller(caller, user, NOW).await.unwrap();
    let id = add(
        h.store(),
        user,
        "Moved prescriptions to the Elm Street pharmacy",
        Sector::Semantic,
        0.8,
        NOW,
        [1.0, 0.0, 0.0, 0.0],
    )
    .await;
    let answer = query(&h, body).await;
    assert_eq!(ids(&answer), vec![id]);
    assert_eq!(
        answer["summary"],
        "Moved prescriptions to the Elm Street pharmacy."
    );
}

async fn exact_words_find_what_the_embedding_misses(backend: Backend) {
    const CODE_QUERY: &str = "order 58213";
    let embedder = TestEmbedder::new(&[(CODE_QUERY, [0.0, 0.0, 0.6, 0.8])]);
    let mut quiet = support::settings();
    quiet.lexical_weight = 0.0;
    for (settings, lexical) in [(support::settings(), true), (quiet, false)] {
        let h = Harness::with_settings(backend, embedder.clone(), settings).await;
        // Twenty-four memories nearer the query vector (cosine 0.8) fill the vector candidates
        // of a one-memory query (at least 20); the one naming the order is at 0.6.
        for text in [
            "Prefers email",
            "Lives in Denver",
            "Has a cat",
            "Likes jazz",
        ]
        .iter()
        .flat_map(|text| (0..6).map(move |i| format!("{text} ({i})")))
        {
            add(
                h.store(),
                "u1",
                &text,
                Sector::Semantic,
                0.5,
                NOW,
                [0.0, 0.0, 0.0, 1.0],
            )
            .await;
        }
        let order = add(
            h.store(),
            "u1",
            "Order 58213 arrived damaged",
            Sector::Semantic,
            0.5,
            NOW,
            [0.0, 0.0, 1.0, 0.0],
        )
        .await;
        let answer = query(
            &h,
            json!({"query": CODE_QUERY, "user_id": h.token("u1"), "limit": 1, "explain": true}),
        )
        .await;
        if lexical {
            // The query's words, "order" and "58213", are only in this memory: lexical 1, and with the prior
            // 0.85 + 0.06·0.5 + 0.06·1 = 0.94, (0.7·0.6 + 0.3·1)·0.94 = 0.6768 beats
            // (0.7·0.8)·0.94 = 0.5264.
            assert_eq!(ids(&answer), vec![order]);
            close(&answer["memories"][0]["explain"]["score"]["lexical"], 1.0);
            close(&answer["memories"][0]["explain"]["score"]["total"], 0.6768);
        } else {
            assert_ne!(
                ids(&answer),
                vec![order],
                "lexical off: the vector alone misses it"
            );
        }
    }
}

async fn recency_decays_at_the_configured_rate_of_the_sector(backend: Backend) {
    for (rate, expected) in [(None, (-0.15f64).exp()), (Some(0.1), (-1.0f64).exp())] {
        let mut settings = support::settings();
        if let Some(rate) = rate {
            settings.decay.episodic = rate;
        }
        let h = Harness::with_settings(backend, embedder(), settings).await;
        add(
            h.store(),
            "u1",
            "Called about a refill",
            Sector::Episodic,
            0.9,
            NOW - 10 * DAY,
            [1.0, 0.0, 0.0, 0.0],
        )
        .await;
        let answer = query(
            &h,
            json!({"query": QUERY, "user_id": h.token("u1"), "explain": true}),
        )
        .await;
        close(
            &answer["memories"][0]["explain"]["score"]["recency"],
            expected,
        );
    }
}

memvox_testkit::both_backends!(
    recency_decays_at_the_configured_rate_of_the_sector,
    exact_words_find_what_the_embedding_misses,
    the_fixture_request_is_answered,
    ranking_follows_the_composite_formula_and_expands_one_waypoint,
    sector_filter_and_hidden_memories,
    limits_are_clamped_to_one_and_twenty,
    unknown_users_get_an_empty_answer_and_callers_resolve,
    wrong_or_absent_tokens_are_refused,
    invocations_are_written_in_batches,
    invocations_linger_for_a_batch,
    provenance_is_returned_as_source,
    recalls_are_announced_once_per_caller_and_interval,
);
