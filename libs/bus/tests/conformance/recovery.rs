//! Recovery cases: trimming, the outbox reconciler, shutdown, and metrics.

use std::{sync::Arc, time::Duration};

use memvox_bus::{Bus, BusMetrics, BusSettings, EVENTS, EntryId, Reconciler, Worker, now_unix_ms};
use tokio_util::sync::CancellationToken;

use super::harness::{
    DEADLINE, Harness, MemOutbox, Mode, Recorder, drive_until, drive_until_idle, event, event_id,
    test_settings, worker_config,
};

const G: &str = "extraction";

async fn publish_n(bus: &dyn Bus, n: i64) {
    for i in 0..n {
        bus.publish(EVENTS, &event(i)).await.unwrap();
    }
}

async fn drain_and_ack(bus: &dyn Bus) {
    loop {
        let got = bus.read(EVENTS, G, "c", 50, Duration::ZERO).await.unwrap();
        if got.is_empty() {
            return;
        }
        let ids: Vec<EntryId> = got.into_iter().map(|d| d.id).collect();
        bus.ack(EVENTS, G, &ids).await.unwrap();
    }
}

fn small_stream() -> BusSettings {
    BusSettings {
        maxlen: 100,
        ..test_settings()
    }
}

/// With MAXLEN 100, unacked entries survive while fewer than 100 entries were published from the
/// oldest of them on, although the stream did trim older, acked entries.
pub async fn trimming_keeps_unacked_entries_within_the_window(h: &dyn Harness) {
    let bus = h.bus_with(small_stream());
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_n(bus.as_ref(), 150).await;
    drain_and_ack(bus.as_ref()).await;
    publish_n(bus.as_ref(), 30).await;
    let unacked = bus
        .read(EVENTS, G, "doomed", 30, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(unacked.len(), 30);
    publish_n(bus.as_ref(), 69).await; // window: 30 + 69 = 99 < 100
    let length = bus.stats(EVENTS).await.unwrap().length;
    assert!(length < 249, "the stream trimmed (length {length})");
    let claimed = bus
        .claim(EVENTS, G, "rescuer", Duration::ZERO, 100)
        .await
        .unwrap();
    assert!(claimed.lost.is_empty(), "lost {:?}", claimed.lost);
    let ids: Vec<EntryId> = claimed.deliveries.iter().map(|d| d.id.clone()).collect();
    let expected: Vec<EntryId> = unacked.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids, expected);
    assert!(claimed.deliveries.iter().all(|d| d.envelope.is_ok()));
    let fresh = bus
        .read(EVENTS, G, "rescuer", 100, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(fresh.len(), 69);
}

/// Beyond the window a pending entry can be trimmed; the claim reports it lost and drops it from
/// the pending list (the outbox reconciler covers it).
pub async fn trimming_beyond_the_window_reports_lost_entries(h: &dyn Harness) {
    let bus = h.bus_with(small_stream());
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_n(bus.as_ref(), 10).await;
    let unacked = bus
        .read(EVENTS, G, "doomed", 10, Duration::ZERO)
        .await
        .unwrap();
    publish_n(bus.as_ref(), 600).await;
    let claimed = bus
        .claim(EVENTS, G, "rescuer", Duration::ZERO, 100)
        .await
        .unwrap();
    let expected: Vec<EntryId> = unacked.into_iter().map(|d| d.id).collect();
    assert_eq!(claimed.lost, expected);
    assert!(claimed.deliveries.is_empty());
    assert_eq!(
        bus.stats(EVENTS).await.unwrap().group(G).unwrap().pending,
        0
    );
}

/// Four accepted events with a finishing worker (one message a step): rows 1–3 published,
/// row 4 never (the gateway crashed between the row write and the publish).
struct Accepted {
    bus: Arc<dyn Bus>,
    outbox: Arc<MemOutbox>,
    handler: Arc<Recorder>,
    worker: Worker,
    t0: u64,
}

async fn accepted(h: &dyn Harness) -> Accepted {
    let bus = h.bus();
    let outbox = Arc::new(MemOutbox::default());
    let handler = Recorder::finishing(Arc::clone(&outbox));
    let mut config = worker_config(EVENTS, G, "w1");
    config.batch_size = 1;
    let worker = Worker::new(Arc::clone(&bus), handler.clone(), config);
    bus.ensure_group(EVENTS, G).await.unwrap();
    let t0 = now_unix_ms();
    for id in 1..=3 {
        let envelope = outbox.accept(id, t0);
        bus.publish(EVENTS, &envelope).await.unwrap();
    }
    outbox.accept(4, t0);
    Accepted {
        bus,
        outbox,
        handler,
        worker,
        t0,
    }
}

/// Runs the worker until idle: every row finished, events 1–4 handled once each, in order.
async fn assert_each_handled_once(worker: &Worker, outbox: &MemOutbox, handler: &Recorder) {
    drive_until_idle(worker).await;
    assert!(outbox.unfinished().is_empty());
    let ids: Vec<i64> = handler.seen().iter().map(event_id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4], "each event handled once");
}

