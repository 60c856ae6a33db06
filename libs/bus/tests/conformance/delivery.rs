//! Delivery cases: order, pending lists, claims, attempt counting, concurrent members, stats.

use std::{collections::HashSet, sync::Arc, time::Duration};

use memvox_bus::{Bus, EVENTS, EntryId};

use super::harness::{CLAIM_IDLE, DEADLINE, Harness, event, event_id};

const G: &str = "extraction";
const LONG: Duration = Duration::from_secs(3600);

async fn publish_events(bus: &dyn Bus, range: std::ops::Range<i64>) -> Vec<EntryId> {
    let mut ids = Vec::new();
    for n in range {
        ids.push(bus.publish(EVENTS, &event(n)).await.unwrap());
    }
    ids
}

/// A batch published in one exchange is delivered in its order, after what came before.
pub async fn publishes_a_batch_in_order(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    let first = publish_events(bus.as_ref(), 0..2).await;
    let batch: Vec<_> = (2..7).map(event).collect();
    let ids = bus.publish_all(EVENTS, &batch).await.unwrap();
    assert_eq!(ids.len(), 5);
    assert!(bus.publish_all(EVENTS, &[]).await.unwrap().is_empty());
    let got = bus
        .read(EVENTS, G, "c1", 100, Duration::ZERO)
        .await
        .unwrap();
    let delivered: Vec<EntryId> = got.iter().map(|d| d.id.clone()).collect();
    assert_eq!(delivered, [first, ids].concat());
    let events: Vec<i64> = got
        .iter()
        .map(|d| event_id(d.envelope.as_ref().unwrap()))
        .collect();
    assert_eq!(events, (0..7).collect::<Vec<_>>());
}

/// Every message is delivered, once per read, in publication order, with attempt 1.
pub async fn reads_every_message_in_order(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    let published = publish_events(bus.as_ref(), 0..20).await;
    let mut got = Vec::new();
    loop {
        let batch = bus.read(EVENTS, G, "c1", 7, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            break;
        }
        got.extend(batch);
    }
    let ids: Vec<EntryId> = got.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids, published);
    let events: Vec<i64> = got
        .iter()
        .map(|d| event_id(d.envelope.as_ref().unwrap()))
        .collect();
    assert_eq!(events, (0..20).collect::<Vec<_>>());
    assert!(got.iter().all(|d| d.delivery_count == 1));
    assert!(
        got.iter()
            .all(|d| d.envelope.as_ref().unwrap().attempts == 1)
    );
}

/// A group created after messages were published still receives them (groups start at 0).
pub async fn group_created_late_sees_earlier_messages(h: &dyn Harness) {
    let bus = h.bus();
    publish_events(bus.as_ref(), 0..3).await;
    bus.ensure_group(EVENTS, G).await.unwrap();
    bus.ensure_group(EVENTS, G).await.unwrap();
    let got = bus.read(EVENTS, G, "c1", 10, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 3);
}

/// A read blocks until a message arrives rather than returning early.
pub async fn blocked_read_wakes_on_publish(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    let reader = {
        let bus = Arc::clone(&bus);
        tokio::spawn(async move { bus.read(EVENTS, G, "c1", 10, Duration::from_secs(5)).await })
    };
    tokio::task::yield_now().await;
    bus.publish(EVENTS, &event(1)).await.unwrap();
    let got = tokio::time::timeout(DEADLINE, reader)
        .await
        .expect("reader never woke")
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 1);
}

/// Reading makes entries pending; acking removes them; acking twice counts once.
pub async fn ack_removes_from_pending(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_events(bus.as_ref(), 0..4).await;
    let got = bus.read(EVENTS, G, "c1", 3, Duration::ZERO).await.unwrap();
    let stats = bus.stats(EVENTS).await.unwrap();
    let group = stats.group(G).unwrap();
    assert_eq!((stats.length, group.pending, group.lag), (4, 3, Some(1)));
    let ids: Vec<EntryId> = got.iter().take(2).map(|d| d.id.clone()).collect();
    assert_eq!(bus.ack(EVENTS, G, &ids).await.unwrap(), 2);
    assert_eq!(bus.ack(EVENTS, G, &ids).await.unwrap(), 0);
    let stats = bus.stats(EVENTS).await.unwrap();
    assert_eq!(stats.group(G).unwrap().pending, 1);
    // Acked entries are not delivered again, even to a claim with no idle requirement.
    let claimed = bus
        .claim(EVENTS, G, "c2", Duration::ZERO, 10)
        .await
        .unwrap();
    assert_eq!(claimed.deliveries.len(), 1);
    assert_eq!(claimed.deliveries[0].id, got[2].id);
}

