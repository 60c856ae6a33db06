//! Per-query latency and per-document throughput of local embedders, for choosing the default.
//!
//! Run: `cargo run -p memvox-ai --release [--features minilm] --example embed_latency -- \
//!        [--static DIR]... [--bert DIR]... [--iters N]`
//! with `RAYON_NUM_THREADS=1 taskset -c 0` for one core, or `RAYON_NUM_THREADS=2` for two
//! (candle's CPU matmuls run on rayon). `--bert` takes any BERT sentence-transformers directory
//! (config.json, model.safetensors, tokenizer.json) that `MiniLmEmbedder::load` reads.
//!
//! Queries are the 127 questions of `probes/retrieval/` (8-16 tokens), embedded one at a time as
//! the memory-query tool does; p50/p99 over `--iters` calls. Documents are "episodes" of ~30-80
//! words (a few probe facts joined as an agent turn and a caller turn), embedded the way the
//! ingestion worker would: one at a time for the static model, batches of 32 for a transformer.

use std::path::{Path, PathBuf};
use std::time::Instant;

use memvox_ai::eval::ProbeSet;
use memvox_ai::{AiError, StaticEmbedder};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut micros: Vec<f64>) {
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    println!(
        "  {name:<28} query p50 {:>9.1} µs  p99 {:>9.1} µs  mean {:>9.1} µs  (n={})",
        percentile(&micros, 0.5),
        percentile(&micros, 0.99),
        mean,
        micros.len()
    );
}

/// Times `f` once per query, cycling through `queries`, after a warm-up of 20 calls.
fn time_queries(queries: &[String], iters: usize, mut f: impl FnMut(&str)) -> Vec<f64> {
    for q in queries.iter().take(20) {
        f(q);
    }
    (0..iters)
        .map(|i| {
            let q = &queries[i % queries.len()];
            let t = Instant::now();
            f(q);
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect()
}

fn episodes(set: &ProbeSet) -> Vec<String> {
    let facts: Vec<&str> = set.facts.iter().map(|(_, t)| t.as_str()).collect();
    (0..facts.len())
        .map(|i| {
            let n = 3 + i % 5; // 3..7 facts: ~30-80 words
            let turn: Vec<&str> = (0..n)
                .map(|k| facts[(i * 7 + k * 13) % facts.len()])
                .collect();
            format!(
                "Agent: {} Caller: {}",
                turn[0],
                turn[1..].join(" ").to_lowercase()
            )
        })
        .collect()
}

fn main() -> Result<(), AiError> {
    let mut statics: Vec<PathBuf> = Vec::new();
    let mut berts: Vec<PathBuf> = Vec::new();
    let mut iters = 2000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--static" => statics.extend(args.next().map(PathBuf::from)),
            "--bert" => berts.extend(args.next().map(PathBuf::from)),
            "--iters" => iters = args.next().and_then(|n| n.parse().ok()).unwrap_or(iters),
            other => return Err(AiError::Config(format!("unknown argument `{other}`"))),
        }
    }
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../probes/retrieval");
    let set = ProbeSet::load(&probe)?;
    let queries: Vec<String> = set.questions.iter().map(|(_, q)| q.clone()).collect();
    let docs = episodes(&set);
    let words = docs
        .iter()
        .map(|d| d.split_whitespace().count())
        .sum::<usize>() as f64
        / docs.len() as f64;
    println!(
        "{} queries, {} episodes of {words:.0} words on average; RAYON_NUM_THREADS={}",
        queries.len(),
        docs.len(),
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into())
    );
    if statics.is_empty() && berts.is_empty() {
        statics.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/static-minilm-256"));
    }
    for dir in &statics {
        let t = Instant::now();
        let model = StaticEmbedder::load(dir)?;
        println!(
            "static {} (load {:.0} ms)",
            dir.display(),
            t.elapsed().as_secs_f64() * 1e3
        );
        report(
            "one query",
            time_queries(&queries, iters * 10, |q| {
                std::hint::black_box(model.embed_sync(q));
            }),
        );
        let t = Instant::now();
        let rounds = 20;
        for _ in 0..rounds {
            for d in &docs {
                std::hint::black_box(model.embed_sync(d));
            }
        }
        let per = t.elapsed().as_secs_f64() * 1e6 / (rounds * docs.len()) as f64;
        println!(
            "  episodes one at a time: {per:.1} µs per episode, {:.0} episodes/s",
            1e6 / per
        );
    }
    #[cfg(feature = "minilm")]
    for dir in &berts {
        let t = Instant::now();
        let model = memvox_ai::MiniLmEmbedder::load(dir)?;
        println!(
            "bert {} (load {:.0} ms)",
            dir.display(),
            t.elapsed().as_secs_f64() * 1e3
        );
        let q = time_queries(&queries, iters, |q| {
            std::hint::black_box(model.embed_sync(&[q]).expect("embed"));
        });
        report("one query", q);
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let t = Instant::now();
        std::hint::black_box(model.embed_sync(&refs)?);
        let per = t.elapsed().as_secs_f64() * 1e6 / refs.len() as f64;
        println!(
            "  episodes in batches of 32: {per:.0} µs per episode, {:.0} episodes/s",
            1e6 / per
        );
        let facts: Vec<&str> = set.facts.iter().map(|(_, f)| f.as_str()).collect();
        let t = Instant::now();
        std::hint::black_box(model.embed_sync(&facts)?);
        let per = t.elapsed().as_secs_f64() * 1e6 / facts.len() as f64;
        println!(
            "  facts in batches of 32: {per:.0} µs per fact, {:.0} facts/s",
            1e6 / per
        );
    }
    #[cfg(not(feature = "minilm"))]
    if !berts.is_empty() {
        return Err(AiError::Config("--bert needs `--features minilm`".into()));
    }
    Ok(())
}
