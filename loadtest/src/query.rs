//! The `query` scenario: the query service over a 100,000-user population.
//!
//! Seeds a store (SQLite in a temporary directory, or a private PostgreSQL schema) in bulk,
//! starts the query router exactly as `memvox serve` mounts it (production instrumentation, the
//! configured default summarizer and embedder cache, a real bearer token and init secret) on a
//! loopback TCP port, and drives `POST /tools/memory-query` and
//! `POST /webhook/conversation-init` closed-loop at each concurrency, for two populations: every
//! user (drawn uniformly) and only the heavy users (10,000 memories each). Every memory query is
//! a distinct question, so neither the answer cache nor the embedding cache answers; one extra
//! phase repeats a few questions to show what a cache hit costs. Before measuring, each heavy
//! user is queried once and that cold load (reading 10,000 vectors into the index) is reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use memvox_ai::{EmbedderSettings, SummarizerSettings, build_embedder, build_summarizer};
use memvox_bus::InProcessBus;
use memvox_cache::{CacheSettings, Caching};
use memvox_config::Secret;
use memvox_crypto::{KeySet, Keyring};
use memvox_identity::{Claims, Identities, IdentitySettings};
use memvox_query::{QuerySettings, QueryState, hash_token, router};
use memvox_store::{EmbeddingSpace, PostgresStore, SqliteStore, Store, StoreSettings};
use memvox_telemetry::{Metrics, instrument};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::json;

use crate::QueryArgs;
use crate::drive::{Recorded, closed_loop_with};
use crate::footprint::{per_memory, print_footprint};
use crate::population::{Shape, phone, question, user_id};
use crate::report::{Summary, print_header};
use crate::seed::{Seeded, seed};

const TOKEN: &str = "loadtest-token";
/// The agent the load's calls are for.
const AGENT: &str = "agent_4701kf3qz8mrx2v9tn6bq0c5wd";
/// The key the service signs identity tokens with (32 bytes).
const IDENTITY_KEY: &[u8] = b"memvox loadtest identity key 32b";

/// The service's identities: tokens signed with [`IDENTITY_KEY`].
fn identities() -> Identities {
    Identities::new(IdentitySettings::default(), Some(IDENTITY_KEY.to_vec()))
}
const INIT_SECRET: &str = "loadtest-init-secret";

/// Which store the scenario seeds and queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// SQLite in a temporary directory.
    Sqlite,
    /// A private schema in PostgreSQL (dropped afterwards).
    Postgres,
}

/// The two endpoints measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    MemoryQuery,
    ConversationInit,
}

/// The store under test and how to remove it.
enum Seat {
    Sqlite(SqliteStore, tempfile::TempDir),
    Postgres(PostgresStore, String),
}

/// Runs the scenario: see the module documentation.
pub async fn query(args: QueryArgs) -> anyhow::Result<()> {
    if let Some(target) = &args.target {
        return crate::serve_query::query(&args, target).await;
    }
    let shape = Shape {
        users: args.users,
        heavy_users: args.heavy_users.min(args.users),
        heavy_memories: args.heavy_memories,
        episodes_per_fact: args.episodes_per_fact,
    };
    let seeding_embedder = build_embedder(&EmbedderSettings {
        cache_bytes: 0,
        ..EmbedderSettings::default()
    })?;
    let space = EmbeddingSpace {
        model: seeding_embedder.model_id().to_owned(),
        dimension: seeding_embedder.dimension(),
    };
    let settings = StoreSettings {
        max_connections: args.store_connections,
        index_cache_mb: args.index_cache_mb,
        ..StoreSettings::default()
    };
    let keyring = Keyring::from_key_set(KeySet::generate());
    let seat = open(&args, &settings, space, &keyring).await?;
    let store: Arc<dyn Store> = match &seat {
        Seat::Sqlite(store, _) => Arc::new(store.clone()),
        Seat::Postgres(store, _) => Arc::new(store.clone()),
    };
    let now = i64::try_from(crate::now_unix_secs())? * 1_000;
    let seeded = seed(&*store, seeding_embedder.as_ref(), &shape, args.seed, now).await?;
    let result = measure(&args, &shape, store, seeded).await;
    cleanup(seat, args.keep_store).await?;
    result
}