/// A member that read a batch and died leaves it pending; another member claims it once idle.
pub async fn dead_members_entries_are_claimed_after_idle(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_events(bus.as_ref(), 0..5).await;
    let taken = bus
        .read(EVENTS, G, "doomed", 10, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(taken.len(), 5);
    // "doomed" never acks. Nothing is idle for an hour, so nothing can be claimed with that bar.
    let early = bus.claim(EVENTS, G, "rescuer", LONG, 10).await.unwrap();
    assert!(early.deliveries.is_empty());
    let start = std::time::Instant::now();
    let rescued = loop {
        let c = bus
            .claim(EVENTS, G, "rescuer", CLAIM_IDLE, 10)
            .await
            .unwrap();
        if !c.deliveries.is_empty() {
            break c;
        }
        assert!(start.elapsed() < DEADLINE, "entries never became claimable");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let ids: Vec<EntryId> = rescued.deliveries.iter().map(|d| d.id.clone()).collect();
    let expected: Vec<EntryId> = taken.iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids, expected);
    assert!(rescued.deliveries.iter().all(|d| d.delivery_count == 2));
    assert!(rescued.lost.is_empty());
    assert_eq!(bus.ack(EVENTS, G, &ids).await.unwrap(), 5);
    assert_eq!(
        bus.stats(EVENTS).await.unwrap().group(G).unwrap().pending,
        0
    );
}

/// Every delivery, by read or claim, counts one attempt; set_idle does not count one.
pub async fn delivery_attempts_are_counted(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_events(bus.as_ref(), 0..1).await;
    let first = bus.read(EVENTS, G, "c1", 1, Duration::ZERO).await.unwrap();
    assert_eq!(first[0].delivery_count, 1);
    for expected in 2..=4 {
        let c = bus.claim(EVENTS, G, "c2", Duration::ZERO, 1).await.unwrap();
        assert_eq!(c.deliveries[0].delivery_count, expected);
        assert_eq!(
            c.deliveries[0].envelope.as_ref().unwrap().attempts,
            expected
        );
    }
    bus.set_idle(EVENTS, G, "c2", &first[0].id, LONG)
        .await
        .unwrap();
    let c = bus.claim(EVENTS, G, "c3", LONG, 1).await.unwrap();
    assert_eq!(c.deliveries[0].delivery_count, 5);
}

/// set_idle schedules a retry: idle 0 hides an entry from claims, a long idle exposes it at once.
pub async fn set_idle_schedules_a_retry(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_events(bus.as_ref(), 0..1).await;
    let got = bus.read(EVENTS, G, "c1", 1, Duration::ZERO).await.unwrap();
    bus.set_idle(EVENTS, G, "c1", &got[0].id, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        bus.claim(EVENTS, G, "c2", LONG, 1)
            .await
            .unwrap()
            .deliveries
            .is_empty()
    );
    bus.set_idle(EVENTS, G, "c1", &got[0].id, LONG * 2)
        .await
        .unwrap();
    let c = bus.claim(EVENTS, G, "c2", LONG, 1).await.unwrap();
    assert_eq!(c.deliveries.len(), 1);
    assert_eq!(c.deliveries[0].id, got[0].id);
}

/// Members reading concurrently never receive the same entry.
pub async fn concurrent_members_never_share_an_entry(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    publish_events(bus.as_ref(), 0..200).await;
    let mut tasks = Vec::new();
    for member in 0..4 {
        let bus = Arc::clone(&bus);
        tasks.push(tokio::spawn(async move {
            let consumer = format!("m{member}");
            let mut mine = Vec::new();
            loop {
                let batch = bus
                    .read(EVENTS, G, &consumer, 5, Duration::ZERO)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                let ids: Vec<EntryId> = batch.iter().map(|d| d.id.clone()).collect();
                bus.ack(EVENTS, G, &ids).await.unwrap();
                mine.extend(ids);
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<&EntryId> = all.iter().collect();
    assert_eq!(all.len(), 200, "every entry delivered");
    assert_eq!(unique.len(), 200, "no entry delivered to two members");
}

/// Stats of a stream that never existed are zeros; ids are reported per group.
pub async fn stats_report_length_pending_and_lag_per_group(h: &dyn Harness) {
    let bus = h.bus();
    let empty = bus.stats("nothing-here").await.unwrap();
    assert_eq!((empty.length, empty.dead_letters), (0, 0));
    assert!(empty.groups.is_empty());
    bus.ensure_group(EVENTS, "a").await.unwrap();
    bus.ensure_group(EVENTS, "b").await.unwrap();
    publish_events(bus.as_ref(), 0..5).await;
    bus.read(EVENTS, "a", "c", 2, Duration::ZERO).await.unwrap();
    let stats = bus.stats(EVENTS).await.unwrap();
    assert_eq!(stats.length, 5);
    let (a, b) = (stats.group("a").unwrap(), stats.group("b").unwrap());
    assert_eq!((a.pending, a.lag, a.consumers), (2, Some(3), 1));
    assert_eq!((b.pending, b.lag, b.consumers), (0, Some(5), 0));
}

/// A read or claim on a group that does not exist is a distinct, non-retryable error.
pub async fn missing_group_is_reported(h: &dyn Harness) {
    let bus = h.bus();
    let err = bus
        .read(EVENTS, G, "c", 1, Duration::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(err, memvox_bus::BusError::NoGroup { .. }), "{err}");
    assert!(!err.retryable());
    bus.publish(EVENTS, &event(1)).await.unwrap();
    let err = bus
        .claim(EVENTS, G, "c", Duration::ZERO, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, memvox_bus::BusError::NoGroup { .. }), "{err}");
}