/// Rows whose messages are queued behind the group's backlog are not published again, however
/// old; once the group has caught up, a row still unfinished (its message lost) is.
pub async fn reconciler_waits_for_the_backlog(h: &dyn Harness) {
    let Accepted {
        bus,
        outbox,
        handler,
        worker: w,
        t0,
    } = accepted(h).await;
    let reconciler = Reconciler::new(
        Arc::clone(&bus),
        outbox.clone(),
        Duration::from_secs(60),
        10,
    )
    .waiting_for(EVENTS, G);
    assert_eq!(
        reconciler.reconcile_once(t0 + 61_000).await.unwrap(),
        0,
        "rows 1-3 are queued: nothing is published again while the group lags"
    );

    drive_until_idle(&w).await;
    assert_eq!(outbox.unfinished(), vec![4]);
    assert_eq!(
        reconciler.reconcile_once(t0 + 62_000).await.unwrap(),
        1,
        "caught up: the row whose message was lost"
    );
    assert_each_handled_once(&w, &outbox, &handler).await;
}

/// Messages lost with their stream (and a row never published at all) are re-published by the
/// reconciler and processed; finished rows are not re-published.
pub async fn reconciler_restores_lost_messages(h: &dyn Harness) {
    let Accepted {
        bus,
        outbox,
        handler,
        worker: w,
        t0,
    } = accepted(h).await;
    drive_until(&w, |t| t.sum.processed == 1).await;
    assert_eq!(outbox.unfinished(), vec![2, 3, 4]);

    bus.delete_stream(EVENTS).await.unwrap(); // Redis lost the stream, group included
    assert_eq!(bus.stats(EVENTS).await.unwrap().length, 0);

    let reconciler = Reconciler::new(Arc::clone(&bus), outbox.clone(), Duration::from_secs(60), 2);
    assert_eq!(
        reconciler.reconcile_once(t0 + 1_000).await.unwrap(),
        0,
        "within grace"
    );
    assert_eq!(reconciler.reconcile_once(t0 + 61_000).await.unwrap(), 3);
    assert_eq!(
        reconciler.reconcile_once(t0 + 62_000).await.unwrap(),
        0,
        "marked"
    );

    assert_each_handled_once(&w, &outbox, &handler).await;
    let republished = &handler.seen()[3];
    assert_eq!(republished.first_seen_ms, t0);
    assert_eq!(reconciler.reconcile_once(t0 + 200_000).await.unwrap(), 0);
}

