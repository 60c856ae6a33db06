//! Follow-ups on both store backends: a question about the present follows its best match to a
//! later mention of the same thing said without the question's words, one about the past to an
//! earlier mention only; a question without a time cue does not follow.

use memvox_core::Sector;
use memvox_testkit::Backend;
use serde_json::json;

use crate::support::{DAY, Harness, NOW, TestEmbedder, add_memory};

const ORDER: &str = "Order 49065 is the rain jacket, a present for Keith";
const LATER: &str = "A new rain jacket was sent and it is perfect";
const OTHER: &str = "Order 70064 is the duvet set";

/// Every text the test embedder does not know gets a vector of positive components, so the
/// later mention, pointing the other way, has no positive cosine with any question: only its
/// words can bring it in.
fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[])
}

async fn seeded(backend: Backend) -> Harness {
    let h = Harness::new(backend, embedder()).await;
    let s = h.store();
    let toward = [0.5, 0.5, 0.5, 0.5];
    add_memory(
        s,
        "u1",
        ORDER,
        Sector::Episodic,
        0.5,
        NOW - 30 * DAY,
        toward,
    )
    .await;
    add_memory(
        s,
        "u1",
        OTHER,
        Sector::Episodic,
        0.5,
        NOW - 20 * DAY,
        toward,
    )
    .await;
    let away = [-1.0, 0.0, 0.0, 0.0];
    add_memory(s, "u1", LATER, Sector::Episodic, 0.5, NOW - 5 * DAY, away).await;
    h
}

async fn ask(h: &Harness, query: &str) -> Vec<String> {
    h.tool_contents(json!({"query": query, "user_id": h.token("u1"), "limit": 5}))
        .await
}

async fn the_latest_follows_the_best_match_to_a_later_mention(backend: Backend) {
    let h = seeded(backend).await;
    let answer = ask(&h, "what is the latest on order 49065").await;
    assert_eq!(
        answer.first().map(String::as_str),
        Some(ORDER),
        "{answer:?}"
    );
    assert!(answer.iter().any(|c| c == LATER), "{answer:?}");
}

async fn a_question_without_a_time_cue_is_not_followed(backend: Backend) {
    let h = seeded(backend).await;
    let answer = ask(&h, "order 49065").await;
    assert_eq!(
        answer.first().map(String::as_str),
        Some(ORDER),
        "{answer:?}"
    );
    assert!(!answer.iter().any(|c| c == LATER), "{answer:?}");
}

const OLD_HOME: &str = "The delivery address is 88 Victoria Terrace, Durham";
const MOVED: &str = "We've moved, the new address is 90 Foundry Walk";
const NEW_HOME_NOTE: &str = "The address 90 Foundry Walk has a blue door";

/// The old home said first, the move later and a later note on the new home; only the move
/// has a positive cosine with the questions, so the other two come in by its words alone.
async fn moved(backend: Backend) -> Harness {
    let h = Harness::new(backend, embedder()).await;
    let s = h.store();
    let away = [-1.0, 0.0, 0.0, 0.0];
    add_memory(
        s,
        "u1",
        OLD_HOME,
        Sector::Semantic,
        0.5,
        NOW - 60 * DAY,
        away,
    )
    .await;
    let toward = [0.5, 0.5, 0.5, 0.5];
    add_memory(
        s,
        "u1",
        MOVED,
        Sector::Semantic,
        0.5,
        NOW - 10 * DAY,
        toward,
    )
    .await;
    add_memory(
        s,
        "u1",
        NEW_HOME_NOTE,
        Sector::Semantic,
        0.5,
        NOW - 5 * DAY,
        away,
    )
    .await;
    h
}

async fn the_past_follows_the_best_match_to_an_earlier_mention_only(backend: Backend) {
    let h = moved(backend).await;
    let answer = ask(&h, "where did the caller live before they moved").await;
    assert_eq!(
        answer.first().map(String::as_str),
        Some(MOVED),
        "{answer:?}"
    );
    assert!(answer.iter().any(|c| c == OLD_HOME), "{answer:?}");
    assert!(!answer.iter().any(|c| c == NEW_HOME_NOTE), "{answer:?}");
    let now = ask(&h, "where does the caller live now that they moved").await;
    assert!(now.iter().any(|c| c == NEW_HOME_NOTE), "{now:?}");
}

memvox_testkit::both_backends!(
    the_latest_follows_the_best_match_to_a_later_mention,
    a_question_without_a_time_cue_is_not_followed,
    the_past_follows_the_best_match_to_an_earlier_mention_only,
);
