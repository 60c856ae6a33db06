//! Scenarios: each starts what it measures, drives it, prints and writes its figures.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use crate::AckArgs;
use crate::drive::{closed_loop, open_loop, send};
use crate::report::{Summary, print_header};
use crate::server::Server;
use crate::targets::{Target, start_bare, start_gateway};
use crate::traffic::Generator;

/// Requests sent to each target before measuring (connections, caches, SQLite pages).
const WARMUP_REQUESTS: usize = 500;

/// The `ack` scenario: see the crate documentation.
pub async fn ack(args: AckArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4_096)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()?;
    let server = args.target.as_deref().map(Server::new);
    let (tested, secret, backends, seed) = match &server {
        Some(server) => {
            let secret = args.secret.clone().context(
                "--target needs the server's webhook secret: --secret or \
                 MEMVOX_LOADTEST_WEBHOOK_SECRET",
            )?;
            // A running server keeps what earlier runs sent: fresh conversation ids each run.
            (
                server.target(),
                secret,
                None,
                args.seed ^ rand::random::<u64>(),
            )
        }
        None => {
            let secret = format!("wsec_load_{:016x}", rand::random::<u64>());
            let (gateway, backends) =
                start_gateway(&secret, args.redis.as_deref(), args.store_connections).await?;
            (gateway, secret, Some(backends), args.seed)
        }
    };
    let baseline = match &server {
        Some(server) => Some(server.progress(&client).await?),
        None => None,
    };
    let bare = start_bare().await?;
    let targets = [tested, bare];
    let mut generator = Generator::new(&secret, args.callers, seed);
    warm_up(&client, &targets, &mut generator).await?;

    let count = usize::try_from(args.rate * args.seconds)?;
    let now = crate::now_unix_secs();
    let webhooks = (0..count).map(|_| generator.next(now)).collect();
    let (open, lag) = open_loop(&client, &targets, webhooks, args.rate).await;
    let mut summaries = Vec::new();
    for (target, recorded) in targets.iter().zip(&open) {
        let mut summary = Summary::new("ack", "open", target.name, recorded);
        summary.rate = Some(args.rate);
        summaries.push(summary);
    }
    if args.concurrency > 0 {
        for target in &targets {
            let recorded = closed_loop(
                &client,
                target,
                &secret,
                args.concurrency,
                args.seconds,
                seed,
            )
            .await;
            let mut summary = Summary::new("ack", "closed", target.name, &recorded);
            summary.concurrency = Some(args.concurrency);
            summaries.push(summary);
        }
    }
    if let Some(backends) = backends {
        backends.cleanup().await?;
    }
    let tested = match (&args.target, &args.redis) {
        (Some(url), _) => format!("the server at {url}, its workers draining the calls"),
        (None, Some(_)) => "the gateway router (SQLite, redis bus)".to_owned(),
        (None, None) => "the gateway router (SQLite, in_process bus)".to_owned(),
    };
    println!("scenario ack: {tested} vs bare axum handler, loopback");
    print_header();
    summaries.iter().for_each(Summary::print);
    let ratios = ratios(&summaries, targets[0].name);
    println!(
        "ratios {}/bare: {ratios}\nopen-loop scheduler max lag: {:.3} ms",
        targets[0].name,
        lag.as_secs_f64() * 1000.0
    );
    // The figures are out before the wait for the backlog, which may time out.
    let drained = match (&server, baseline) {
        (Some(server), Some(baseline)) if args.drain_timeout > 0 => {
            let accepted = WARMUP_REQUESTS as u64
                + summaries
                    .iter()
                    .filter(|s| s.target == targets[0].name)
                    .map(|s| s.ok)
                    .sum::<u64>();
            let timeout = Duration::from_secs(args.drain_timeout);
            Some(server.drain(&client, baseline, accepted, timeout).await?)
        }
        _ => None,
    };
    if let Some(drained) = drained {
        println!(
            "backlog after the load: every call extracted {:.1} s later, streams empty {:.1} s later \
             (gauges refresh every 5 s)",
            drained.extracted_s, drained.settled_s
        );
    }
    let output = json!({
        "scenario": "ack",
        "tested": tested,
        "drained": drained,
        "store_connections": args.store_connections,
        "machine": { "cpus": std::thread::available_parallelism().map_or(0, usize::from) },
        "seconds": args.seconds,
        "scheduler_max_lag_ms": lag.as_secs_f64() * 1000.0,
        "results": summaries,
        "ratios": ratios,
    });
    crate::report::write_json(&args.out, &output)
}

async fn warm_up(
    client: &reqwest::Client,
    targets: &[Target],
    generator: &mut Generator,
) -> anyhow::Result<()> {
    for _ in 0..WARMUP_REQUESTS {
        let webhook = generator.next(crate::now_unix_secs());
        for target in targets {
            anyhow::ensure!(
                send(client, &target.url, &webhook).await,
                "warm-up request to {} failed",
                target.name
            );
        }
    }
    Ok(())
}

/// The tested target's figures divided by the bare handler's, per mode.
fn ratios(summaries: &[Summary], tested: &str) -> serde_json::Value {
    let find = |mode: &str, target: &str| {
        summaries
            .iter()
            .find(|s| s.mode == mode && s.target == target)
    };
    let mut ratios = serde_json::Map::new();
    for mode in ["open", "closed"] {
        if let (Some(gateway), Some(bare)) = (find(mode, tested), find(mode, "bare")) {
            ratios.insert(
                mode.to_owned(),
                json!({
                    "p50": gateway.p50_ms / bare.p50_ms,
                    "p99": gateway.p99_ms / bare.p99_ms,
                    "throughput": gateway.throughput_rps / bare.throughput_rps,
                }),
            );
        }
    }
    serde_json::Value::Object(ratios)
}
