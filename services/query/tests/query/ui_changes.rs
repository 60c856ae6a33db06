//! What the memory inspector shows and changes, on both store backends: an edit round trip
//! (through the API's path: history kept, re-embedded), pause and resume, deletion that needs
//! its box ticked, erasure that asks first and shows its receipt, a memory's call with the
//! cited turns highlighted, its links, and search with the score breakdown.

use axum::http::StatusCode;
use memvox_core::{LinkKind, MemoryLink, MemoryState, NewMemory, Provenance, Role, Sector, Turn};
use memvox_testkit::Backend;
use serde_json::json;

use crate::api::call_of;
use crate::support::{NOW, TestEmbedder, add_memory, recalls_on_the_bus};
use crate::ui::{TEA, get, post, sign_in, with_memory};

fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[
        ("tea", TEA),
        ("Likes green tea", TEA),
        ("Likes oolong now", [0.0, 1.0, 0.0, 0.0]),
        ("oolong", [0.0, 1.0, 0.0, 0.0]),
    ])
}

async fn an_edit_round_trips(backend: Backend) {
    let (h, id) = with_memory(backend, embedder(), "Likes green tea").await;
    let uri = format!("/ui/users/u1/memories/{id}");
    let cookie = sign_in(&h).await;
    let csrf = get(&h, Some(&cookie), &uri).await.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("content", "Likes oolong now\r\n"),
        ("sector", "procedural"),
        ("salience", "0.8"),
        ("state", "active"),
    ];
    let saved = post(&h, Some(&cookie), &uri, &form).await;
    assert_eq!(
        (saved.status, saved.location()),
        (StatusCode::SEE_OTHER, format!("{uri}?done=edited").as_str())
    );
    let memory = h.store().get_memory("u1", id).await.unwrap().unwrap();
    assert_eq!(
        (memory.content.as_str(), memory.sector, memory.salience),
        ("Likes oolong now", Sector::Procedural, 0.8)
    );
    let page = get(&h, Some(&cookie), saved.location()).await;
    assert!(page.body.contains("Saved."));
    assert!(
        page.body.contains(">Likes oolong now</textarea>"),
        "the form shows the new text"
    );
    assert!(
        page.body.contains("<td>Likes green tea</td>"),
        "the earlier text is in the history"
    );
    let (_, found) = h
        .call(
            "POST",
            "/v1/users/u1/memories/search",
            Some(json!({"query": "oolong", "limit": 1})),
        )
        .await;
    assert_eq!(
        found["memories"][0]["id"], id,
        "re-embedded as the API does"
    );
    // The same form again changes nothing.
    let again = post(&h, Some(&cookie), &uri, &form).await;
    assert!(again.location().ends_with("?done=unchanged"));
    // Pause, then resume.
    let paused = post(
        &h,
        Some(&cookie),
        &format!("{uri}/state"),
        &[("csrf", &csrf), ("state", "paused")],
    )
    .await;
    assert!(paused.location().ends_with("?done=paused"));
    let memory = h.store().get_memory("u1", id).await.unwrap().unwrap();
    assert_eq!(memory.state, MemoryState::Paused);
    assert!(
        get(&h, Some(&cookie), &uri)
            .await
            .body
            .contains(">Resume</button>")
    );
    post(
        &h,
        Some(&cookie),
        &format!("{uri}/state"),
        &[("csrf", &csrf), ("state", "active")],
    )
    .await;
    let memory = h.store().get_memory("u1", id).await.unwrap().unwrap();
    assert_eq!(memory.state, MemoryState::Active);
    // A bad salience is refused and changes nothing.
    let bad = [
        ("csrf", csrf.as_str()),
        ("content", "x"),
        ("sector", "semantic"),
        ("salience", "7"),
        ("state", "active"),
    ];
    assert_eq!(
        post(&h, Some(&cookie), &uri, &bad).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        h.store()
            .get_memory("u1", id)
            .await
            .unwrap()
            .unwrap()
            .content,
        "Likes oolong now"
    );
}

