//! Test harness: a query service over a fresh store on either backend, a 4-dimensional embedder
//! with hand-made vectors, an in-process bus and a fixed clock, driven with `oneshot`.
//!
//! The store is the testkit's: SQLite in a temporary file or PostgreSQL in a schema of its own,
//! gone when the harness drops.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use memvox_ai::ExtractiveSummarizer;
use memvox_bus::InProcessBus;
use memvox_cache::{CacheSettings, Caching};
use memvox_config::Secret;
use memvox_identity::{Identities, IdentitySettings};
use memvox_query::{Clock, QuerySettings, QueryState, hash_token, router};
use memvox_store::Store;
pub use memvox_testkit::TestEmbedder;
use memvox_testkit::{Backend, TestStore};
use serde_json::Value;

/// The fixed "now" of every test: 2026-01-01T00:00:45Z.
pub const NOW: i64 = 1_767_225_645_000;
/// Milliseconds per day.
pub const DAY: i64 = 86_400_000;
/// The tool token tests present.
pub const TOKEN: &str = "test-token";
/// The admin token tests present on `/v1`.
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The LLM token tests present on the custom-LLM proxy (the API key of an agent's Custom LLM).
pub const LLM_TOKEN: &str = "llm-token";
/// The initiation secret tests present.
pub const INIT_SECRET: &str = "init-secret";
/// The agent test identity tokens are issued for.
pub const AGENT: &str = "agent_1";
/// The key test identity tokens are signed with.
pub const IDENTITY_KEY: &[u8] = b"test identity key, 32 bytes long";

/// A query service and its store.
pub struct Harness {
    /// The store under test, for looks beside the service.
    pub db: TestStore,
    /// The state the router runs on.
    pub state: QueryState,
}

/// Identities of `settings`, signing with [`IDENTITY_KEY`].
pub fn identities(settings: IdentitySettings) -> Identities {
    Identities::new(settings, Some(IDENTITY_KEY.to_vec()))
}

/// Settings with the test tokens and initiation secret (the custom-LLM proxy stays off).
pub fn settings() -> QuerySettings {
    let mut settings = QuerySettings {
        tool_token_sha256: vec![hash_token(TOKEN)],
        admin_token_sha256: vec![hash_token(ADMIN_TOKEN)],
        init_secrets: vec![Secret::from(INIT_SECRET)],
        lexical_min_memories: 0,
        mcp_admin: true,
        ..QuerySettings::default()
    };
    settings.llm_proxy.token_sha256 = vec![hash_token(LLM_TOKEN)];
    settings
}

impl Harness {
    /// A service over a fresh store of `backend`.
    pub async fn new(backend: Backend, embedder: TestEmbedder) -> Self {
        Self::with_settings(backend, embedder, settings()).await
    }

    /// Same, with other settings.
    pub async fn with_settings(
        backend: Backend,
        embedder: TestEmbedder,
        settings: QuerySettings,
    ) -> Self {
        let cache = caching(CacheSettings::default(), None, &prometheus::Registry::new());
        Self::with_cache(backend, embedder, settings, &cache).await
    }

    /// Same, with other settings and caches.
    pub async fn with_cache(
        backend: Backend,
        embedder: TestEmbedder,
        settings: QuerySettings,
        cache: &Caching,
    ) -> Self {
        let db = TestStore::open(backend).await;
        let state = QueryState::new(
            db.store(),
            Arc::new(InProcessBus::new(10_000)),
            Arc::new(embedder),
            Arc::new(ExtractiveSummarizer::default()),
            settings,
            cache,
        )
        .unwrap()
        .with_clock(Clock::fixed(NOW))
        .with_identities(identities(IdentitySettings::default()));
        Self { db, state }
    }

    /// An identity token for `user_id`, as conversation-init issues it (for [`AGENT`], any
    /// conversation).
    pub fn token(&self, user_id: &str) -> String {
        let now_secs = u64::try_from(NOW / 1000).unwrap();
        self.state
            .identities
            .keys
            .issue(user_id, AGENT, None, now_secs)
            .unwrap()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.state.store
    }

    /// Sends a request; returns the status and the JSON body (`Null` when empty).
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let (status, bytes) =
            memvox_testkit::http::send(&router(self.state.clone()), request).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, body)
    }

    /// An authenticated JSON request: with the admin token under `/v1`, the tool token
    /// elsewhere.
    pub async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(request(method, uri, Some(token_for(uri)), body))
            .await
    }

    /// Asks the memory-query tool with `body` (expecting 200); the contents answered, in order.
    pub async fn tool_contents(&self, body: Value) -> Vec<String> {
        let (status, answer) = self.call("POST", "/tools/memory-query", Some(body)).await;
        assert_eq!(status, 200, "{answer}");
        answer["memories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Row count of every table.
    pub async fn table_counts(&self) -> BTreeMap<&'static str, i64> {
        self.db.table_counts().await
    }

    /// Closes the store's connection pool: every later store call fails.
    pub async fn break_store(&self) {
        self.db.close().await;
    }
}

