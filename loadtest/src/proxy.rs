//! Scenario `proxy`: the time the custom-LLM proxy adds to an agent's first streamed token.
//!
//! A fake streaming LLM ([`crate::fake_llm`]) runs in this process on `--upstream-listen`; the
//! memvox under test (`--target`, e.g. `memvox serve`) must forward its proxy there
//! (`query.llm_proxy.upstream_url`). One caller is set up as ElevenLabs and an operator would:
//! conversation-init for their number, a signed post-call webhook of a call from it (the worker
//! binds the number to them) and `--memories` facts through the REST API, and the run waits for the
//! workers; then their next call starts — conversation-init again (the identity token the
//! conversation's `user_id` carries; it loads the caller's index ahead of the call) and, a second
//! later, a first turn, reported on its own. Then each closed-loop worker sends the same turn — a
//! system prompt, a short history, a tool, a distinct question per turn (no answer-cache hit) — to
//! the fake LLM directly and through the proxy, in alternating order, and records the time to the
//! first streamed chunk of each. The figures are both distributions, the proxy's percentiles minus
//! the direct ones (the added time) and their ratio; beside them the server's own counts (turns
//! with memories, fail-opens by reason) and its mean memory-lookup time and the lookups over 10 ms, from `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use memvox_query::llm_proxy::PATH;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::ProxyArgs;
use crate::drive::Recorded;
use crate::fake_llm::{self, DIRECT_HEADER, Pace, Seen};
use crate::population::question;
use crate::report::{Summary, print_header};
use crate::serve_query::{AGENT, Remote, init, required, set_up_caller};

/// A system prompt of a realistic length (about 1,000 characters).
const SYSTEM_PROMPT: &str = "You are Ava, the voice assistant of Northwind Pharmacy. Speak in short, \
friendly sentences: the caller hears you, so never use lists, markdown or long numbers. Greet \
returning callers by name when you know it. You can look up prescriptions, move a refill to \
another store, note the caller's preferred callback times and answer questions about opening \
hours. Never give medical advice: for anything about doses, side effects or interactions, offer \
to transfer the caller to a pharmacist. If the caller asks for something you cannot do, say so \
plainly and offer what you can do instead. Confirm every change before you make it by repeating \
it once. When the caller says goodbye or has nothing more, thank them and end the call with the \
end_call tool. Keep every answer under three sentences unless the caller asks for more detail.";

/// The scenario (see the module documentation).
pub async fn proxy(args: &ProxyArgs) -> anyhow::Result<()> {
    let pace = Pace {
        first_token: Duration::from_millis(args.first_token_ms),
        chunks: args.chunks,
        chunk_interval: Duration::from_millis(args.chunk_ms),
    };
    let (upstream, seen) = fake_llm::start(args.upstream_listen, pace).await?;
    let remote = Remote::with_secrets(&args.target, &args.secrets, "the proxy scenario")?;
    let llm_token = required(
        &args.llm_token,
        "the proxy scenario",
        "LLM token (--llm-token)",
    )?;
    let (turn, first) = set_up(&remote, args, &upstream, &seen, llm_token).await?;
    let mut summaries = Vec::new();
    let mut phases = Vec::new();
    for &concurrency in &args.concurrency {
        let before = remote.server.metrics(&remote.client).await?;
        let seen_before = seen.counts();
        let (direct, proxied) = paired_loop(&turn, concurrency, args.seconds).await;
        let after = remote.server.metrics(&remote.client).await?;
        let seen_after = seen.counts();
        let mut direct = Summary::new("proxy", "closed", "first token direct", &direct);
        let mut proxied = Summary::new("proxy", "closed", "first token via proxy", &proxied);
        direct.concurrency = Some(concurrency);
        proxied.concurrency = Some(concurrency);
        phases.push(phase(
            &direct,
            &proxied,
            &before,
            &after,
            seen_before,
            seen_after,
        ));
        summaries.extend([direct, proxied]);
    }
    println!(
        "scenario proxy: the server at {}, one caller with {} facts, fake LLM first token after \
         {} ms",
        args.target, args.memories, args.first_token_ms
    );
    println!(
        "first turn of the call (1 s after conversation-init): first token after {:.3} ms, {}",
        first.first_token_ms,
        if first.with_memories {
            "with memories"
        } else {
            "without memories"
        }
    );
    print_header();
    summaries.iter().for_each(Summary::print);
    for phase in &phases {
        println!("{}", serde_json::to_string(phase)?);
    }
    let output = json!({
        "scenario": "proxy",
        "tested": format!("the server at {}", args.target),
        "memories": args.memories,
        "first_token_ms": args.first_token_ms,
        "machine": { "cpus": std::thread::available_parallelism().map_or(0, usize::from) },
        "seconds": args.seconds,
        "first_turn": first,
        "results": summaries,
        "phases": phases,
    });
    crate::report::write_json(&args.out, &output)
}