async fn deleting_needs_its_box_ticked(backend: Backend) {
    let (h, id) = with_memory(backend, embedder(), "Likes green tea").await;
    let uri = format!("/ui/users/u1/memories/{id}");
    let cookie = sign_in(&h).await;
    let csrf = get(&h, Some(&cookie), &uri).await.csrf();
    let refused = post(
        &h,
        Some(&cookie),
        &format!("{uri}/delete"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(h.store().get_memory("u1", id).await.unwrap().is_some());
    let deleted = post(
        &h,
        Some(&cookie),
        &format!("{uri}/delete"),
        &[("csrf", &csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(deleted.location(), "/ui/users/u1?done=deleted");
    assert!(h.store().get_memory("u1", id).await.unwrap().is_none());
    assert_eq!(
        get(&h, Some(&cookie), &uri).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn erasure_asks_first_and_shows_the_receipt(backend: Backend) {
    let (h, _) = with_memory(backend, embedder(), "Likes green tea").await;
    h.store()
        .record_call(&call_of("u1", "conv_u1", NOW - 60_000), NOW)
        .await
        .unwrap();
    let cookie = sign_in(&h).await;
    let ask = get(&h, Some(&cookie), "/ui/users/u1/erase").await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("Type the caller's id"));
    assert!(
        h.store().get_user("u1").await.unwrap().is_some(),
        "asking erased nothing"
    );
    let csrf = ask.csrf();
    for typed in ["", "u2", "U1"] {
        let refused = post(
            &h,
            Some(&cookie),
            "/ui/users/u1/erase",
            &[("csrf", &csrf), ("confirm", typed)],
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{typed:?}");
        assert!(refused.body.contains("nothing was erased"));
        assert!(h.store().get_user("u1").await.unwrap().is_some());
    }
    let receipt = post(
        &h,
        Some(&cookie),
        "/ui/users/u1/erase",
        &[("csrf", &csrf), ("confirm", "u1")],
    )
    .await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    assert!(receipt.body.contains("Erased u1"));
    assert!(
        receipt
            .body
            .contains("<code>memories</code></td><td class=\"num\">1</td>"),
        "{}",
        receipt.body
    );
    assert!(
        receipt
            .body
            .contains("<code>conversations</code></td><td class=\"num\">1</td>")
    );
    assert!(h.store().get_user("u1").await.unwrap().is_none());
    assert_eq!(
        get(&h, Some(&cookie), "/ui/users/u1").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn a_memory_shows_its_call_with_the_cited_turns_and_its_links(backend: Backend) {
    let (h, other) = with_memory(backend, embedder(), "Likes green tea").await;
    let mut call = call_of("u1", "conv_tea", NOW - 60_000);
    call.turns = [
        "Hello, how can I help?",
        "I switched to green tea",
        "Noted!",
    ]
    .iter()
    .enumerate()
    .map(|(index, text)| Turn {
        index: u32::try_from(index).unwrap(),
        role: if index == 1 { Role::User } else { Role::Agent },
        message: Some((*text).to_owned()),
        time_in_call_secs: i64::try_from(index).unwrap() * 5,
    })
    .collect();
    h.store().record_call(&call, NOW).await.unwrap();
    let cited = NewMemory {
        user_id: "u1".into(),
        content: "Drinks green tea".into(),
        sector: Sector::Semantic,
        salience: 0.6,
        provenance: Some(Provenance {
            conversation_id: "conv_tea".into(),
            turn_indexes: vec![1],
        }),
    };
    let id = h.store().insert_memory(&cited, NOW).await.unwrap().id;
    let link = MemoryLink {
        source: id,
        target: other,
        weight: 0.9,
        kind: LinkKind::Automatic,
    };
    h.store().upsert_links(&[link], NOW).await.unwrap();
    let cookie = sign_in(&h).await;
    let page = get(&h, Some(&cookie), &format!("/ui/users/u1/memories/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(r#"<li id="turn-1" value="1" class="user cited">"#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<li id="turn-0" value="0" class="agent">"#)
    );
    assert!(page.body.contains("I switched to green tea"));
    assert!(
        page.body
            .contains(&format!(r#"href="/ui/users/u1/memories/{other}""#)),
        "the linked memory"
    );
    assert!(
        page.body.contains(r#"stroke-width="5.5""#),
        "an edge as thick as its weight"
    );
    assert!(page.body.contains(r#"class="curve""#), "the decay chart");
    // A memory added by hand says so.
    let manual = get(&h, Some(&cookie), &format!("/ui/users/u1/memories/{other}")).await;
    assert!(manual.body.contains("Added by hand"));
}

async fn search_shows_the_ranked_results_and_their_scores(backend: Backend) {
    let (h, tea) = with_memory(backend, embedder(), "Likes green tea").await;
    add_memory(
        h.store(),
        "u1",
        "Likes oolong now",
        Sector::Semantic,
        0.5,
        NOW,
        [0.0, 1.0, 0.0, 0.0],
    )
    .await;
    let cookie = sign_in(&h).await;
    let page = get(&h, Some(&cookie), "/ui/users/u1/search?q=tea").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (_, api) = h
        .call(
            "POST",
            "/v1/users/u1/memories/search",
            Some(json!({"query": "tea", "limit": 10})),
        )
        .await;
    let first = &api["memories"][0];
    assert_eq!(first["id"], tea);
    let total = format!(
        "{:.3}",
        first["explain"]["score"]["total"].as_f64().unwrap()
    );
    let row = page.body.split(r#"<tr class="result">"#).nth(1).unwrap();
    assert!(
        row.contains(&format!("/memories/{tea}\">Likes green tea</a>")),
        "{row}"
    );
    assert!(
        row.contains(&format!(r#"<td class="total">{total}</td>"#)),
        "{row}"
    );
    assert_eq!(
        get(&h, Some(&cookie), "/ui/users/u1/search?q=%20")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&h, Some(&cookie), "/ui/users/nobody/search?q=tea")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// An operator's search in the inspector recalls nothing (salience and recency stay as they
/// are); the same search through `/v1` does.
async fn searching_in_the_inspector_reinforces_nothing(backend: Backend) {
    let (h, tea) = with_memory(backend, embedder(), "Likes green tea").await;
    let cookie = sign_in(&h).await;
    let page = get(&h, Some(&cookie), "/ui/users/u1/search?q=tea").await;
    assert!(page.body.contains("Likes green tea"), "{}", page.body);
    // Past two of the recall buffer's intervals (1 s): nothing was announced.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert!(recalls_on_the_bus(&h).await.is_empty());
    let (status, _) = h
        .call(
            "POST",
            "/v1/users/u1/memories/search",
            Some(json!({"query": "tea"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while recalls_on_the_bus(&h).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the API search recalled nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(recalls_on_the_bus(&h).await, [("u1".to_owned(), vec![tea])]);
}

memvox_testkit::both_backends!(
    searching_in_the_inspector_reinforces_nothing,
    an_edit_round_trips,
    deleting_needs_its_box_ticked,
    erasure_asks_first_and_shows_the_receipt,
    a_memory_shows_its_call_with_the_cited_turns_and_its_links,
    search_shows_the_ranked_results_and_their_scores,
);