/// Caches from `settings` (in-process answers live an hour, so only versions invalidate them
/// within a test), on the Redis at `redis_url` if given, counting into `registry`; Redis
/// entries are sealed with keys every replica of the test binary shares.
pub fn caching(
    settings: CacheSettings,
    redis_url: Option<&str>,
    registry: &prometheus::Registry,
) -> Caching {
    static CACHE_KEYS: std::sync::LazyLock<memvox_crypto::Keyring> =
        std::sync::LazyLock::new(memvox_testkit::test_keyring);
    let settings = CacheSettings {
        local_ttl_ms: 3_600_000,
        ..settings
    };
    Caching::new(
        settings,
        redis_url,
        CACHE_KEYS.sealer("shared cache"),
        registry,
    )
    .unwrap()
}

/// Cache settings with a key prefix of their own, and a Redis timeout generous enough for a
/// loaded test machine (degradation is tested with an unreachable Redis, not a slow one).
pub fn cache_settings() -> CacheSettings {
    CacheSettings {
        key_prefix: memvox_testkit::unique("test:qcache:"),
        redis_timeout_ms: 1_000,
        ..CacheSettings::default()
    }
}

/// The token of the role `uri` needs: admin under `/v1`, LLM under `/llm/`, tool elsewhere.
pub fn token_for(uri: &str) -> &'static str {
    if uri.starts_with("/v1/") {
        ADMIN_TOKEN
    } else if uri.starts_with("/llm/") {
        LLM_TOKEN
    } else {
        TOKEN
    }
}

/// A request with an optional bearer token and JSON body.
pub fn request(method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// Writes a memory of `user` said at `at` with its `vector`, straight into the store; its id.
pub async fn add_memory(
    store: &Arc<dyn Store>,
    user: &str,
    content: &str,
    sector: memvox_core::Sector,
    salience: f64,
    at: i64,
    vector: [f32; 4],
) -> i64 {
    store.ensure_user(user, at).await.unwrap();
    let memory = store
        .insert_memory(
            &memvox_core::NewMemory {
                user_id: user.into(),
                content: content.into(),
                sector,
                salience,
                provenance: None,
            },
            at,
        )
        .await
        .unwrap();
    store
        .store_embeddings(&[(memory.id, vector.to_vec())], at)
        .await
        .unwrap();
    memory.id
}

/// Waits (up to 5 s) for the invocation log to hold `rows` rows.
pub async fn logged(h: &Harness, rows: i64) {
    for _ in 0..250 {
        if h.table_counts().await["tool_invocations"] == rows {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the invocation log never held {rows} rows");
}

/// One text column of the invocation log, sorted.
pub async fn log_column(h: &Harness, column: &str) -> Vec<String> {
    let mut values = h.db.raw_column("tool_invocations", column).await;
    values.sort();
    values
}

/// The `MemoryRecalled` messages on the memories stream, as (user, memory ids).
pub async fn recalls_on_the_bus(h: &Harness) -> Vec<(String, Vec<i64>)> {
    let entries = h
        .state
        .bus
        .entries(memvox_bus::MEMORIES, None, 1_000)
        .await
        .unwrap();
    entries
        .iter()
        .filter_map(
            |e| match memvox_bus::Envelope::decode(&e.payload, 0).unwrap().message {
                memvox_bus::Message::MemoryRecalled {
                    user_id,
                    memory_ids,
                } => Some((user_id, memory_ids)),
                _ => None,
            },
        )
        .collect()
}
