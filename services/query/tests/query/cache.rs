//! The answer cache across processes, on SQLite and a real Redis (each test with its own key
//! prefix): a committed write invalidates every replica at once, even when its invalidation is
//! lost, an erased user is never served from it, an unreachable Redis degrades to process memory
//! without errors, and a cache that is off computes every answer.

use memvox_cache::{CacheSettings, Caching};
use memvox_query::{Clock, QueryState, router};
use memvox_testkit::Backend;
use prometheus::Registry;
use serde_json::{Value, json};

use tower::ServiceExt as _;

use crate::support;
use crate::support::{Harness, NOW, TestEmbedder};

fn embedder() -> TestEmbedder {
    TestEmbedder::new(&[
        ("Likes green tea", [1.0, 0.0, 0.0, 0.0]),
        ("Likes black coffee", [0.8, 0.6, 0.0, 0.0]),
        ("tea", [1.0, 0.0, 0.0, 0.0]),
    ])
}

const SEARCH: &str = "/v1/users/u1/memories/search";

/// An authenticated JSON call to the service running on `state`.
async fn call(state: &QueryState, method: &str, uri: &str, body: Value) -> (u16, Value) {
    let request = support::request(method, uri, Some(support::token_for(uri)), Some(body));
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn add(state: &QueryState, content: &str) -> i64 {
    let body = json!({"content": content, "sector": "semantic", "salience": 0.7});
    let (status, memory) = call(state, "POST", "/v1/users/u1/memories", body).await;
    assert_eq!(status, 201, "{memory}");
    memory["id"].as_i64().unwrap()
}

/// The ids a search for "tea" returns through `state`.
async fn tea_ids(state: &QueryState) -> Vec<i64> {
    let (status, answer) = call(state, "POST", SEARCH, json!({"query": "tea", "limit": 5})).await;
    assert_eq!(status, 200, "{answer}");
    ids(&answer)
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

/// A second replica of `h`'s query service: same store, its own in-process tier.
fn replica(h: &Harness, cache: &Caching) -> QueryState {
    QueryState::new(
        h.state.store.clone(),
        h.state.bus.clone(),
        h.state.embedder.clone(),
        h.state.summarizer.clone(),
        support::settings(),
        cache,
    )
    .unwrap()
    .with_clock(Clock::fixed(NOW))
}

/// A harness and a second replica sharing its store and Redis, the second with its own
/// metrics registry (returned).
async fn two_replicas(settings: CacheSettings) -> (Harness, QueryState, Registry) {
    let redis = memvox_testkit::redis_url();
    let h = Harness::with_cache(
        Backend::Sqlite,
        embedder(),
        support::settings(),
        &support::caching(settings.clone(), Some(&redis), &Registry::new()),
    )
    .await;
    let registry = Registry::new();
    let other = replica(&h, &support::caching(settings, Some(&redis), &registry));
    (h, other, registry)
}

#[tokio::test]
async fn committed_writes_and_erasures_invalidate_every_replica_at_once() {
    let settings = support::cache_settings();
    let prefix = settings.key_prefix.clone();
    let redis = memvox_testkit::redis_url();
    let process = |registry: &Registry| support::caching(settings.clone(), Some(&redis), registry);
    let registry = Registry::new();
    let h = Harness::with_cache(
        Backend::Sqlite,
        embedder(),
        support::settings(),
        &process(&registry),
    )
    .await;
    let other = replica(&h, &process(&Registry::new()));

    let tea = add(&h.state, "Likes green tea").await;
    assert_eq!(tea_ids(&h.state).await, vec![tea]);
    assert_eq!(tea_ids(&other).await, vec![tea]);
    // A committed store change whose cache invalidation never arrives (it bumps nothing) is
    // still seen at once by every replica: answers are keyed on the store's version too.
    h.store().delete_memory("u1", tea).await.unwrap();
    assert_eq!(tea_ids(&h.state).await, Vec::<i64>::new());
    assert_eq!(tea_ids(&other).await, Vec::<i64>::new());

    // A write through the other replica's API is seen by this one at once.
    let coffee = add(&other, "Likes black coffee").await;
    assert_eq!(tea_ids(&h.state).await, vec![coffee]);
    assert_eq!(
        memvox_testkit::counter(
            &registry,
            "memvox_cache_degraded_total",
            &[("op", "version")]
        ),
        0
    );
    assert_eq!(tea_ids(&h.state).await, vec![coffee]);
    assert!(
        memvox_testkit::counter(
            &registry,
            "memvox_cache_lookups_total",
            &[("result", "hit")]
        ) >= 1,
        "the cached answer was a hit"
    );

    // Erased without dropping the cache (its invalidation lost): no replica serves the answers.
    assert_eq!(tea_ids(&other).await, vec![coffee]);
    h.store().erase_user("u1", NOW).await.unwrap();
    for replica in [&h.state, &other] {
        let (status, answer) = call(replica, "POST", SEARCH, json!({"query": "tea"})).await;
        assert_eq!(status, 404, "{answer}");
    }
    memvox_testkit::keys::delete_keys(&prefix);
}

#[tokio::test]
async fn another_replica_is_answered_from_the_redis_tier() {
    let settings = support::cache_settings();
    let prefix = settings.key_prefix.clone();
    let (h, other, registry) = two_replicas(settings).await;
    let tea = add(&h.state, "Likes green tea").await;
    assert_eq!(tea_ids(&h.state).await, vec![tea]);
    assert_eq!(
        memvox_testkit::keys::keys(&prefix).await.len(),
        2,
        "version + answer"
    );
    assert_eq!(
        tea_ids(&other).await,
        vec![tea],
        "computed by the first replica, served by the second"
    );
    assert_eq!(
        memvox_testkit::counter(
            &registry,
            "memvox_cache_lookups_total",
            &[("tier", "redis")]
        ),
        1
    );
    memvox_testkit::keys::delete_keys(&prefix);
}

#[tokio::test]
async fn unreachable_redis_still_answers_from_process_memory() {
    let registry = Registry::new();
    let cache = support::caching(
        support::cache_settings(),
        Some("redis://127.0.0.1:1"),
        &registry,
    );
    let h = Harness::with_cache(Backend::Sqlite, embedder(), support::settings(), &cache).await;
    let tea = add(&h.state, "Likes green tea").await;
    assert_eq!(tea_ids(&h.state).await, vec![tea]);
    assert_eq!(tea_ids(&h.state).await, vec![tea]);
    assert_eq!(
        memvox_testkit::counter(
            &registry,
            "memvox_cache_lookups_total",
            &[("result", "hit")]
        ),
        1,
        "served from moka"
    );
    let coffee = add(&h.state, "Likes black coffee").await;
    assert_eq!(
        tea_ids(&h.state).await,
        vec![tea, coffee],
        "this process's writes still invalidate"
    );
    assert!(
        memvox_testkit::counter(
            &registry,
            "memvox_cache_degraded_total",
            &[("op", "version")]
        ) >= 1
    );
}

#[tokio::test]
async fn with_the_cache_off_every_query_computes() {
    let off = CacheSettings {
        enabled: false,
        ..support::cache_settings()
    };
    let registry = Registry::new();
    let cache = support::caching(off, Some(&memvox_testkit::redis_url()), &registry);
    let h = Harness::with_cache(Backend::Sqlite, embedder(), support::settings(), &cache).await;
    assert!(h.state.answers.is_none());
    let tea = add(&h.state, "Likes green tea").await;
    assert_eq!(tea_ids(&h.state).await, vec![tea]);
    h.store().delete_memory("u1", tea).await.unwrap();
    assert_eq!(tea_ids(&h.state).await, Vec::<i64>::new());
    assert_eq!(
        memvox_testkit::counter(
            &registry,
            "memvox_cache_lookups_total",
            &[("tier", "memory")]
        ),
        0
    );
}

#[tokio::test]
async fn shared_query_vectors_spare_other_replicas_the_embedder() {
    let settings = CacheSettings {
        shared_query_vectors: true,
        ..support::cache_settings()
    };
    let prefix = settings.key_prefix.clone();
    let (h, other, registry) = two_replicas(settings).await;
    let tea = add(&h.state, "Likes green tea").await;
    assert_eq!(tea_ids(&h.state).await, vec![tea]);
    // A write drops the answers, not the vector: the other replica reuses the query's vector.
    let coffee = add(&other, "Likes black coffee").await;
    assert_eq!(tea_ids(&other).await, vec![tea, coffee]);
    let vector_hits = memvox_testkit::counter(
        &registry,
        "memvox_cache_lookups_total",
        &[
            ("cache", "query_vectors"),
            ("tier", "redis"),
            ("result", "hit"),
        ],
    );
    assert_eq!(vector_hits, 1, "the query vector came from Redis");
    memvox_testkit::keys::delete_keys(&prefix);
}
