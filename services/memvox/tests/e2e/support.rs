//! Shared by the end-to-end suites: an app on either deployment (SQLite + in-process bus, or
//! PostgreSQL + Redis Streams with their own schema and key prefix), the fixture call as a raw
//! event, both workers driven until idle, and the `memvox` binary (run, served, its store
//! seeded).

use std::{path::Path, process::Output};

use ::memvox::Config;
use ::memvox::Memvox;
use memvox_bus::{BusBackend, EVENTS, Envelope, Message, Worker};
use memvox_core::{NewMemory, Sector};
use memvox_store::{EmbeddingSpace, MemoryEdits, NewEvent, SqliteStore, StoreSettings};
pub use memvox_testkit::{Running, free_port};

/// The post-call transcription fixture.
pub const FIXTURE: &str =
    include_str!("../../../../fixtures/elevenlabs/post_call_transcription.json");

/// Where the test runs.
pub enum Deployment {
    Embedded,
    Distributed,
}

/// An app of one test with what it holds outside the test's directory — the distributed
/// deployment's PostgreSQL schema and Redis keys — removed when it is dropped (after the app).
pub struct TestApp {
    app: Memvox,
    _schema: Option<memvox_testkit::Schema>,
    _keys: Option<memvox_testkit::KeyPrefix>,
}

impl std::ops::Deref for TestApp {
    type Target = Memvox;

    fn deref(&self) -> &Memvox {
        &self.app
    }
}

pub async fn app(deployment: Deployment, dir: &std::path::Path) -> TestApp {
    app_with(deployment, dir, |_| {}).await
}

pub async fn app_with(
    deployment: Deployment,
    dir: &std::path::Path,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::default();
    config.embedder.model_path = Some(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/static-minilm-256"
        )
        .into(),
    );
    config.shared.bus.claim_idle_ms = 60_000;
    config.shared.bus.block_ms = 0;
    let (schema, keys) = match deployment {
        Deployment::Embedded => {
            config.shared.store.url = format!("sqlite://{}/memvox.db", dir.display());
            (None, None)
        }
        Deployment::Distributed => {
            let (schema, keys) = (
                memvox_testkit::Schema::new("test_pipeline_"),
                memvox_testkit::KeyPrefix::new("test:pipeline"),
            );
            let tag = keys.as_str();
            config.shared.store.url = memvox_testkit::postgres_url();
            config.shared.store.schema = Some(schema.name().to_owned());
            config.shared.store.migrate_on_start = Some(true);
            let key = memvox_crypto::Key::generate().to_base64();
            config.shared.encryption.keys = Some(format!("k1:{key}"));
            config.shared.encryption.active_key = Some("k1".into());
            config.shared.encryption.index_key = Some(memvox_crypto::Key::generate().to_base64());
            config.shared.bus.backend = BusBackend::Redis;
            config.shared.bus.key_prefix = tag.to_owned();
            config.shared.cache.key_prefix = format!("{tag}:cache");
            // Generous for a loaded test machine: a slow Redis is not what these tests test.
            config.shared.cache.redis_timeout_ms = 1_000;
            (Some(schema), Some(keys))
        }
    };
    adjust(&mut config);
    TestApp {
        app: Box::pin(Memvox::build(config)).await.unwrap(),
        _schema: schema,
        _keys: keys,
    }
}

/// A copy of the fixture call with another conversation id and, optionally, other caller words
/// in turn 5.
pub fn call_payload(conversation_id: &str, caller_says: Option<&str>) -> String {
    let mut value: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    value["data"]["conversation_id"] = conversation_id.into();
    if let Some(words) = caller_says {
        value["data"]["transcript"][5]["message"] = words.into();
    }
    value.to_string()
}

/// Records `payload` as an accepted `post_call_transcription` event and publishes it, as the
/// gateway does; returns the event id.
pub async fn accept(app: &Memvox, conversation_id: &str, payload: String) -> i64 {
    accept_typed(app, "post_call_transcription", conversation_id, payload).await
}

/// [`accept`] for an event of type `event_type`.
pub async fn accept_typed(
    app: &Memvox,
    event_type: &str,
    conversation_id: &str,
    payload: String,
) -> i64 {
    let recorded = app
        .store
        .record_event(&NewEvent {
            event_type: event_type.into(),
            conversation_id: conversation_id.into(),
            event_timestamp: 1_767_225_645,
            payload,
            received_at: 1_767_225_645_000,
            traceparent: None,
        })
        .await
        .unwrap();
    let message = Message::EventAccepted {
        event_id: recorded.id,
        event_type: event_type.into(),
        conversation_id: conversation_id.into(),
    };
    app.bus
        .publish(EVENTS, &Envelope::new(message))
        .await
        .unwrap();
    recorded.id
}

pub async fn drain(worker: &Worker) {
    for _ in 0..100 {
        let report = worker.process_batch().await.unwrap();
        if report.claimed + report.read == 0 {
            return;
        }
    }
    panic!("the worker never went idle");
}

/// Both workers of one app and the outbox reconciler (built once: they register their
/// metrics).
pub struct Pipeline {
    /// The extraction worker.
    pub extraction: std::sync::Arc<Worker>,
    /// The embedding worker.
    pub embedding: Worker,
    /// Re-publishes events whose publish was lost (boxed: the tests' futures hold a pipeline).
    pub reconciler: Box<memvox_bus::Reconciler>,
}

