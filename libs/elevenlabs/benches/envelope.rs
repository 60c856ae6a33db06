//! Cost of parsing the 10.8 KB transcription fixture: the cheap head (gateway, per webhook)
//! against the full typed parse (worker).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memvox_elevenlabs::{EnvelopeHead, WebhookEvent};

const BODY: &[u8] = include_bytes!("../../../fixtures/elevenlabs/post_call_transcription.json");

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("envelope");
    group.throughput(Throughput::Bytes(BODY.len() as u64));
    group.bench_function("head_10kb", |b| {
        b.iter(|| EnvelopeHead::parse(black_box(BODY)).map(|head| head.event_timestamp))
    });
    group.bench_function("full_10kb", |b| {
        b.iter(|| WebhookEvent::parse(black_box(BODY)).map(|event| event.event_timestamp))
    });
    group.bench_function("serde_json_value_10kb", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(BODY)).is_ok())
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