async fn open(
    args: &QueryArgs,
    settings: &StoreSettings,
    space: EmbeddingSpace,
    keyring: &Keyring,
) -> anyhow::Result<Seat> {
    Ok(match args.backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("memvox.db");
            eprintln!("SQLite store at {}", path.display());
            Seat::Sqlite(
                SqliteStore::open(&path, settings, space, keyring.clone()).await?,
                dir,
            )
        }
        Backend::Postgres => {
            let schema = format!("loadtest_{:08x}", rand::random::<u32>());
            eprintln!("PostgreSQL schema {schema}");
            let settings = StoreSettings {
                url: args.postgres_url.clone(),
                schema: Some(schema.clone()),
                migrate_on_start: Some(true),
                ..settings.clone()
            };
            let store = PostgresStore::open(
                &args.postgres_url,
                Some(&schema),
                &settings,
                space,
                keyring.clone(),
            )
            .await
            .context("open PostgreSQL (run scripts/test-services.sh?)")?;
            Seat::Postgres(store, schema)
        }
    })
}

/// Reports the size of what was seeded, then deletes it (unless `keep` asks to keep it).
async fn cleanup(seat: Seat, keep: bool) -> anyhow::Result<()> {
    match seat {
        Seat::Sqlite(store, dir) => {
            store.pool().close().await;
            let bytes: u64 = std::fs::read_dir(dir.path())?
                .filter_map(|entry| entry.ok()?.metadata().ok())
                .map(|metadata| metadata.len())
                .sum();
            if keep {
                let path = dir.keep();
                eprintln!(
                    "SQLite files: {:.2} GB; kept in {}",
                    bytes as f64 / 1e9,
                    path.display()
                );
                return Ok(());
            }
            eprintln!("SQLite files: {:.2} GB; deleting", bytes as f64 / 1e9);
            dir.close()?;
        }
        Seat::Postgres(store, schema) => {
            let size: i64 = sqlx::query_scalar(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relkind = 'r'",
            )
            .bind(&schema)
            .fetch_one(store.pool())
            .await?;
            if keep {
                eprintln!("schema {schema}: {:.2} GB; kept", size as f64 / 1e9);
                return Ok(());
            }
            eprintln!("schema {schema}: {:.2} GB; dropping", size as f64 / 1e9);
            let drop = sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            sqlx::query(drop).execute(store.pool()).await?;
        }
    }
    Ok(())
}

