//! Test harness: a query service over a fresh store on either backend, a 4-dimensional embedder
//! with hand-made vectors, an in-process bus and a fixed clock, driven with `oneshot`.
//!
//! SQLite gets a temporary file; PostgreSQL its own schema in the test database (dropped at the
//! end), so tests run in parallel and leave nothing behind.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use memvox_ai::{AiError, Embedder, ExtractiveSummarizer};
use memvox_bus::InProcessBus;
use memvox_cache::{CacheSettings, Caching};
use memvox_config::Secret;
use memvox_identity::{Identities, IdentitySettings};
use memvox_query::{Clock, QuerySettings, QueryState, hash_token, router};
use memvox_store::{EmbeddingSpace, PostgresStore, SqliteStore, Store, StoreSettings};
use rand::Rng;
use serde_json::Value;
use tower::ServiceExt as _;

/// The fixed "now" of every test: 2026-01-01T00:00:45Z.
pub const NOW: i64 = 1_767_225_645_000;
/// Milliseconds per day.
pub const DAY: i64 = 86_400_000;
/// The tool token tests present.
pub const TOKEN: &str = "test-token";
/// The admin token tests present on `/v1`.
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The initiation secret tests present.
pub const INIT_SECRET: &str = "init-secret";
/// The agent test identity tokens are issued for.
pub const AGENT: &str = "agent_1";
/// The key test identity tokens are signed with.
pub const IDENTITY_KEY: &[u8] = b"test identity key, 32 bytes long";

/// Every table of the schema (besides migration bookkeeping).
pub const TABLES: [&str; 14] = [
    "store_meta",
    "users",
    "caller_identities",
    "webhook_events",
    "conversations",
    "conversation_turns",
    "conversation_analysis",
    "tool_invocations",
    "memories",
    "memory_embeddings",
    "memory_links",
    "conversation_memories",
    "memory_history",
    "memory_terms",
];

/// A 4-d embedder: known texts get their hand-made vector, others a stable hashed one.
#[derive(Debug, Default, Clone)]
pub struct TestEmbedder {
    vectors: HashMap<String, Vec<f32>>,
}

impl TestEmbedder {
    /// An embedder mapping each text to its vector.
    pub fn new(pairs: &[(&str, [f32; 4])]) -> Self {
        Self {
            vectors: pairs
                .iter()
                .map(|(text, v)| ((*text).to_owned(), v.to_vec()))
                .collect(),
        }
    }
}

#[async_trait]
impl Embedder for TestEmbedder {
    fn model_id(&self) -> &str {
        "test-4d"
    }

    fn dimension(&self) -> usize {
        4
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        Ok(texts
            .iter()
            .map(|text| {
                self.vectors.get(*text).cloned().unwrap_or_else(|| {
                    let mut v: Vec<f32> = (0..4u8)
                        .map(|i| {
                            f32::from(text.bytes().fold(i, |a, b| a.wrapping_mul(31) ^ b)) + 1.0
                        })
                        .collect();
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter_mut().for_each(|x| *x /= norm);
                    v
                })
            })
            .collect())
    }
}

/// The store under test.
pub enum Backend {
    /// SQLite in a temporary directory.
    Sqlite(SqliteStore, tempfile::TempDir),
    /// PostgreSQL in a private schema.
    Postgres(PostgresStore, String),
}

/// A query service and its store.
pub struct Harness {
    /// The backend.
    pub backend: Backend,
    /// The state the router runs on.
    pub state: QueryState,
}

fn space() -> EmbeddingSpace {
    EmbeddingSpace {
        model: "test-4d".into(),
        dimension: 4,
    }
}

/// Identities of `settings`, signing with [`IDENTITY_KEY`].
pub fn identities(settings: IdentitySettings) -> Identities {
    Identities::new(settings, Some(IDENTITY_KEY.to_vec()))
}

/// Settings with the test token and initiation secret.
pub fn settings() -> QuerySettings {
    QuerySettings {
        tool_token_sha256: vec![hash_token(TOKEN)],
        admin_token_sha256: vec![hash_token(ADMIN_TOKEN)],
        init_secrets: vec![Secret::from(INIT_SECRET)],
        lexical_min_memories: 0,
        ..QuerySettings::default()
    }
}

impl Harness {
    /// A service over a fresh store of `backend` (`sqlite` or `postgres`).
    pub async fn new(backend: &str, embedder: TestEmbedder) -> Self {
        Self::with_settings(backend, embedder, settings()).await
    }

    /// Same, with other settings.
    pub async fn with_settings(
        backend: &str,
        embedder: TestEmbedder,
        settings: QuerySettings,
    ) -> Self {
        let cache = caching(CacheSettings::default(), None, &prometheus::Registry::new());
        Self::with_cache(backend, embedder, settings, &cache).await
    }

