//! The bus conformance suite: every case runs against the in-process bus and against Redis.
//!
//! Run with `cargo test -p memvox-bus --test conformance` (Redis at 127.0.0.1:6379, or set
//! `MEMVOX_TEST_REDIS_URL`). Each Redis case uses its own random key prefix and deletes its keys.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod delivery;
mod failures;
mod harness;
mod recovery;

/// Instantiates each listed case once per implementation, as `in_process::<case>` and
/// `redis::<case>`.
macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let h = crate::harness::InProcessHarness::new();
                    crate::$module::$case(&h).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let h = crate::harness::RedisHarness::new().await;
                    crate::$module::$case(&h).await;
                }
            )*
        }
    };
}

conformance!(
    delivery::reads_every_message_in_order,
    delivery::publishes_a_batch_in_order,
    delivery::group_created_late_sees_earlier_messages,
    delivery::blocked_read_wakes_on_publish,
    delivery::ack_removes_from_pending,
    delivery::dead_members_entries_are_claimed_after_idle,
    delivery::delivery_attempts_are_counted,
    delivery::set_idle_schedules_a_retry,
    delivery::concurrent_members_never_share_an_entry,
    delivery::stats_report_length_pending_and_lag_per_group,
    delivery::missing_group_is_reported,
    failures::retries_then_dead_letters_then_replays,
    failures::permanent_failure_dead_letters_at_once,
    failures::crash_looping_message_is_dead_lettered,
    failures::dead_letters_page_and_purge,
    failures::malformed_entries_are_dead_lettered,
    failures::replayed_malformed_entry_returns_to_dead_letters,
    recovery::trimming_keeps_unacked_entries_within_the_window,
    recovery::trimming_beyond_the_window_reports_lost_entries,
    recovery::reconciler_restores_lost_messages,
    recovery::reconciler_waits_for_the_backlog,
    recovery::deleted_entries_are_gone_and_never_redelivered,
    recovery::run_stops_on_shutdown,
    recovery::metrics_follow_the_bus,
    recovery::worker_times_batches_and_ages_acknowledged_messages,
);

/// Redis-only: entries the bus would never write, straight into the stream.
mod redis_only {
    use std::sync::Arc;

    use memvox_bus::{Bus, EVENTS, Worker};

    use crate::harness::{Harness, Mode, Recorder, RedisHarness, drive_until_idle, worker_config};

    #[tokio::test]
    async fn entry_without_payload_field_is_dead_lettered() {
        let h = RedisHarness::new().await;
        let mut conn = h.raw_connection().await;
        let key = h.redis_bus().keys().stream(EVENTS);
        let _: String = redis::cmd("XADD")
            .arg(&key)
            .arg("*")
            .arg("source")
            .arg("someone else")
            .query_async(&mut conn)
            .await
            .unwrap();
        let bus: Arc<dyn Bus> = h.bus();
        let handler = Recorder::new(Mode::Succeed);
        let w = Worker::new(
            Arc::clone(&bus),
            handler.clone(),
            worker_config(EVENTS, "g", "w"),
        );
        let totals = drive_until_idle(&w).await;
        assert_eq!(totals.sum.dead_lettered, 1);
        let letter = &bus.list_dead_letters(EVENTS, None, 1).await.unwrap()[0];
        assert!(
            letter.reason.contains("no `envelope` field"),
            "{}",
            letter.reason
        );
        assert_eq!(letter.payload, r#"{"source":"someone else"}"#);
        assert!(handler.seen().is_empty());
    }

    #[tokio::test]
    async fn keys_live_under_the_prefix_with_a_hash_tag() {
        let h = RedisHarness::new().await;
        let bus = h.bus();
        bus.publish(EVENTS, &crate::harness::event(1))
            .await
            .unwrap();
        let mut conn = h.raw_connection().await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(h.redis_bus().keys().pattern())
            .query_async(&mut conn)
            .await
            .unwrap();
        let prefix = h.redis_bus().keys().prefix().to_owned();
        assert_eq!(keys, vec![format!("{prefix}:stream:{{events}}")]);
    }
}
