//! Memory-query latency over one user with 10,000 memories, with the bundled static embedder.
//!
//! Seeds a fresh SQLite store (or PostgreSQL with `--postgres`) directly through the store,
//! then sends sequential `POST /tools/memory-query` requests through the router in process
//! (`oneshot`, no sockets), each with a distinct query so the embedding cache never answers,
//! and prints p50 / p99 / max; then asks the same questions again (answers cached in process)
//! and, with `--redis`, through a second replica with its own in-process tier (answers found in
//! the shared Redis tier, `MEMVOX_TEST_REDIS_URL`). The store is encrypted like production;
//! set `MEMVOX_BENCH_ENCRYPTION=off` to measure the plaintext store. Run in release mode:
//!
//! ```text
//! cargo run --release -p memvox-query --example query_latency [-- --postgres] [-- --redis] [-- --requests 2000]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use memvox_ai::{EmbedderSettings, ExtractiveSummarizer, build_embedder};
use memvox_bus::InProcessBus;
use memvox_cache::{CacheSettings, Caching};
use memvox_core::{NewMemory, Sector};
use memvox_identity::{Identities, IdentitySettings};
use memvox_query::QuerySettings;
use memvox_query::{QueryState, hash_token, router};
use memvox_store::{EmbeddingSpace, PostgresStore, SqliteStore, Store, StoreSettings};
use tower::ServiceExt as _;

const MEMORIES: usize = 10_000;
const SUBJECTS: [&str; 10] = [
    "pharmacy",
    "refill",
    "insurance",
    "doctor",
    "allergy",
    "appointment",
    "billing",
    "address",
    "daughter",
    "dog",
];
const VERBS: [&str; 8] = [
    "switched",
    "asked about",
    "complained about",
    "likes",
    "moved",
    "forgot",
    "confirmed",
    "cancelled",
];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let postgres = args.iter().any(|a| a == "--postgres");
    let redis = args.iter().any(|a| a == "--redis");
    let requests: usize = args
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000);
    let embedder = build_embedder(&EmbedderSettings::default()).expect("static model");
    let space = EmbeddingSpace {
        model: embedder.model_id().to_owned(),
        dimension: embedder.dimension(),
    };
    let dir = tempfile::tempdir().unwrap();
    // Dropped with the guard when the bench ends.
    let schema = memvox_testkit::Schema::new("bench_");
    let store: Arc<dyn Store> = if postgres {
        let settings = StoreSettings {
            max_connections: StoreSettings::default().max_connections,
            ..memvox_testkit::store::postgres_settings(schema.name())
        };
        let store = PostgresStore::open(
            &settings.url,
            Some(schema.name()),
            &settings,
            space,
            keyring(),
        )
        .await
        .unwrap();
        Arc::new(store)
    } else {
        Arc::new(
            SqliteStore::open(
                &dir.path().join("bench.db"),
                &StoreSettings::default(),
                space,
                keyring(),
            )
            .await
            .unwrap(),
        )
    };
    let seeded = Instant::now();
    store.ensure_user("bench", 0).await.unwrap();
    let now = 1_767_225_645_000;
    for chunk in (0..MEMORIES).collect::<Vec<_>>().chunks(500) {
        let mut vectors = Vec::with_capacity(chunk.len());
        let texts: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "Caller {} the {} on visit {i}",
                    VERBS[i % 8],
                    SUBJECTS[i % 10]
                )
            })
            .collect();
        let embedded = embedder
            .embed(&texts.iter().map(String::as_str).collect::<Vec<_>>())
            .await
            .unwrap();
        for ((&i, text), vector) in chunk.iter().zip(&texts).zip(embedded) {
            let memory = NewMemory {
                user_id: "bench".into(),
                content: text.clone(),
                sector: Sector::ALL[i % 5],
                salience: (i % 10) as f64 / 10.0,
                provenance: None,
            };
            let memory = store
                .insert_memory(&memory, now - (i as i64) * 60_000)
                .await
                .unwrap();
            vectors.push((memory.id, vector));
        }
        store.store_embeddings(&vectors, now).await.unwrap();
    }
    eprintln!(
        "seeded {MEMORIES} memories in {:?} ({})",
        seeded.elapsed(),
        store.backend()
    );

    let probe = embedder.embed_one("what about the pharmacy").await.unwrap();
    let started = Instant::now();
    for _ in 0..100 {
        let filter = memvox_store::MemoryFilter::default();
        store
            .search_memories("bench", &probe, &filter, 12)
            .await
            .unwrap();
    }
    eprintln!("store search alone: mean {:?}", started.elapsed() / 100);
    let started = Instant::now();
    for i in 0..100 {
        embedder
            .embed_one(&format!("a question never asked before {i}"))
            .await
            .unwrap();
    }
    eprintln!("embedding alone: mean {:?}", started.elapsed() / 100);

    let settings = QuerySettings {
        tool_token_sha256: vec![hash_token("bench")],
        rate_limit_per_second: 0,
        ..QuerySettings::default()
    };
    let redis = redis.then(memvox_testkit::redis_url);
    // Its keys go when the guard drops at the end of the bench.
    let cache_prefix = memvox_testkit::KeyPrefix::new("bench:cache");
    let cache_settings = CacheSettings {
        key_prefix: cache_prefix.to_string(),
        local_ttl_ms: 3_600_000,
        ..CacheSettings::default()
    };
    // The tool reads a user only for an identity token, as conversation-init issues them.
    let identities = Identities::new(
        IdentitySettings::default(),
        Some(b"query_latency bench identity key".to_vec()),
    );
    let now_secs = memvox_core::Clock::system().now_secs();
    let token = identities
        .keys
        .issue("bench", "agent_bench", None, now_secs)
        .unwrap();
    // Two replicas on one store and one Redis prefix, each with its own in-process tier,
    // sealing Redis entries with the same keys.
    let cache_keys = keyring();
    let replica = |name: &str| {
        let caching = Caching::new(
            cache_settings.clone(),
            redis.as_deref(),
            cache_keys.sealer("shared cache"),
            memvox_telemetry::Metrics::new().registry(),
        )
        .unwrap();
        let state = QueryState::new(
            store.clone(),
            Arc::new(InProcessBus::new(100_000)),
            embedder.clone(),
            Arc::new(ExtractiveSummarizer::default()),
            settings.clone(),
            &caching,
        )
        .unwrap()
        .with_identities(identities.clone());
        eprintln!("replica {name}: redis tier {}", redis.is_some());
        router(state)
    };
    let (first, second) = (replica("a"), replica("b"));
    let question = |i: usize| format!("what did the caller say about the {} {i}", SUBJECTS[i % 10]);
    let tier = if redis.is_some() {
        "moka + redis"
    } else {
        "moka"
    };
    report(
        &format!("miss ({tier})"),
        &measure(&first, requests, &token, question).await,
    );
    report(
        "hit in moka",
        &measure(&first, requests, &token, question).await,
    );
    if redis.is_some() {
        report(
            "hit in redis (other replica)",
            &measure(&second, requests, &token, question).await,
        );
    }
}