async fn measure(
    args: &QueryArgs,
    shape: &Shape,
    store: Arc<dyn Store>,
    seeded: Seeded,
) -> anyhow::Result<()> {
    let backend = store.backend();
    let base = start_service(store.clone(), args.lexical_weight).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1_024)
        .build()?;
    let cold = cold_loads(&client, &base, shape).await?;
    // After the cold loads, so they stay cold; the index is cached by now.
    let footprint = if shape.heavy_users > 0 {
        Some(store.index_footprint(&user_id(0)).await?)
    } else {
        None
    };
    let mut summaries = Vec::new();
    for endpoint in [Endpoint::MemoryQuery, Endpoint::ConversationInit] {
        for heavy in [false, true] {
            if heavy && shape.heavy_users == 0 {
                continue;
            }
            for &concurrency in &args.concurrency {
                let recorded =
                    phase(&client, &base, shape, endpoint, heavy, concurrency, args).await;
                let mut summary =
                    Summary::new("query", "closed", label(endpoint, heavy), &recorded);
                summary.concurrency = Some(concurrency);
                summaries.push(summary);
            }
        }
    }
    if shape.heavy_users > 0 {
        let recorded = repeated_queries(&client, &base, shape, args).await;
        let mut summary = Summary::new("query", "closed", "memory-query cached heavy", &recorded);
        summary.concurrency = Some(8);
        summaries.push(summary);
    }

    println!(
        "scenario query ({backend}): {} users, {} facts and {} episodes ({} users with {} facts \
         and {} episodes), seeded in {:.0} s",
        seeded.users,
        seeded.memories,
        seeded.episodes,
        shape.heavy_users,
        shape.heavy_memories,
        shape.heavy_memories * shape.episodes_per_fact,
        seeded.seconds
    );
    println!(
        "cold first query of a heavy user (index load): mean {:.2} ms, max {:.2} ms",
        cold.mean_ms, cold.max_ms
    );
    if let Some(footprint) = &footprint {
        print_footprint(footprint);
    }
    print_header();
    summaries.iter().for_each(Summary::print);
    let output = json!({
        "scenario": "query",
        "backend": backend,
        "shape": {
            "users": shape.users,
            "heavy_users": shape.heavy_users,
            "heavy_memories": shape.heavy_memories,
            "episodes_per_fact": shape.episodes_per_fact,
        },
        "seeded": seeded,
        "cold_heavy_first_query_ms": {"mean": cold.mean_ms, "max": cold.max_ms},
        "heavy_index_bytes": footprint.map(|f| json!({
            "total": f.bytes(),
            "per_fact": per_memory(&f.facts),
            "per_episode": per_memory(&f.episodes),
            "dictionary": f.dictionary_bytes,
        })),
        "results": summaries,
    });
    crate::report::write_json(&args.out, &output)
}

fn label(endpoint: Endpoint, heavy: bool) -> &'static str {
    match (endpoint, heavy) {
        (Endpoint::MemoryQuery, false) => "memory-query all",
        (Endpoint::MemoryQuery, true) => "memory-query heavy",
        (Endpoint::ConversationInit, false) => "conversation-init all",
        (Endpoint::ConversationInit, true) => "conversation-init heavy",
    }
}

/// Starts the query router as `memvox serve` mounts it; returns `http://address`.
async fn start_service(
    store: Arc<dyn Store>,
    lexical_weight: Option<f64>,
) -> anyhow::Result<String> {
    let defaults = QuerySettings::default();
    let settings = QuerySettings {
        tool_token_sha256: vec![hash_token(TOKEN)],
        init_secrets: vec![Secret::from(INIT_SECRET)],
        rate_limit_per_second: 0,
        // The load asks for the same numbers far more often than real callers call.
        init_rate_per_number_per_minute: 0,
        init_rate_global_per_second: 0,
        lexical_weight: lexical_weight.unwrap_or(defaults.lexical_weight),
        ..defaults
    };
    let metrics = Metrics::new();
    let caching = Caching::new(CacheSettings::default(), None, None, metrics.registry())?;
    let state = QueryState::new(
        store,
        Arc::new(InProcessBus::new(1_000_000)),
        build_embedder(&EmbedderSettings::default())?,
        build_summarizer(&SummarizerSettings::default())?,
        settings,
        &caching,
    )?
    .with_identities(identities());
    let app = instrument(router(state), "memvox", metrics);
    crate::targets::serve(app).await
}

/// Latency of the first query of each heavy user.
struct Cold {
    mean_ms: f64,
    max_ms: f64,
}

async fn cold_loads(client: &reqwest::Client, base: &str, shape: &Shape) -> anyhow::Result<Cold> {
    let mut rng = StdRng::seed_from_u64(1);
    let mut total = Duration::ZERO;
    let mut max = Duration::ZERO;
    for index in 0..shape.heavy_users {
        let started = Instant::now();
        let ok = send(
            client,
            base,
            Endpoint::MemoryQuery,
            index,
            &mut rng,
            index as u64,
        )
        .await;
        let elapsed = started.elapsed();
        anyhow::ensure!(ok, "memory-query for {} failed", user_id(index));
        total += elapsed;
        max = max.max(elapsed);
    }
    let users = u32::try_from(shape.heavy_users.max(1))?;
    Ok(Cold {
        mean_ms: (total / users).as_secs_f64() * 1e3,
        max_ms: max.as_secs_f64() * 1e3,
    })
}