/// What every measured turn needs: where to send it and who it is from.
struct Turn {
    client: reqwest::Client,
    direct_url: String,
    proxy_url: String,
    llm_token: String,
    token: String,
    conversation_id: String,
    next: AtomicU64,
}

/// The first proxied turn of the measured call: its first-token time and whether it reached the
/// fake LLM with memories.
#[derive(Debug, Clone, Copy, serde::Serialize)]
struct FirstTurn {
    first_token_ms: f64,
    with_memories: bool,
}

/// Makes the caller as the `query` scenario does (init, one signed call, which binds their
/// number, and the facts; then waits for the workers), then starts the measured call as
/// ElevenLabs would — conversation-init for a new conversation, which loads the caller's index ahead of
/// the call, and a first turn a second later (after the agent's greeting) — and checks that the
/// turn reached the fake LLM.
async fn set_up(
    remote: &Remote,
    args: &ProxyArgs,
    upstream: &str,
    seen: &Seen,
    llm_token: String,
) -> anyhow::Result<(Arc<Turn>, FirstTurn)> {
    let seed = args.seed ^ rand::random::<u64>();
    let caller = set_up_caller(remote, args.memories, 1, seed).await?;
    let conversation_id = format!("{}_next", caller.conversation_id);
    let token = init(remote, &caller.number, &conversation_id)
        .await?
        .context("conversation-init gave no identity token")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let turn = Arc::new(Turn {
        client: remote.client.clone(),
        direct_url: format!("{upstream}/chat/completions"),
        proxy_url: remote.server.url(PATH),
        llm_token,
        token,
        conversation_id,
        next: AtomicU64::new(rand::random::<u32>().into()),
    });
    let (_, forwarded, with_memories) = seen.counts();
    let first = first_token(&turn, false).await;
    let (_, forwarded_after, with_memories_after) = seen.counts();
    let Some(first) = first.filter(|_| forwarded_after > forwarded) else {
        bail!(
            "a turn sent to {PATH} did not reach the fake LLM: start the server with \
             MEMVOX_QUERY__LLM_PROXY__ENABLED=true MEMVOX_QUERY__LLM_PROXY__UPSTREAM_URL={upstream} \
             and the LLM token's digest in MEMVOX_QUERY__LLM_PROXY__TOKEN_SHA256"
        );
    };
    let first = FirstTurn {
        first_token_ms: first.as_secs_f64() * 1000.0,
        with_memories: with_memories_after > with_memories,
    };
    Ok((turn, first))
}

/// The body of a turn asking question `n`.
fn body(n: u64, identity: Option<&str>) -> Value {
    let mut rng = StdRng::seed_from_u64(n);
    let mut body = json!({
        "model": "memvox",
        "stream": true,
        "temperature": 0.5,
        "max_tokens": 300,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "assistant", "content": "Hi, this is Ava from Northwind Pharmacy. How can I help?"},
            {"role": "user", "content": "Hi, I have a quick question."},
            {"role": "assistant", "content": "Of course, go ahead."},
            {"role": "user", "content": question(&mut rng, n)}
        ],
        "tools": [{"type": "function", "function": {
            "name": "end_call", "description": "End the call.",
            "parameters": {"type": "object", "properties": {}}}}]
    });
    if let Some(token) = identity {
        body["user_id"] = json!(token);
    }
    body
}

