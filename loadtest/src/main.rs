//! `memvox-loadtest`: load generator for memvox.
//!
//! Builds realistic, correctly signed ElevenLabs traffic, drives servers open-loop at a fixed
//! rate (latency from the intended send time) and closed-loop at a fixed concurrency, records HDR
//! histograms, prints p50/p95/p99/max and throughput per scenario and writes them as JSON.
//!
//! Scenario `ack`: the post-call acknowledgement. A running memvox (`--target URL`: `memvox
//! serve` with its workers draining the calls, or a gateway in front of separate workers) or,
//! without it, the gateway router alone (SQLite in a temporary directory, in-process bus or
//! `--redis`) and a bare axum handler returning the same 200 in this process receive the same
//! traffic in the same run; the ratio of their figures is what this machine says memvox costs.
//! Target: p99 < 5 ms at 1,000 req/s.
//!
//! Scenario `query`: memory-query and conversation-init over a bulk-seeded population of
//! 100,000 users with heavy-tailed memory counts (see `query.rs`). Target: p99 < 10 ms for both
//! at 10,000 memories per user with the static embedder.
//!
//! Scenario `proxy`: the time the custom-LLM proxy of a running memvox adds to the first
//! streamed token, against a fake streaming LLM in this process and a direct call to it (see
//! `proxy.rs`). Target: p99 < 15 ms added.

mod drive;
mod episodes;
mod fake_llm;
mod footprint;
mod population;
mod proxy;
mod query;
mod report;
mod scenarios;
mod seed;
mod serve_query;
mod server;
mod targets;
mod traffic;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// memvox load generator.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Post-call webhook acknowledgement: gateway against a bare handler.
    Ack(AckArgs),
    /// Memory-query and conversation-init over a seeded 100,000-user population.
    Query(QueryArgs),
    /// Time the custom-LLM proxy adds to the first streamed token, against a fake LLM.
    Proxy(ProxyArgs),
}

/// Options of the `proxy` scenario.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// The running memvox whose proxy is measured (e.g. `memvox serve` at
    /// `http://127.0.0.1:8080`), forwarding to `--upstream-listen`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub target: String,
    /// Where the fake streaming LLM listens; the server's `query.llm_proxy.upstream_url` must
    /// be `http://<this>/v1`.
    #[arg(long, default_value = "127.0.0.1:9199")]
    pub upstream_listen: std::net::SocketAddr,
    /// The fake LLM's time to its first token, in ms.
    #[arg(long, default_value_t = 0)]
    pub first_token_ms: u64,
    /// Tokens the fake LLM streams after the first.
    #[arg(long, default_value_t = 20)]
    pub chunks: u32,
    /// Between two of those tokens, in ms.
    #[arg(long, default_value_t = 1)]
    pub chunk_ms: u64,
    /// Facts added through the REST API to the measured caller.
    #[arg(long, default_value_t = 2_000)]
    pub memories: usize,
    /// Closed-loop concurrencies, one measured phase each (each worker alternates a direct and
    /// a proxied turn).
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    pub concurrency: Vec<usize>,
    /// Length of each measured phase, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Random seed of the caller and their facts.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// An LLM token of the server (`query.llm_proxy.token_sha256`).
    #[arg(long, env = "MEMVOX_LOADTEST_LLM_TOKEN", hide_env_values = true)]
    pub llm_token: Option<String>,
    /// The server's secrets, to set its caller up.
    #[command(flatten)]
    pub secrets: ServerSecrets,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/loadtest/proxy.json")]
    pub out: PathBuf,
}