    /// Same, with other settings and caches.
    pub async fn with_cache(
        backend: &str,
        embedder: TestEmbedder,
        settings: QuerySettings,
        cache: &Caching,
    ) -> Self {
        let backend = match backend {
            "sqlite" => {
                let dir = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(
                    &dir.path().join("m.db"),
                    &StoreSettings::default(),
                    space(),
                    test_keyring(),
                )
                .await
                .unwrap();
                Backend::Sqlite(store, dir)
            }
            _ => {
                let schema = format!("qtest_{:016x}", rand::rng().random::<u64>());
                let url = std::env::var("MEMVOX_TEST_POSTGRES_URL").unwrap_or_else(|_| {
                    "postgres://memvox:memvox@127.0.0.1:5432/memvox_test".to_owned()
                });
                let store_settings = StoreSettings {
                    url: url.clone(),
                    schema: Some(schema.clone()),
                    max_connections: 4,
                    migrate_on_start: Some(true),
                    ..StoreSettings::default()
                };
                let store = PostgresStore::open(
                    &url,
                    Some(&schema),
                    &store_settings,
                    space(),
                    test_keyring(),
                )
                .await
                .expect("PostgreSQL with pgvector must be running: scripts/test-services.sh");
                Backend::Postgres(store, schema)
            }
        };
        let store: Arc<dyn Store> = match &backend {
            Backend::Sqlite(store, _) => Arc::new(store.clone()),
            Backend::Postgres(store, _) => Arc::new(store.clone()),
        };
        let state = QueryState::new(
            store,
            Arc::new(InProcessBus::new(10_000)),
            Arc::new(embedder),
            Arc::new(ExtractiveSummarizer::default()),
            settings,
            cache,
        )
        .unwrap()
        .with_clock(Clock::fixed(NOW))
        .with_identities(identities(IdentitySettings::default()));
        Self { backend, state }
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
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
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
        let mut counts = BTreeMap::new();
        for table in TABLES {
            let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
            let count: i64 = match &self.backend {
                Backend::Sqlite(store, _) => sqlx::query_scalar(sql).fetch_one(store.pool()).await,
                Backend::Postgres(store, _) => {
                    sqlx::query_scalar(sql).fetch_one(store.pool()).await
                }
            }
            .unwrap();
            counts.insert(table, count);
        }
        counts
    }

    /// Closes the store's connection pool: every later store call fails.
    pub async fn break_store(&self) {
        match &self.backend {
            Backend::Sqlite(store, _) => store.pool().close().await,
            Backend::Postgres(store, _) => store.pool().close().await,
        }
    }

    /// Drops the PostgreSQL schema.
    pub async fn cleanup(self) {
        if let Backend::Postgres(store, schema) = self.backend {
            if store.pool().is_closed() {
                let url = std::env::var("MEMVOX_TEST_POSTGRES_URL").unwrap_or_else(|_| {
                    "postgres://memvox:memvox@127.0.0.1:5432/memvox_test".to_owned()
                });
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                drop_schema(&pool, &schema).await;
            } else {
                drop_schema(store.pool(), &schema).await;
                store.pool().close().await;
            }
        }
    }
}

/// Drops the test's schema. The invocation log and recall tasks may still be writing; if the
/// drop is chosen as a deadlock victim against them, it is retried.
async fn drop_schema(pool: &sqlx::PgPool, schema: &str) {
    let statement = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    for attempt in 1.. {
        match sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(pool)
            .await
        {
            Ok(_) => return,
            Err(error) if attempt < 5 && error.to_string().contains("deadlock") => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(error) => panic!("drop schema {schema}: {error}"),
        }
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
        std::sync::LazyLock::new(test_keyring);
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

/// The test Redis (`MEMVOX_TEST_REDIS_URL`, default 127.0.0.1:6379).
pub fn redis_url() -> String {
    std::env::var("MEMVOX_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Cache settings with a key prefix of their own, and a Redis timeout generous enough for a
/// loaded test machine (degradation is tested with an unreachable Redis, not a slow one).
pub fn cache_settings() -> CacheSettings {
    CacheSettings {
        key_prefix: format!("test:qcache:{:016x}", rand::rng().random::<u64>()),
        redis_timeout_ms: 1_000,
        ..CacheSettings::default()
    }
}

/// Every Redis key under `prefix`.
pub async fn redis_keys(prefix: &str) -> Vec<String> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    memvox_cache::scan_keys(&mut conn, &format!("{prefix}:*"))
        .await
        .unwrap()
}

/// Deletes every Redis key under `prefix`.
pub async fn delete_redis_keys(prefix: &str) {
    let keys = redis_keys(prefix).await;
    if !keys.is_empty() {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("DEL")
            .arg(keys)
            .exec_async(&mut conn)
            .await
            .unwrap();
    }
}

/// The sum of counter `name` over the series carrying `label`.
pub fn counter(registry: &prometheus::Registry, name: &str, label: (&str, &str)) -> u64 {
    counter_where(registry, name, &[label])
}

/// The sum of counter `name` over the series carrying every one of `labels`.
pub fn counter_where(registry: &prometheus::Registry, name: &str, labels: &[(&str, &str)]) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| family.get_metric().iter())
        .filter(|m| {
            labels.iter().all(|(name, value)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == *name && l.value() == *value)
            })
        })
        .map(|m| m.get_counter().value() as u64)
        .sum()
}

/// The token of the role `uri` needs: admin under `/v1`, tool elsewhere.
pub fn token_for(uri: &str) -> &'static str {
    if uri.starts_with("/v1/") {
        ADMIN_TOKEN
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

/// Runs an async test body on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name("sqlite").await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name("postgres").await; })*
        }
    };
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

/// A keyring with one fresh key: test stores are encrypted like production ones.
fn test_keyring() -> memvox_crypto::Keyring {
    memvox_crypto::Keyring::from_key_set(memvox_crypto::KeySet::generate())
}