/// Sends a turn (to the fake LLM itself, or through the proxy) and reads its whole stream: the
/// time to its first chunk, or `None` when it failed.
async fn first_token(turn: &Turn, direct: bool) -> Option<Duration> {
    let n = turn.next.fetch_add(1, Ordering::Relaxed);
    let request = if direct {
        turn.client
            .post(&turn.direct_url)
            .header(DIRECT_HEADER, "1")
            .json(&body(n, None))
    } else {
        turn.client
            .post(&turn.proxy_url)
            .bearer_auth(&turn.llm_token)
            .header("x-memvox-agent-id", AGENT)
            .header("x-memvox-conversation-id", &turn.conversation_id)
            .json(&body(n, Some(&turn.token)))
    };
    let sent = Instant::now();
    let mut response = request.send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let first = response.chunk().await.ok()??;
    let took = sent.elapsed();
    if !first.starts_with(b"data: ") {
        return None;
    }
    while response.chunk().await.ok()?.is_some() {}
    Some(took)
}

/// `concurrency` workers, each sending turns directly and through the proxy in alternating
/// order for `seconds`: the first-token times of each path.
async fn paired_loop(turn: &Arc<Turn>, concurrency: usize, seconds: u64) -> (Recorded, Recorded) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for worker in 0..concurrency {
        let turn = turn.clone();
        workers.spawn(async move {
            let (mut direct, mut proxied) = (Recorded::new(), Recorded::new());
            let mut direct_first = worker % 2 == 0;
            while Instant::now() < deadline {
                for path_is_direct in [direct_first, !direct_first] {
                    let took = first_token(&turn, path_is_direct).await;
                    let recorded = if path_is_direct {
                        &mut direct
                    } else {
                        &mut proxied
                    };
                    recorded.record(took.is_some(), took.unwrap_or_default());
                }
                direct_first = !direct_first;
            }
            (direct, proxied)
        });
    }
    let (mut direct, mut proxied) = (Recorded::new(), Recorded::new());
    while let Some(Ok((d, p))) = workers.join_next().await {
        merge(&mut direct, &d);
        merge(&mut proxied, &p);
    }
    direct.elapsed = started.elapsed();
    proxied.elapsed = direct.elapsed;
    (direct, proxied)
}

fn merge(into: &mut Recorded, from: &Recorded) {
    into.ok += from.ok;
    into.errors += from.errors;
    let _ = into.histogram.add(&from.histogram);
}

/// One concurrency's comparison: added time and ratio per percentile, and what the server and
/// the fake LLM saw.
fn phase(
    direct: &Summary,
    proxied: &Summary,
    before: &str,
    after: &str,
    seen_before: (u64, u64, u64),
    seen_after: (u64, u64, u64),
) -> Value {
    let delta = |name: &str, labels: &[(&str, &str)]| {
        memvox_bus::metric_sum(after, name, labels) - memvox_bus::metric_sum(before, name, labels)
    };
    let contexts = [
        "added",
        "no_memories",
        "unknown_caller",
        "no_user_message",
        "failed_open",
    ];
    let context: serde_json::Map<String, Value> = contexts
        .iter()
        .map(|c| {
            let n = delta("memvox_llm_proxy_requests_total", &[("context", c)]);
            ((*c).to_owned(), json!(n))
        })
        .collect();
    let failed: serde_json::Map<String, Value> = ["timeout", "error", "busy"]
        .iter()
        .map(|r| {
            let n = delta("memvox_llm_proxy_failed_open_total", &[("reason", r)]);
            ((*r).to_owned(), json!(n))
        })
        .collect();
    let lookups = delta("memvox_llm_proxy_lookup_seconds_count", &[]);
    let within_10ms = delta("memvox_llm_proxy_lookup_seconds_bucket", &[("le", "0.01")]);
    let lookup_ms = delta("memvox_llm_proxy_lookup_seconds_sum", &[]) / lookups * 1000.0;
    json!({
        "concurrency": direct.concurrency,
        "added_ms": {
            "p50": proxied.p50_ms - direct.p50_ms,
            "p95": proxied.p95_ms - direct.p95_ms,
            "p99": proxied.p99_ms - direct.p99_ms,
        },
        "ratio": {
            "p50": proxied.p50_ms / direct.p50_ms,
            "p95": proxied.p95_ms / direct.p95_ms,
            "p99": proxied.p99_ms / direct.p99_ms,
        },
        "server_context": context,
        "server_failed_open": failed,
        "server_lookup_mean_ms": lookup_ms,
        "server_lookups_over_10ms": lookups - within_10ms,
        "llm_saw_forwarded": seen_after.1 - seen_before.1,
        "llm_saw_with_memories": seen_after.2 - seen_before.2,
    })
}