impl Pipeline {
    pub fn new(app: &Memvox) -> Self {
        let (extraction, reconciler) = app.extraction_worker().unwrap();
        Self {
            extraction: std::sync::Arc::new(extraction),
            embedding: app.embedding_worker().unwrap(),
            reconciler: Box::new(reconciler),
        }
    }

    pub async fn run(&self) {
        drain(&self.extraction).await;
        drain(&self.embedding).await;
    }
}

/// `memvox serve` on the data in `dir`, listening on `port`, accepting webhooks signed with
/// `wsec_test_secret`, its output discarded.
pub fn serve_quietly(dir: &std::path::Path, port: u16) -> Running {
    let child = memvox(dir)
        .arg("serve")
        .env("MEMVOX_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("MEMVOX_GATEWAY__WEBHOOK_SECRETS", "[\"wsec_test_secret\"]")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    Running(child)
}

/// The `memvox` binary, run in `dir` with no configuration file and the repository's model.
pub fn memvox(dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_memvox"));
    command
        .current_dir(dir)
        .env_remove("MEMVOX_CONFIG")
        .env("MEMVOX_EMBEDDER__MODEL_PATH", repo_model_dir())
        .stdin(std::process::Stdio::null());
    command
}

/// The bundled embedding model of the repository.
pub fn repo_model_dir() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/static-minilm-256"
    )
    .to_owned()
}

/// Serves `router` on a loopback port; its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// Now, in unix seconds (what a webhook signature is stamped with).
pub fn unix_now_secs() -> u64 {
    memvox_core::Clock::system().now_secs()
}

pub use memvox_testkit::wait_until_ready;

/// Opens the embedded store of `dir` as `memvox` would (same generated key file) and gives it
/// one memory.
pub fn seed_embedded_store(dir: &Path, content: &str) -> memvox_crypto::Keyring {
    let path = dir.join("data/memvox.db");
    let settings = StoreSettings {
        url: format!("sqlite://{}", path.display()),
        ..StoreSettings::default()
    };
    let keyring = memvox_crypto::Keyring::open(
        &memvox_crypto::EncryptionSettings::default(),
        settings.default_key_file().as_deref(),
    )
    .unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = SqliteStore::open(&path, &settings, bundled_space(), keyring.clone())
            .await
            .unwrap();
        store
            .insert_memory(
                &NewMemory {
                    user_id: "u1".into(),
                    content: content.into(),
                    sector: Sector::Semantic,
                    salience: 0.5,
                    provenance: None,
                },
                0,
            )
            .await
            .unwrap();
        store.pool().close().await;
    });
    keyring
}

/// The bundled model's space, which `memvox` opens the store in.
pub fn bundled_space() -> EmbeddingSpace {
    EmbeddingSpace {
        model: "static-minilm-256".into(),
        dimension: 256,
    }
}

/// A command's standard output.
pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts a failed start: non-zero exit and exactly one error line (logs may precede it)
/// containing `expected`.
pub fn assert_one_line_error(output: &Output, expected: &str) {
    let stderr = stderr_of(output);
    assert!(!output.status.success(), "must fail: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("memvox: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert!(
        errors[0].contains(expected),
        "expected `{expected}` in: {stderr}"
    );
}

/// A command's standard error, trimmed.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

/// Every key name under `<prefix>` in Redis (a test's own keys: `KEYS` is fine here).
pub async fn redis_keys(url: &str, prefix: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Every key name under `<prefix>` in Redis and every value they hold (each field of every
/// stream entry, strings, hash fields and values, set and list members), as a copy of Redis
/// would show them.
pub async fn redis_contents(url: &str, prefix: &str) -> Vec<String> {
    let keys = redis_keys(url, prefix).await;
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut contents = keys.clone();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let values: Vec<String> = match kind.as_str() {
            "stream" => {
                let range: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                    .arg(&key)
                    .arg("-")
                    .arg("+")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                range
                    .ids
                    .iter()
                    .flat_map(|entry| {
                        entry.map.iter().flat_map(|(field, value)| {
                            let value: String =
                                redis::from_redis_value_ref(value).unwrap_or_default();
                            [field.clone(), value]
                        })
                    })
                    .collect()
            }
            "string" => {
                let bytes: Vec<u8> = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                vec![String::from_utf8_lossy(&bytes).into_owned()]
            }
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "list" => redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .unwrap(),
            _ => Vec::new(),
        };
        contents.extend(values);
    }
    contents
}

/// Every value of every column of every table of the app's database, as text (SQLite blobs
/// read lossily), with its table: what a copy of the database shows.
pub async fn database_text(config: &Config) -> Vec<(String, String)> {
    let mut found = Vec::new();
    match config.shared.store.backend().unwrap() {
        memvox_store::StoreBackend::Sqlite { path } => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            for table in tables {
                let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}')"
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                for column in columns {
                    let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(
                        format!("SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\""),
                    ))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                    found.extend(values.into_iter().flatten().map(|bytes| {
                        (table.clone(), String::from_utf8_lossy(&bytes).into_owned())
                    }));
                }
            }
            pool.close().await;
        }
        memvox_store::StoreBackend::Postgres { url, schema } => {
            let schema = schema.unwrap();
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = $1",
            )
            .bind(&schema)
            .fetch_all(&pool)
            .await
            .unwrap();
            for (table, column) in columns {
                let values: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT \"{column}\"::text FROM \"{schema}\".\"{table}\""
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                found.extend(values.into_iter().flatten().map(|v| (table.clone(), v)));
            }
            pool.close().await;
        }
    }
    found
}
