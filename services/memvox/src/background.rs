//! The workers' runtime in `memvox serve`: the extraction and embedding workers run on their
//! own Tokio runtime whose threads (its blocking pool's too) are background threads (they run
//! only when no other thread wants the CPU, see `memvox_store::enter_background`), so that when the CPU is short, the acknowledgement of a post-call webhook and the
//! answers of memory-query and conversation-init — on the main runtime, at normal priority —
//! go first, and the workers take what is left. Nothing is lost by it: an acknowledged event is
//! already stored, and the workers catch up as soon as the CPU is free. The separate services
//! (`memvox-extraction-worker`, …) are separate processes, prioritised by the OS as deployed.

use std::ops::Deref;

use memvox_store::enter_background;
use tokio::runtime::{Builder, Runtime};

/// The workers' runtime; dropped (also when start-up fails half-way, inside the main runtime)
/// it shuts down without waiting for its tasks.
pub struct Background(Option<Runtime>);

impl Deref for Background {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        self.0.as_ref().expect("the runtime lives until the drop")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A multi-threaded runtime whose threads make themselves background threads as they start.
pub fn runtime() -> std::io::Result<Background> {
    Builder::new_multi_thread()
        .thread_name("memvox-worker")
        .on_thread_start(|| {
            if let Err(error) = enter_background() {
                tracing::warn!(?error, "could not lower a worker thread's priority");
            }
        })
        .enable_all()
        .build()
        .map(|runtime| Background(Some(runtime)))
}
