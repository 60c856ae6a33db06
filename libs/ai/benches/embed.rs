//! Embedding throughput on one core and model load time.
//!
//! Run: `taskset -c 0 cargo bench -p memvox-ai --bench embed` (add `--features minilm` for the
//! transformer, with `RAYON_NUM_THREADS=1` so candle stays on one core). Texts are the 327 facts and questions of `probes/retrieval/` (~7 words each);
//! throughput is reported in sentences (elements) per second.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memvox_ai::eval::ProbeSet;
use memvox_ai::{HashingEmbedder, StaticEmbedder};

fn sentences() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../probes/retrieval");
    let set = ProbeSet::load(&dir).expect("probe set");
    set.facts
        .into_iter()
        .map(|(_, t)| t)
        .chain(set.questions.into_iter().map(|(_, q)| q))
        .collect()
}

fn embed(c: &mut Criterion) {
    let texts = sentences();
    let static_model = StaticEmbedder::find(None).expect("bundled static model");
    let hashing = HashingEmbedder::new();
    let mut group = c.benchmark_group("embed");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("static", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(static_model.embed_sync(black_box(t)));
            }
        })
    });
    group.bench_function("hashing", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(hashing.embed_sync(black_box(t)));
            }
        })
    });
    group.finish();
}

fn load(c: &mut Criterion) {
    let dir = StaticEmbedder::find(None)
        .expect("bundled static model")
        .dir()
        .to_path_buf();
    let mut group = c.benchmark_group("load");
    group.sample_size(20);
    group.bench_function("static", |b| {
        b.iter(|| StaticEmbedder::load(black_box(&dir)).expect("load"))
    });
    group.finish();
}

#[cfg(feature = "minilm")]
fn minilm(c: &mut Criterion) {
    use memvox_ai::MiniLmEmbedder;
    let texts = sentences();
    let refs: Vec<&str> = texts.iter().take(64).map(String::as_str).collect();
    let model = MiniLmEmbedder::find(None).expect("run scripts/fetch-minilm.sh first");
    let mut group = c.benchmark_group("embed");
    group.sample_size(10);
    group.throughput(Throughput::Elements(refs.len() as u64));
    group.bench_function("minilm_batch32", |b| {
        b.iter(|| model.embed_sync(black_box(&refs)).expect("embed"))
    });
    group.bench_function("minilm_batch1", |b| {
        b.iter(|| {
            for t in &refs {
                black_box(model.embed_sync(&[black_box(*t)]).expect("embed"));
            }
        })
    });
    group.finish();
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("minilm", |b| {
        b.iter(|| MiniLmEmbedder::find(black_box(None)).expect("load"))
    });
    group.finish();
}

#[cfg(feature = "minilm")]
criterion_group!(benches, embed, load, minilm);
#[cfg(not(feature = "minilm"))]
criterion_group!(benches, embed, load);
criterion_main!(benches);
