//! The `query` scenario against a running memvox (`--target`): what a user runs, with its
//! workers and its own caches.
//!
//! One caller is set up as ElevenLabs and an operator would: conversation-init for their number
//! (which gives the identity token the agent's tool calls carry), `--calls` signed post-call
//! webhooks from that number (the worker binds it to the caller and stores the calls' episodes),
//! and `--memories` facts added through the REST API; the run waits until the workers have
//! drained. Then it drives `POST /tools/memory-query` closed-loop at each concurrency with a
//! distinct question per request (no answer-cache hit), with `--query-rate` open-loop at that
//! rate, conversation-init at one client, and,
//! with `--ingest-rate`, memory-query at one client again while signed calls of other callers
//! arrive at that rate (open loop) and the workers extract them. Beside each client-side figure
//! it reports the server's own mean time per request, from its
//! `memvox_http_request_duration_seconds` histogram.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use memvox_identity::Claims;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::drive::{Recorded, closed_loop_with, open_loop, open_loop_with, send};
use crate::population::{memory, question};
use crate::report::{Summary, print_header};
use crate::server::Server;
use crate::traffic::Generator;
use crate::{QueryArgs, ServerSecrets};

/// The agent the load's calls are for.
pub(crate) const AGENT: &str = "agent_4701kf3qz8mrx2v9tn6bq0c5wd";
/// REST requests in flight while seeding.
const SEED_CONCURRENCY: usize = 4;
/// Routes whose server time is reported.
const TOOL_ROUTE: &str = "/tools/memory-query";
const INIT_ROUTE: &str = "/webhook/conversation-init";

/// What the run needs to reach the server.
#[derive(Clone)]
pub(crate) struct Remote {
    pub(crate) client: reqwest::Client,
    pub(crate) server: Server,
    pub(crate) admin_token: String,
    pub(crate) tool_token: String,
    pub(crate) init_secret: String,
    pub(crate) init_header: String,
    pub(crate) webhook_secret: String,
}

/// The measured caller: their number, a conversation, and the token its tool calls carry.
#[derive(Clone)]
pub(crate) struct Caller {
    pub(crate) number: String,
    pub(crate) conversation_id: String,
    pub(crate) token: String,
}

/// The scenario (see the module documentation).
pub async fn query(args: &QueryArgs, target: &str) -> anyhow::Result<()> {
    let remote = remote(args, target)?;
    let seed = args.seed ^ rand::random::<u64>();
    let caller = set_up_caller(&remote, args.memories, args.calls, seed).await?;
    let mut summaries = Vec::new();
    let mut server_ms = serde_json::Map::new();
    for &concurrency in &args.concurrency {
        let (summary, mean) = measure(&remote, &caller, concurrency, args.seconds, "query").await?;
        server_ms.insert(format!("memory-query c={concurrency}"), json!(mean));
        summaries.push(summary);
    }
    if args.query_rate > 0 {
        let (open, mean) = measure_open(&remote, &caller, args).await?;
        server_ms.insert(format!("memory-query {}/s", args.query_rate), json!(mean));
        summaries.push(open);
    }
    let (init, init_mean) = measure_init(&remote, &caller, args.seconds).await?;
    server_ms.insert("conversation-init c=1".to_owned(), json!(init_mean));
    summaries.push(init);
    if args.ingest_rate > 0 {
        let (mixed, mean) = measure_mixed(&remote, &caller, args, seed).await?;
        server_ms.insert("memory-query c=1 while ingesting".to_owned(), json!(mean));
        summaries.push(mixed);
    }
    println!(
        "scenario query: the server at {target}, one caller with {} facts and {} calls",
        args.memories, args.calls
    );
    print_header();
    summaries.iter().for_each(Summary::print);
    for (label, mean) in &server_ms {
        println!(
            "server mean {label}: {:.3} ms",
            mean.as_f64().unwrap_or(f64::NAN)
        );
    }
    let idle = summaries.iter().find(|s| s.concurrency == Some(1));
    let mixed = summaries
        .iter()
        .find(|s| s.target == "query while ingesting");
    let ratio = idle
        .zip(mixed)
        .map(|(idle, mixed)| mixed.p99_ms / idle.p99_ms);
    if let Some(ratio) = ratio {
        println!("memory-query p99 while ingesting / idle: {ratio:.2}");
    }
    let output = json!({
        "scenario": "query",
        "tested": format!("the server at {target}"),
        "memories": args.memories,
        "calls": args.calls,
        "ingest_rate": args.ingest_rate,
        "machine": { "cpus": std::thread::available_parallelism().map_or(0, usize::from) },
        "seconds": args.seconds,
        "results": summaries,
        "server_mean_ms": server_ms,
        "ingesting_over_idle_p99": ratio,
    });
    crate::report::write_json(&args.out, &output)
}

