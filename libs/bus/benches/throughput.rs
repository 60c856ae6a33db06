//! Bus throughput and latency, on the in-process bus and on Redis.
//!
//! `cargo bench -p memvox-bus --bench throughput`. Criterion measures publish throughput (one
//! publisher, and 16 concurrent ones) and consume throughput (read 100 + ack per round trip);
//! after it, a ping-pong run prints publish→consume latency percentiles (one message in flight,
//! consumer blocked in `read`). Redis runs use a random key prefix and delete their keys; they are
//! skipped when Redis is not reachable (`MEMVOX_TEST_REDIS_URL`, default 127.0.0.1:6379).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput};
use memvox_bus::{Bus, BusSettings, EVENTS, EntryId, Envelope, InProcessBus, Message, RedisBus};
use tokio::runtime::Runtime;

const GROUP: &str = "bench";

fn settings() -> BusSettings {
    BusSettings {
        redis_url: memvox_testkit::redis_url(),
        key_prefix: memvox_testkit::unique("bench:"),
        maxlen: 10_000_000,
        pool_size: 32,
        ..BusSettings::default()
    }
}

fn message(n: i64) -> Envelope {
    Envelope::new(Message::EventAccepted {
        event_id: n,
        event_type: "post_call_transcription".into(),
        conversation_id: format!("conv_{n}"),
    })
}

async fn reset(bus: &dyn Bus) {
    bus.delete_stream(EVENTS).await.expect("delete stream");
    bus.ensure_group(EVENTS, GROUP).await.expect("group");
}

async fn publish_concurrently(bus: &Arc<dyn Bus>, total: u64, publishers: u64) {
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let bus = Arc::clone(bus);
        let share = total / publishers + u64::from(p < total % publishers);
        tasks.push(tokio::spawn(async move {
            for n in 0..share {
                bus.publish(EVENTS, &message(n as i64))
                    .await
                    .expect("publish");
            }
        }));
    }
    for t in tasks {
        t.await.expect("publisher");
    }
}

async fn consume(bus: &dyn Bus, total: u64) {
    let mut done = 0;
    while done < total {
        let got = bus
            .read(EVENTS, GROUP, "c", 100, Duration::from_millis(100))
            .await
            .expect("read");
        let ids: Vec<EntryId> = got.into_iter().map(|d| d.id).collect();
        bus.ack(EVENTS, GROUP, &ids).await.expect("ack");
        done += ids.len() as u64;
    }
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, name: &str, bus: &Arc<dyn Bus>) {
    let mut group = c.benchmark_group(format!("bus/{name}"));
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("publish", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let bus = Arc::clone(bus);
            async move {
                reset(bus.as_ref()).await;
                let start = Instant::now();
                publish_concurrently(&bus, iters, 1).await;
                start.elapsed()
            }
        });
    });
    group.bench_function("publish_16_concurrent", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let bus = Arc::clone(bus);
            async move {
                reset(bus.as_ref()).await;
                let start = Instant::now();
                publish_concurrently(&bus, iters, 16).await;
                start.elapsed()
            }
        });
    });
    group.bench_function("consume_read100_ack", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let bus = Arc::clone(bus);
            async move {
                reset(bus.as_ref()).await;
                publish_concurrently(&bus, iters, 16).await;
                let start = Instant::now();
                consume(bus.as_ref(), iters).await;
                start.elapsed()
            }
        });
    });
    group.finish();
}

/// Publishes one message at a time and waits for a blocked consumer to receive and ack it.
async fn ping_pong(bus: Arc<dyn Bus>, rounds: usize) -> Vec<Duration> {
    reset(bus.as_ref()).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let consumer = {
        let bus = Arc::clone(&bus);
        tokio::spawn(async move {
            let mut seen = 0;
            while seen < rounds {
                let got = bus
                    .read(EVENTS, GROUP, "c", 10, Duration::from_secs(1))
                    .await
                    .expect("read");
                let at = Instant::now();
                let ids: Vec<EntryId> = got.into_iter().map(|d| d.id).collect();
                bus.ack(EVENTS, GROUP, &ids).await.expect("ack");
                for _ in &ids {
                    tx.send(at).expect("channel");
                }
                seen += ids.len();
            }
        })
    };
    let mut latencies = Vec::with_capacity(rounds);
    for n in 0..rounds {
        let sent = Instant::now();
        bus.publish(EVENTS, &message(n as i64))
            .await
            .expect("publish");
        let received = rx.recv().await.expect("consumer");
        latencies.push(received - sent);
    }
    consumer.await.expect("consumer task");
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report_latency(rt: &Runtime, name: &str, bus: &Arc<dyn Bus>) {
    let rounds = 5_000;
    let sorted = rt.block_on(ping_pong(Arc::clone(bus), rounds));
    println!(
        "latency bus/{name} publish→consume ({rounds} rounds, one in flight): p50 {:?}  p99 {:?}  max {:?}",
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted[sorted.len() - 1],
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let settings = settings();
    let mut backends: Vec<(&str, Arc<dyn Bus>)> =
        vec![("in_process", Arc::new(InProcessBus::new(settings.maxlen)))];
    let redis = rt.block_on(RedisBus::connect(&settings));
    match &redis {
        Ok(bus) => backends.push(("redis", Arc::new(bus.clone()))),
        Err(e) => println!("skipping Redis benches: {e}"),
    }
    let mut criterion = Criterion::default().configure_from_args();
    for (name, bus) in &backends {
        bench_backend(&mut criterion, &rt, name, bus);
    }
    for (name, bus) in &backends {
        report_latency(&rt, name, bus);
    }
    for (_, bus) in &backends {
        rt.block_on(bus.delete_stream(EVENTS)).expect("cleanup");
    }
    criterion.final_summary();
}
