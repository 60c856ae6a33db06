//! Scenarios: each starts what it measures, drives it, prints and writes its figures.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use crate::AckArgs;
use crate::drive::{closed_loop, open_loop, send};
use crate::report::{Summary, print_header};
use crate::targets::{Target, start_bare, start_gateway};
use crate::traffic::Generator;

/// Requests sent to each target before measuring (connections, caches, SQLite pages).
const WARMUP_REQUESTS: usize = 500;

/// The `ack` scenario: see the crate documentation.
pub async fn ack(args: AckArgs) -> anyhow::Result<()> {
    let secret = format!("wsec_load_{:016x}", rand::random::<u64>());
    let (gateway, backends) =
        start_gateway(&secret, args.redis.as_deref(), args.store_connections).await?;
    let bare = start_bare().await?;
    let targets = [gateway, bare];
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4_096)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()?;
    let mut generator = Generator::new(&secret, args.callers, args.seed);
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
                args.seed,
            )
            .await;
            let mut summary = Summary::new("ack", "closed", target.name, &recorded);
            summary.concurrency = Some(args.concurrency);
            summaries.push(summary);
        }
    }
    backends.cleanup().await?;

    let bus = if args.redis.is_some() {
        "redis"
    } else {
        "in_process"
    };
    println!("scenario ack: gateway (SQLite, {bus} bus) vs bare axum handler, loopback");
    print_header();
    summaries.iter().for_each(Summary::print);
    let ratios = ratios(&summaries);
    println!(
        "ratios gateway/bare: {ratios}\nopen-loop scheduler max lag: {:.3} ms",
        lag.as_secs_f64() * 1000.0
    );
    let output = json!({
        "scenario": "ack",
        "bus": bus,
        "store": "sqlite",
        "store_connections": args.store_connections,
        "machine": { "cpus": std::thread::available_parallelism().map_or(0, usize::from) },
        "seconds": args.seconds,
        "scheduler_max_lag_ms": lag.as_secs_f64() * 1000.0,
        "results": summaries,
        "ratios": ratios,
    });
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_vec_pretty(&output)?)
        .with_context(|| format!("write {}", args.out.display()))?;
    println!("written to {}", args.out.display());
    Ok(())
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

/// Gateway figures divided by bare-handler figures, per mode.
fn ratios(summaries: &[Summary]) -> serde_json::Value {
    let find = |mode: &str, target: &str| {
        summaries
            .iter()
            .find(|s| s.mode == mode && s.target == target)
    };
    let mut ratios = serde_json::Map::new();
    for mode in ["open", "closed"] {
        if let (Some(gateway), Some(bare)) = (find(mode, "gateway"), find(mode, "bare")) {
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