fn remote(args: &QueryArgs, target: &str) -> anyhow::Result<Remote> {
    Ok(Remote {
        tool_token: required(&args.tool_token, "--target", "tool token (--tool-token)")?,
        ..Remote::with_secrets(target, &args.secrets, "--target")?
    })
}

impl Remote {
    /// A client of the server at `target` with `secrets` (each required: an error says that
    /// `who` needs the missing one) and no tool token.
    pub(crate) fn with_secrets(
        target: &str,
        secrets: &ServerSecrets,
        who: &str,
    ) -> anyhow::Result<Self> {
        let need = |value: &Option<String>, what: &str| required(value, who, what);
        Ok(Self {
            admin_token: need(&secrets.admin_token, "admin token (--admin-token)")?,
            init_secret: need(&secrets.init_secret, "initiation secret (--init-secret)")?,
            init_header: secrets.init_header.clone(),
            webhook_secret: need(&secrets.webhook_secret, "webhook secret (--webhook-secret)")?,
            ..Self::new(target)?
        })
    }

    /// A client of the server at `target`, with no credentials yet.
    fn new(target: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(1_024)
                .build()?,
            server: Server::new(target),
            admin_token: String::new(),
            tool_token: String::new(),
            init_secret: String::new(),
            init_header: String::new(),
            webhook_secret: String::new(),
        })
    }
}

/// `value`, or an error saying that `who` needs the server's `what`.
pub(crate) fn required(value: &Option<String>, who: &str, what: &str) -> anyhow::Result<String> {
    value
        .clone()
        .with_context(|| format!("{who} needs the server's {what}"))
}

/// Makes the measured caller: init, their `calls` (at least one, which binds their number),
/// their `memories` facts; waits for the workers.
pub(crate) async fn set_up_caller(
    remote: &Remote,
    memories: usize,
    calls: usize,
    seed: u64,
) -> anyhow::Result<Caller> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (caller, user_id) = introduce(remote, &mut rng).await?;
    let baseline = remote.server.progress(&remote.client).await?;
    let url = remote.server.target().url;
    let sent = calls.max(1);
    let mut calls = Generator::for_caller(&remote.webhook_secret, &caller.number, seed);
    for _ in 0..sent {
        let webhook = calls.next(crate::now_unix_secs());
        ensure!(
            send(&remote.client, &url, &webhook).await,
            "the caller's post-call webhook was refused"
        );
    }
    add_memories(remote, &user_id, memories, &mut rng).await?;
    println!("seeded; waiting for the workers to drain");
    remote
        .server
        .drain(
            &remote.client,
            baseline,
            sent as u64,
            Duration::from_secs(900),
        )
        .await?;
    Ok(caller)
}

/// A caller of a fresh number, introduced through conversation-init: the caller (their number,
/// a conversation and the identity token it issued) and the user the token names.
pub(crate) async fn introduce(
    remote: &Remote,
    rng: &mut StdRng,
) -> anyhow::Result<(Caller, String)> {
    let number = format!("+1628555{:04}", rng.random_range(0..10_000));
    let conversation_id = format!("conv_load_{:016x}", rng.random::<u64>());
    let token = init(remote, &number, &conversation_id)
        .await?
        .context("conversation-init gave no identity token: the server needs a signing key")?;
    let user_id = Claims::peek(&token)
        .context("the identity token does not parse")?
        .sub;
    let caller = Caller {
        number,
        conversation_id,
        token,
    };
    Ok((caller, user_id))
}