async fn phase(
    client: &reqwest::Client,
    base: &str,
    shape: &Shape,
    endpoint: Endpoint,
    heavy: bool,
    concurrency: usize,
    args: &QueryArgs,
) -> Recorded {
    let users = if heavy {
        shape.heavy_users
    } else {
        shape.users
    };
    closed_loop_with(concurrency, Duration::from_secs(args.seconds), |worker| {
        let (client, base) = (client.clone(), base.to_owned());
        let mut rng = StdRng::seed_from_u64(args.seed ^ ((worker as u64 + 1) << 32));
        let mut sequence = (worker as u64) << 40;
        move || {
            sequence += 1;
            let index = rng.random_range(0..users.max(1));
            let mut rng = StdRng::seed_from_u64(rng.random());
            let (client, base) = (client.clone(), base.clone());
            async move { send(&client, &base, endpoint, index, &mut rng, sequence).await }
        }
    })
    .await
}

/// Memory queries drawn from eight fixed (heavy user, question) pairs: after the first round
/// every answer comes from the answer cache.
async fn repeated_queries(
    client: &reqwest::Client,
    base: &str,
    shape: &Shape,
    args: &QueryArgs,
) -> Recorded {
    let heavy = shape.heavy_users;
    closed_loop_with(8, Duration::from_secs(args.seconds), |worker| {
        let (client, base) = (client.clone(), base.to_owned());
        let mut round = worker as u64;
        move || {
            round += 1;
            let pair = round % 8;
            let index = usize::try_from(pair).unwrap_or(0) % heavy.max(1);
            let (client, base) = (client.clone(), base.clone());
            async move {
                let mut rng = StdRng::seed_from_u64(pair);
                send(&client, &base, Endpoint::MemoryQuery, index, &mut rng, pair).await
            }
        }
    })
    .await
}

/// Sends one request for user `index`; `true` on a 200 that is about that user (a
/// conversation-init answered generically after a failure or timeout counts as an error).
async fn send(
    client: &reqwest::Client,
    base: &str,
    endpoint: Endpoint,
    index: usize,
    rng: &mut StdRng,
    sequence: u64,
) -> bool {
    let user = user_id(index);
    let caller = phone(index);
    let conversation_id = format!("conv_load_{sequence:016x}");
    let request = match endpoint {
        // As the agent calls the tool: the identity token init gave for this conversation.
        Endpoint::MemoryQuery => client
            .post(format!("{base}/tools/memory-query"))
            .bearer_auth(TOKEN)
            .json(&json!({
                "query": question(rng, sequence),
                "user_id": token_for(&user, &conversation_id),
                "agent_id": AGENT,
                "conversation_id": conversation_id,
            })),
        Endpoint::ConversationInit => client
            .post(format!("{base}/webhook/conversation-init"))
            .header(
                QuerySettings::default().init_secret_header.as_str(),
                INIT_SECRET,
            )
            .json(&json!({
                "caller_id": caller,
                "called_number": "+14155550142",
                "agent_id": AGENT,
                "call_sid": format!("CA{:032x}", rng.random::<u128>()),
                "conversation_id": conversation_id,
            })),
    };
    let Ok(response) = request.send().await else {
        return false;
    };
    if response.status() != reqwest::StatusCode::OK {
        return false;
    }
    let Ok(body) = response.bytes().await else {
        return false;
    };
    match endpoint {
        Endpoint::MemoryQuery => true,
        Endpoint::ConversationInit => serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|answer| Claims::peek(answer["user_id"].as_str()?))
            .is_some_and(|claims| claims.sub == user),
    }
}

/// An identity token for `user` in `conversation_id`, as conversation-init issues it.
fn token_for(user: &str, conversation_id: &str) -> String {
    let now = crate::now_unix_secs();
    identities()
        .keys
        .issue(user, AGENT, Some(conversation_id), now)
        .unwrap_or_default()
}