/// Latencies of `requests` sequential memory queries (`question(i)`), after 50 warm-up ones.
async fn measure(
    app: &Router,
    requests: usize,
    token: &str,
    question: impl Fn(usize) -> String,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(requests);
    for i in 0..requests + 50 {
        let body = serde_json::json!({"query": question(i), "user_id": token});
        let request = Request::post("/tools/memory-query")
            .header("authorization", "Bearer bench")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let started = Instant::now();
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        if i == 0 {
            let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert!(
                answer["memories"].as_array().is_some_and(|m| !m.is_empty()),
                "the bench user's memories are found: {answer}"
            );
        }
        if i >= 50 {
            latencies.push(started.elapsed());
        }
    }
    latencies.sort();
    latencies
}

/// Prints p50 / p99 / max of sorted `latencies`.
fn report(label: &str, latencies: &[Duration]) {
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "memory-query {label}, {MEMORIES} memories, {} requests: p50 {:?} p99 {:?} max {:?}",
        latencies.len(),
        at(0.50),
        at(0.99),
        latencies.last().copied().unwrap_or(Duration::ZERO)
    );
}

/// Encrypted like production (a fresh key); `MEMVOX_BENCH_ENCRYPTION=off` measures plaintext.
fn keyring() -> memvox_crypto::Keyring {
    if std::env::var("MEMVOX_BENCH_ENCRYPTION").is_ok_and(|v| v == "off") {
        memvox_crypto::Keyring::disabled()
    } else {
        memvox_crypto::Keyring::from_key_set(memvox_crypto::KeySet::generate())
    }
}
