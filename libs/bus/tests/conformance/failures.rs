//! Failure cases: retries with backoff, dead letters (list, show, replay, purge), malformed entries.

use std::{sync::Arc, time::Duration};

use memvox_bus::{Bus, BusError, EVENTS, EntryId, Worker};

use super::harness::{
    Harness, Mode, Recorder, drive_until, drive_until_idle, event, event_id, worker_config,
};

const G: &str = "extraction";

fn worker(bus: Arc<dyn Bus>, handler: Arc<Recorder>) -> Worker {
    Worker::new(bus, handler, worker_config(EVENTS, G, "w1"))
}

/// A retryable failure is retried with backoff, then dead-lettered after max attempts; replay puts
/// it back as a new entry whose attempts start over, and it is then processed.
pub async fn retries_then_dead_letters_then_replays(h: &dyn Harness) {
    let bus = h.bus();
    let handler = Recorder::new(Mode::Retry);
    let w = worker(Arc::clone(&bus), Arc::clone(&handler));
    bus.publish(EVENTS, &event(42)).await.unwrap();

    let totals = drive_until(&w, |t| t.sum.dead_lettered == 1).await;
    assert_eq!(totals.sum.retried, 2, "attempts 1 and 2 retried, 3 gave up");
    let attempts: Vec<u32> = handler.seen().iter().map(|e| e.attempts).collect();
    assert_eq!(attempts, vec![1, 2, 3]);

    let stats = bus.stats(EVENTS).await.unwrap();
    assert_eq!(
        (stats.dead_letters, stats.group(G).unwrap().pending),
        (1, 0)
    );
    let letters = bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!((letter.stream.as_str(), letter.group.as_str()), (EVENTS, G));
    assert_eq!(letter.attempts, 3);
    assert!(
        letter.reason.contains("gave up after 3 attempts"),
        "{}",
        letter.reason
    );
    assert!(letter.payload.contains("\"event_id\":42"));
    let shown = bus.get_dead_letter(EVENTS, &letter.id).await.unwrap();
    assert_eq!(shown.as_ref(), Some(letter));

    handler.set_mode(Mode::Succeed);
    let new_id = bus.replay_dead_letter(EVENTS, &letter.id).await.unwrap();
    assert_ne!(new_id, letter.origin_id);
    assert!(
        bus.list_dead_letters(EVENTS, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let err = bus
        .replay_dead_letter(EVENTS, &letter.id)
        .await
        .unwrap_err();
    assert!(matches!(err, BusError::NotFound(_)), "{err}");

    let totals = drive_until(&w, |t| t.sum.processed == 1).await;
    assert_eq!(totals.sum.dead_lettered, 0);
    let last = handler.seen().pop().unwrap();
    assert_eq!((event_id(&last), last.attempts), (42, 1));
    let stats = bus.stats(EVENTS).await.unwrap();
    assert_eq!(
        (stats.dead_letters, stats.group(G).unwrap().pending),
        (0, 0)
    );
}

/// A permanent failure is dead-lettered at once, without retries.
pub async fn permanent_failure_dead_letters_at_once(h: &dyn Harness) {
    let bus = h.bus();
    let handler = Recorder::new(Mode::Permanent);
    let w = worker(Arc::clone(&bus), Arc::clone(&handler));
    bus.publish(EVENTS, &event(1)).await.unwrap();
    let totals = drive_until_idle(&w).await;
    assert_eq!((totals.sum.dead_lettered, totals.sum.retried), (1, 0));
    assert_eq!(handler.seen().len(), 1);
    let letters = bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    assert!(
        letters[0]
            .reason
            .starts_with("permanent: references nothing")
    );
}

/// A message whose worker keeps dying on it (never reporting a failure) is dead-lettered once
/// it has been delivered more than max attempts times.
pub async fn crash_looping_message_is_dead_lettered(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    bus.publish(EVENTS, &event(9)).await.unwrap();
    bus.read(EVENTS, G, "crashed-0", 1, Duration::ZERO)
        .await
        .unwrap();
    for n in 1..3 {
        let c = bus
            .claim(EVENTS, G, &format!("crashed-{n}"), Duration::ZERO, 1)
            .await
            .unwrap();
        assert_eq!(c.deliveries.len(), 1);
    }
    let handler = Recorder::new(Mode::Succeed);
    let w = worker(Arc::clone(&bus), Arc::clone(&handler));
    let totals = drive_until(&w, |t| t.sum.dead_lettered == 1).await;
    assert_eq!(totals.sum.processed, 0);
    assert!(handler.seen().is_empty(), "the handler never sees it again");
    let letter = &bus.list_dead_letters(EVENTS, None, 1).await.unwrap()[0];
    assert_eq!(letter.attempts, 4);
    assert!(
        letter.reason.contains("without completing"),
        "{}",
        letter.reason
    );
}

/// Dead letters page in order; purge removes one or all.
pub async fn dead_letters_page_and_purge(h: &dyn Harness) {
    let bus = h.bus();
    bus.ensure_group(EVENTS, G).await.unwrap();
    for n in 0..5 {
        bus.publish(EVENTS, &event(n)).await.unwrap();
    }
    for d in bus.read(EVENTS, G, "c", 5, Duration::ZERO).await.unwrap() {
        bus.dead_letter(G, &d, "operator test").await.unwrap();
    }
    let first = bus.list_dead_letters(EVENTS, None, 2).await.unwrap();
    let rest = bus
        .list_dead_letters(EVENTS, Some(&first[1].id), 10)
        .await
        .unwrap();
    let order: Vec<i64> = first
        .iter()
        .chain(&rest)
        .map(|l| serde_json::from_str::<memvox_bus::Envelope>(&l.payload).unwrap())
        .map(|e| event_id(&e))
        .collect();
    assert_eq!(order, vec![0, 1, 2, 3, 4]);
    assert!(bus.purge_dead_letter(EVENTS, &first[0].id).await.unwrap());
    assert!(!bus.purge_dead_letter(EVENTS, &first[0].id).await.unwrap());
    assert_eq!(
        bus.get_dead_letter(EVENTS, &first[0].id).await.unwrap(),
        None
    );
    assert_eq!(bus.purge_dead_letters(EVENTS).await.unwrap(), 4);
    assert_eq!(bus.purge_dead_letters(EVENTS).await.unwrap(), 0);
    assert_eq!(bus.stats(EVENTS).await.unwrap().dead_letters, 0);
    assert_eq!(
        bus.stats(EVENTS).await.unwrap().group(G).unwrap().pending,
        0
    );
}

/// Bad JSON, an unknown kind and missing fields are dead-lettered with a reason and their raw
/// payload; the valid message after them is processed; the worker keeps going.
pub async fn malformed_entries_are_dead_lettered(h: &dyn Harness) {
    let bus = h.bus();
    let bad_json = "{this is not json";
    let unknown = r#"{"id":"x","first_seen_ms":1,"attempts":0,"message":{"kind":"Teleported"}}"#;
    let missing = r#"{"id":"y","first_seen_ms":1,"attempts":0,"message":{"kind":"EventAccepted"}}"#;
    h.publish_raw(EVENTS, bad_json).await;
    h.publish_raw(EVENTS, unknown).await;
    h.publish_raw(EVENTS, missing).await;
    bus.publish(EVENTS, &event(7)).await.unwrap();
    let handler = Recorder::new(Mode::Succeed);
    let w = worker(Arc::clone(&bus), Arc::clone(&handler));
    let totals = drive_until_idle(&w).await;
    assert_eq!((totals.sum.processed, totals.sum.dead_lettered), (1, 3));
    assert_eq!(
        handler.seen().iter().map(event_id).collect::<Vec<_>>(),
        vec![7]
    );
    let letters = bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    let found: Vec<(&str, &str)> = letters
        .iter()
        .map(|l| (l.payload.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(found[0].0, bad_json);
    assert!(found[0].1.contains("not JSON"), "{}", found[0].1);
    assert_eq!(found[1].0, unknown);
    assert!(found[1].1.contains("Teleported"), "{}", found[1].1);
    assert_eq!(found[2].0, missing);
    assert!(found[2].1.contains("missing field"), "{}", found[2].1);
    assert_eq!(
        bus.stats(EVENTS).await.unwrap().group(G).unwrap().pending,
        0
    );
}

/// Replaying a malformed dead letter dead-letters it again instead of looping or crashing.
pub async fn replayed_malformed_entry_returns_to_dead_letters(h: &dyn Harness) {
    let bus = h.bus();
    h.publish_raw(EVENTS, "nope").await;
    let handler = Recorder::new(Mode::Succeed);
    let w = worker(Arc::clone(&bus), Arc::clone(&handler));
    drive_until_idle(&w).await;
    let id: EntryId = bus.list_dead_letters(EVENTS, None, 1).await.unwrap()[0]
        .id
        .clone();
    bus.replay_dead_letter(EVENTS, &id).await.unwrap();
    let totals = drive_until_idle(&w).await;
    assert_eq!(totals.sum.dead_lettered, 1);
    let letters = bus.list_dead_letters(EVENTS, None, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].payload, "nope");
    assert!(handler.seen().is_empty());
}
