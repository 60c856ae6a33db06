//! Cost of verifying an `ElevenLabs-Signature` over the 10.8 KB transcription fixture: the work the
//! gateway does on every webhook before acknowledging it.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memvox_elevenlabs::signature::{SignatureVerifier, sign};

const BODY: &[u8] = include_bytes!("../../../fixtures/elevenlabs/post_call_transcription.json");
const SECRET: &str = "wsec_test_secret";
const T: u64 = 1_767_225_645;

fn verify(c: &mut Criterion) {
    let header = sign(SECRET.as_bytes(), T, BODY);
    let one = SignatureVerifier::new([SECRET]).expect("valid secret");
    let rotating = SignatureVerifier::new(["wsec_new_secret", SECRET]).expect("valid secrets");

    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Bytes(BODY.len() as u64));
    group.bench_function("verify_10kb_one_secret", |b| {
        b.iter(|| one.verify(black_box(Some(header.as_bytes())), black_box(BODY), T + 60))
    });
    group.bench_function("verify_10kb_second_of_two_secrets", |b| {
        b.iter(|| rotating.verify(black_box(Some(header.as_bytes())), black_box(BODY), T + 60))
    });
    group.bench_function("reject_stale_10kb", |b| {
        b.iter(|| {
            one.verify(
                black_box(Some(header.as_bytes())),
                black_box(BODY),
                T + 7200,
            )
        })
    });
    group.bench_function("sign_10kb", |b| {
        b.iter(|| sign(black_box(SECRET.as_bytes()), T, black_box(BODY)))
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