/// Adds `count` generated facts to `user_id` through the REST API.
pub(crate) async fn add_memories(
    remote: &Remote,
    user_id: &str,
    count: usize,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let now = i64::try_from(crate::now_unix_secs())? * 1000;
    let bodies: Vec<Value> = (0..count)
        .map(|_| {
            let fact = memory(rng, now - 90 * 86_400_000, now);
            json!({ "content": fact.content, "sector": fact.sector, "salience": fact.salience })
        })
        .collect();
    let next = Arc::new(AtomicU64::new(0));
    let bodies = Arc::new(bodies);
    let url = remote.server.url(&format!("/v1/users/{user_id}/memories"));
    let mut tasks = JoinSet::new();
    for _ in 0..SEED_CONCURRENCY {
        let (client, url, token) = (
            remote.client.clone(),
            url.clone(),
            remote.admin_token.clone(),
        );
        let (next, bodies) = (next.clone(), bodies.clone());
        tasks.spawn(async move {
            loop {
                let i = usize::try_from(next.fetch_add(1, Ordering::Relaxed))?;
                let Some(body) = bodies.get(i) else {
                    return anyhow::Ok(());
                };
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(body)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("adding a memory answered {}", response.status());
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Conversation-init for `number`: the identity token it issues (`None`: no signing key).
pub(crate) async fn init(
    remote: &Remote,
    number: &str,
    conversation_id: &str,
) -> anyhow::Result<Option<String>> {
    let response = init_request(remote, number, conversation_id).send().await?;
    ensure!(
        response.status().is_success(),
        "conversation-init answered {}",
        response.status()
    );
    let answer: Value = response.json().await?;
    Ok(answer["user_id"].as_str().map(str::to_owned))
}

fn init_request(remote: &Remote, number: &str, conversation_id: &str) -> reqwest::RequestBuilder {
    remote
        .client
        .post(remote.server.url(INIT_ROUTE))
        .header(remote.init_header.as_str(), remote.init_secret.as_str())
        .json(&json!({
            "caller_id": number,
            "called_number": "+14155550142",
            "agent_id": AGENT,
            "call_sid": format!("CA{:032x}", rand::random::<u128>()),
            "conversation_id": conversation_id,
        }))
}

/// One memory-query with a question distinct per `sequence`; `true` on a 200 with memories.
async fn ask(remote: &Remote, caller: &Caller, rng: &mut StdRng, sequence: u64) -> bool {
    let request = remote
        .client
        .post(remote.server.url(TOOL_ROUTE))
        .bearer_auth(&remote.tool_token)
        .json(&json!({
            "query": question(rng, sequence),
            "user_id": caller.token,
            "agent_id": AGENT,
            "conversation_id": caller.conversation_id,
        }));
    let Ok(response) = request.send().await else {
        return false;
    };
    if response.status() != reqwest::StatusCode::OK {
        return false;
    }
    response
        .json::<Value>()
        .await
        .is_ok_and(|answer| answer["memories"].as_array().is_some_and(|m| !m.is_empty()))
}

/// Memory-query closed-loop at `concurrency`: the client's figures and the server's mean (ms).
async fn measure(
    remote: &Remote,
    caller: &Caller,
    concurrency: usize,
    seconds: u64,
    label: &'static str,
) -> anyhow::Result<(Summary, f64)> {
    let before = remote.server.metrics(&remote.client).await?;
    let recorded = query_loop(remote, caller, concurrency, seconds).await;
    let after = remote.server.metrics(&remote.client).await?;
    let mut summary = Summary::new("query", "closed", label, &recorded);
    summary.concurrency = Some(concurrency);
    Ok((summary, server_mean_ms(&before, &after, TOOL_ROUTE)))
}

async fn query_loop(
    remote: &Remote,
    caller: &Caller,
    concurrency: usize,
    seconds: u64,
) -> Recorded {
    let sequence = Arc::new(AtomicU64::new(rand::random::<u32>().into()));
    let remote = Arc::new(remote.clone());
    let caller = Arc::new(caller.clone());
    closed_loop_with(concurrency, Duration::from_secs(seconds), |worker| {
        let (remote, caller, sequence) = (remote.clone(), caller.clone(), sequence.clone());
        let mut rng = StdRng::seed_from_u64(worker as u64 + 7);
        move || {
            let (remote, caller) = (remote.clone(), caller.clone());
            let n = sequence.fetch_add(1, Ordering::Relaxed);
            let mut rng = StdRng::seed_from_u64(rng.random::<u64>() ^ n);
            async move { ask(&remote, &caller, &mut rng, n).await }
        }
    })
    .await
}

/// Memory-query open-loop at `--query-rate` per second: the client's figures (each request
/// timed from when it was due) and the server's mean (ms).
async fn measure_open(
    remote: &Remote,
    caller: &Caller,
    args: &QueryArgs,
) -> anyhow::Result<(Summary, f64)> {
    let before = remote.server.metrics(&remote.client).await?;
    let count = usize::try_from(args.query_rate * args.seconds)?;
    let (remote_handle, caller_handle) = (Arc::new(remote.clone()), Arc::new(caller.clone()));
    let first: u64 = rand::random::<u32>().into();
    let (recorded, lag) = open_loop_with(count, args.query_rate, |i| {
        let (remote, caller) = (remote_handle.clone(), caller_handle.clone());
        let n = first + i as u64;
        async move {
            let mut rng = StdRng::seed_from_u64(n);
            ask(&remote, &caller, &mut rng, n).await
        }
    })
    .await;
    let after = remote.server.metrics(&remote.client).await?;
    println!(
        "open-loop scheduler max lag: {:.3} ms",
        lag.as_secs_f64() * 1000.0
    );
    let mut summary = Summary::new("query", "open", "query", &recorded);
    summary.rate = Some(args.query_rate);
    Ok((summary, server_mean_ms(&before, &after, TOOL_ROUTE)))
}

/// Conversation-init for the caller at one client.
async fn measure_init(
    remote: &Remote,
    caller: &Caller,
    seconds: u64,
) -> anyhow::Result<(Summary, f64)> {
    let before = remote.server.metrics(&remote.client).await?;
    let remote_handles = Arc::new(remote.clone());
    let number = caller.number.clone();
    let recorded = closed_loop_with(1, Duration::from_secs(seconds), |_| {
        let (remote, number) = (remote_handles.clone(), number.clone());
        move || {
            let (remote, number) = (remote.clone(), number.clone());
            async move {
                let conversation = format!("conv_init_{:016x}", rand::random::<u64>());
                let Ok(response) = init_request(&remote, &number, &conversation).send().await
                else {
                    return false;
                };
                response.status().is_success()
                    && response.json::<Value>().await.is_ok_and(|answer| {
                        answer["dynamic_variables"]["memory_context"]
                            .as_str()
                            .is_some_and(|context| !context.is_empty())
                    })
            }
        }
    })
    .await;
    let after = remote.server.metrics(&remote.client).await?;
    let mut summary = Summary::new("query", "closed", "conversation-init", &recorded);
    summary.concurrency = Some(1);
    Ok((summary, server_mean_ms(&before, &after, INIT_ROUTE)))
}

/// Memory-query at one client while other callers' calls arrive at `--ingest-rate`.
async fn measure_mixed(
    remote: &Remote,
    caller: &Caller,
    args: &QueryArgs,
    seed: u64,
) -> anyhow::Result<(Summary, f64)> {
    let mut generator = Generator::new(&remote.webhook_secret, 500, seed ^ 0x1157);
    let count = usize::try_from(args.ingest_rate * args.seconds)?;
    let now = crate::now_unix_secs();
    let webhooks = (0..count).map(|_| generator.next(now)).collect();
    let (client, targets, rate) = (
        remote.client.clone(),
        [remote.server.target()],
        args.ingest_rate,
    );
    let ingest = tokio::spawn(async move { open_loop(&client, &targets, webhooks, rate).await });
    let (mut summary, mean) =
        measure(remote, caller, 1, args.seconds, "query while ingesting").await?;
    let (acks, _) = ingest.await?;
    let acked = acks.first().map_or(0, |recorded| recorded.ok);
    println!("ingested {acked} of {count} calls while querying");
    summary.rate = Some(args.ingest_rate);
    Ok((summary, mean))
}

/// The server's mean time per request on `route` between two `/metrics` readings, in ms.
pub(crate) fn server_mean_ms(before: &str, after: &str, route: &str) -> f64 {
    let read = |text: &str, suffix: &str| {
        memvox_bus::metric_sum(
            text,
            &format!("memvox_http_request_duration_seconds_{suffix}"),
            &[("route", route)],
        )
    };
    let seconds = read(after, "sum") - read(before, "sum");
    let count = read(after, "count") - read(before, "count");
    if count > 0.0 {
        seconds / count * 1000.0
    } else {
        f64::NAN
    }
}
