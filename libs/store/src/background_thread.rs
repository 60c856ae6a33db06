//! Background threads: in `memvox serve` the work that can wait — the extraction and embedding
//! workers, and the database writer that serves them — runs on threads the OS schedules only
//! when no other thread wants the CPU, so that acknowledgements and answers go first.
//!
//! On Linux such a thread is `SCHED_IDLE`: it runs only on a CPU no normal thread wants, and a
//! normal thread waking up takes the CPU from it at once. At the lowest nice value (19) a thread
//! still kept the CPU for the rest of its turn when an acknowledgement's thread woke up; in
//! `memvox serve` at 1,000 deliveries/s that cost about 0.4 ms of the acknowledgement's p99
//! (README, "Performance"). Elsewhere the thread takes the lowest priority its OS offers.

use thread_priority::ThreadPriority;

/// Why the calling thread could not become a background thread.
pub type BackgroundError = thread_priority::Error;

/// Makes the calling thread a background thread (see the module documentation). Threads it
/// starts afterwards inherit the policy.
///
/// # Errors
/// When the OS refuses (the thread then keeps its priority).
pub fn enter_background() -> Result<(), BackgroundError> {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        )
    }
    #[cfg(not(target_os = "linux"))]
    {
        thread_priority::set_current_thread_priority(ThreadPriority::Min)
    }
}

#[cfg(all(test, target_os = "linux"))]
pub(crate) mod tests {
    use super::*;

    /// `SCHED_IDLE`'s number in `/proc/<pid>/task/<tid>/stat`.
    const SCHED_IDLE: i64 = 5;

    /// The scheduling policy of each of this process's threads whose name starts with `prefix`.
    pub(crate) fn policies_of_threads(prefix: &str) -> Vec<i64> {
        let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
        tasks
            .filter_map(|task| {
                let dir = task.ok()?.path();
                let name = std::fs::read_to_string(dir.join("comm")).ok()?;
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                // The fields after the parenthesised name: state is the 3rd, policy the 41st.
                let after_name = stat.rsplit_once(')')?.1;
                let policy = after_name.split_whitespace().nth(38)?.parse().ok()?;
                name.starts_with(prefix).then_some(policy)
            })
            .collect()
    }

    /// How many of this process's threads named `prefix…` are background threads.
    pub(crate) fn background_threads(prefix: &str) -> usize {
        policies_of_threads(prefix)
            .into_iter()
            .filter(|policy| *policy == SCHED_IDLE)
            .count()
    }

    #[test]
    fn a_background_thread_and_the_threads_it_starts_are_idle_scheduled() {
        let started = std::thread::Builder::new()
            .name("bg-test-parent".into())
            .spawn(|| {
                enter_background().expect("lowering a thread's priority needs no privilege");
                std::thread::Builder::new()
                    .name("bg-test-child".into())
                    .spawn(|| background_threads("bg-test-"))
                    .expect("thread")
                    .join()
                    .expect("child")
            })
            .expect("thread");
        assert_eq!(started.join().expect("parent"), 2, "parent and child idle");
        assert_eq!(background_threads("bg-test-"), 0, "both gone");
        assert!(
            policies_of_threads("").contains(&0),
            "the test's own threads stay normal"
        );
    }
}