/// Options of the `query` scenario.
#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// Store backend to seed and query.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: query::Backend,
    /// PostgreSQL server (a private schema is created and dropped).
    #[arg(
        long,
        default_value = "postgres://memvox:memvox@127.0.0.1:5432/memvox_test"
    )]
    pub postgres_url: String,
    /// Users in the population.
    #[arg(long, default_value_t = 100_000)]
    pub users: usize,
    /// Users with `--heavy-memories` memories each.
    #[arg(long, default_value_t = 10)]
    pub heavy_users: usize,
    /// Memories (facts) of each heavy user.
    #[arg(long, default_value_t = 10_000)]
    pub heavy_memories: usize,
    /// Call episodes seeded per fact of every user (15 a call; 0: facts only).
    #[arg(long, default_value_t = episodes::DEFAULT_EPISODES_PER_FACT)]
    pub episodes_per_fact: usize,
    /// Closed-loop concurrencies, one measured phase each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub concurrency: Vec<usize>,
    /// Length of each measured phase, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Connection pool size of the store (the store's default is 8).
    #[arg(long, default_value_t = 8)]
    pub store_connections: u32,
    /// Memory budget of the per-user indexes, in MiB (`store.index_cache_mb`).
    #[arg(long, default_value_t = 256)]
    pub index_cache_mb: u64,
    /// Weight of lexical search in the ranking (`query.lexical_weight`, the product's default
    /// when not given; 0 turns it off).
    #[arg(long)]
    pub lexical_weight: Option<f64>,
    /// Random seed of the population and the traffic.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/loadtest/query.json")]
    pub out: PathBuf,
    /// Keep the seeded store afterwards (to inspect query plans): the PostgreSQL schema or the
    /// SQLite directory, whose name is printed.
    #[arg(long)]
    pub keep_store: bool,
    /// A running memvox to measure instead of an in-process query router over a seeded store
    /// (e.g. `memvox serve` at `http://127.0.0.1:8080`): one caller is set up through its
    /// webhooks and REST API (`--memories`, `--calls`), then queried; the population options
    /// do not apply.
    #[arg(long)]
    pub target: Option<String>,
    /// Facts added through the REST API to the `--target` caller.
    #[arg(long, default_value_t = 2_000)]
    pub memories: usize,
    /// Signed post-call webhooks from the `--target` caller (their episodes join the facts).
    #[arg(long, default_value_t = 1)]
    pub calls: usize,
    /// Memory-queries per second of an open-loop phase against the `--target` caller (0: no
    /// such phase).
    #[arg(long, default_value_t = 0)]
    pub query_rate: u64,
    /// Calls per second of other callers sent while the `--target` caller is queried at one
    /// client, a last phase (0: no such phase).
    #[arg(long, default_value_t = 0)]
    pub ingest_rate: u64,
    /// A tool token of the `--target` server (`query.tool_token_sha256`).
    #[arg(long, env = "MEMVOX_LOADTEST_TOOL_TOKEN", hide_env_values = true)]
    pub tool_token: Option<String>,
    /// The `--target` server's secrets, to set its caller up.
    #[command(flatten)]
    pub secrets: ServerSecrets,
}

/// The secrets of a running memvox on which a scenario sets its caller up: conversation-init,
/// a signed post-call webhook and facts through the REST API.
#[derive(Debug, Clone, Args)]
pub struct ServerSecrets {
    /// An admin token of the server (`query.admin_token_sha256`), to add the caller's facts.
    #[arg(long, env = "MEMVOX_LOADTEST_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// An initiation secret of the server (`query.init_secrets`), for the caller's token.
    #[arg(long, env = "MEMVOX_LOADTEST_INIT_SECRET", hide_env_values = true)]
    pub init_secret: Option<String>,
    /// The header the initiation secret travels in (`query.init_secret_header`).
    #[arg(long, default_value = "x-memvox-secret")]
    pub init_header: String,
    /// The webhook secret of the server (`gateway.webhook_secrets`), for the caller's calls.
    #[arg(long, env = "MEMVOX_LOADTEST_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
}

/// Options of the `ack` scenario.
#[derive(Debug, Clone, Args)]
pub struct AckArgs {
    /// A running memvox to drive instead of an in-process gateway (e.g. `memvox serve` at
    /// `http://127.0.0.1:8080`); its workers drain the calls while it is measured, and the run
    /// reports how long they took to finish once the load stopped.
    #[arg(long)]
    pub target: Option<String>,
    /// The webhook secret of the `--target` server (its `gateway.webhook_secrets`).
    #[arg(long, env = "MEMVOX_LOADTEST_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// How long to wait for a `--target` server's backlog to drain, in seconds (0: do not
    /// wait, e.g. for a gateway whose `/metrics` does not count the workers' progress).
    #[arg(long, default_value_t = 900)]
    pub drain_timeout: u64,
    /// Open-loop rate, requests per second (sent to each target).
    #[arg(long, default_value_t = 1_000)]
    pub rate: u64,
    /// Length of each measured phase, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Closed-loop workers per target (0 skips the closed-loop phase).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Use Redis Streams at this URL for the gateway's bus instead of the in-process bus.
    #[arg(long, num_args = 0..=1, default_missing_value = "redis://127.0.0.1:6379")]
    pub redis: Option<String>,
    /// SQLite pool size of the gateway's store (the store's default is 8).
    #[arg(long, default_value_t = 8)]
    pub store_connections: u32,
    /// Distinct caller numbers in the generated traffic.
    #[arg(long, default_value_t = 500)]
    pub callers: usize,
    /// Random seed of the generated traffic.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/loadtest/ack.json")]
    pub out: PathBuf,
}

/// Now, in unix seconds.
pub fn now_unix_secs() -> u64 {
    memvox_core::Clock::system().now_secs()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().scenario {
        Scenario::Ack(args) => scenarios::ack(args).await,
        Scenario::Query(args) => query::query(args).await,
        Scenario::Proxy(args) => proxy::proxy(&args).await,
    }
}