/// `run` processes until cancelled, then returns; what it had not acked is claimable.
pub async fn run_stops_on_shutdown(h: &dyn Harness) {
    let bus = h.bus();
    let handler = Recorder::new(Mode::Succeed);
    let w = Arc::new(Worker::new(
        Arc::clone(&bus),
        handler.clone(),
        worker_config(EVENTS, G, "runner"),
    ));
    let token = CancellationToken::new();
    let task = {
        let (w, token) = (Arc::clone(&w), token.clone());
        tokio::spawn(async move { w.run(token).await })
    };
    publish_n(bus.as_ref(), 3).await;
    let start = std::time::Instant::now();
    while handler.seen().len() < 3 {
        assert!(
            start.elapsed() < DEADLINE,
            "run never processed the messages"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    token.cancel();
    tokio::time::timeout(DEADLINE, task)
        .await
        .expect("run did not stop")
        .unwrap();
    let stats = bus.stats(EVENTS).await.unwrap();
    assert_eq!(stats.group(G).unwrap().pending, 0);
    // Stopped: a message published now stays in the stream for the next member.
    bus.publish(EVENTS, &event(99)).await.unwrap();
    assert_eq!(
        bus.stats(EVENTS).await.unwrap().group(G).unwrap().lag,
        Some(1)
    );
}

/// The gauges follow the bus and the worker counts outcomes.
pub async fn metrics_follow_the_bus(h: &dyn Harness) {
    let bus = h.bus();
    let registry = prometheus::Registry::new();
    let metrics = BusMetrics::register(&registry).unwrap();
    let handler = Recorder::new(Mode::Permanent);
    let w = Worker::new(
        Arc::clone(&bus),
        handler.clone(),
        worker_config(EVENTS, G, "w"),
    )
    .with_metrics(metrics.clone());
    publish_n(bus.as_ref(), 1).await;
    drive_until_idle(&w).await;
    handler.set_mode(Mode::Succeed);
    publish_n(bus.as_ref(), 2).await;
    drive_until_idle(&w).await;
    publish_n(bus.as_ref(), 2).await;
    bus.read(EVENTS, G, "other", 1, Duration::ZERO)
        .await
        .unwrap();
    metrics.refresh(bus.as_ref(), &[EVENTS]).await.unwrap();

    let text = memvox_testkit::metrics_text(&registry);
    for line in [
        r#"memvox_stream_length{stream="events"} 5"#,
        r#"memvox_stream_dead_letters{stream="events"} 1"#,
        r#"memvox_stream_pending{group="extraction",stream="events"} 1"#,
        r#"memvox_stream_lag{group="extraction",stream="events"} 1"#,
        r#"memvox_bus_messages_total{group="extraction",outcome="processed",stream="events"} 2"#,
        r#"memvox_bus_messages_total{group="extraction",outcome="dead_lettered",stream="events"} 1"#,
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
}

/// The worker times each batch its handler runs and, for every message it acknowledges, the time
/// since the message was first published; a dead-lettered message is not aged.
pub async fn worker_times_batches_and_ages_acknowledged_messages(h: &dyn Harness) {
    let bus = h.bus();
    let registry = prometheus::Registry::new();
    let handler = Recorder::new(Mode::Succeed);
    let w = Worker::new(
        Arc::clone(&bus),
        handler.clone(),
        worker_config(EVENTS, G, "w"),
    )
    .with_metrics(BusMetrics::register(&registry).unwrap());
    let mut waited = event(1);
    waited.first_seen_ms = now_unix_ms() - 120_000;
    bus.publish(EVENTS, &waited).await.unwrap();
    bus.publish(EVENTS, &event(2)).await.unwrap();
    drive_until_idle(&w).await;
    handler.set_mode(Mode::Permanent);
    publish_n(bus.as_ref(), 1).await;
    drive_until_idle(&w).await;

    let text = memvox_testkit::metrics_text(&registry);
    let series = r#"{group="extraction",stream="events"}"#;
    for line in [
        format!("memvox_bus_batch_seconds_count{series} 2"),
        format!("memvox_bus_message_age_seconds_count{series} 2"),
        r#"memvox_bus_message_age_seconds_bucket{group="extraction",stream="events",le="60"} 1"#
            .to_owned(),
        r#"memvox_bus_message_age_seconds_bucket{group="extraction",stream="events",le="300"} 2"#
            .to_owned(),
    ] {
        assert!(text.contains(&line), "missing `{line}` in:\n{text}");
    }
}

/// Erasure's view of a stream: every entry can be read outside any group, acknowledged or not,
/// and deleted; a deleted entry that was pending is never delivered again.
pub async fn deleted_entries_are_gone_and_never_redelivered(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_n(bus.as_ref(), 3).await;
    let read = bus
        .read(EVENTS, G, "doomed", 3, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(read.len(), 3);
    bus.ack(EVENTS, G, &[read[0].id.clone()]).await.unwrap();

    let entries = bus.entries(EVENTS, None, 10).await.unwrap();
    let ids: Vec<EntryId> = entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, read.iter().map(|d| d.id.clone()).collect::<Vec<_>>());
    assert!(entries[1].payload.contains("conv_1"), "{:?}", entries[1]);
    let after_first = bus.entries(EVENTS, Some(&ids[0]), 10).await.unwrap();
    assert_eq!(after_first.len(), 2, "paged after the first");
    assert_eq!(bus.entries(EVENTS, None, 1).await.unwrap().len(), 1);

    let doomed = [ids[0].clone(), ids[1].clone()];
    assert_eq!(bus.delete_entries(EVENTS, &doomed).await.unwrap(), 2);
    assert_eq!(bus.delete_entries(EVENTS, &doomed).await.unwrap(), 0);
    let left: Vec<EntryId> = bus
        .entries(EVENTS, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left, [ids[2].clone()]);
    let claimed = bus
        .claim(EVENTS, G, "heir", Duration::ZERO, 10)
        .await
        .unwrap();
    let redelivered: Vec<EntryId> = claimed.deliveries.iter().map(|d| d.id.clone()).collect();
    assert_eq!(
        redelivered,
        [ids[2].clone()],
        "the deleted pending entry is dropped"
    );
    assert!(
        bus.entries("nothing_here", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
