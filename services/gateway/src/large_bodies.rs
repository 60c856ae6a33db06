//! A cap on how many large request bodies are read and held at once.
//!
//! Every body is held whole while it is verified and stored (the signature covers the exact
//! bytes), so memory grows with the number of large bodies in flight. A body needs a slot once it
//! is larger than `gateway.large_body_bytes` (declared, or once that many bytes arrived); with
//! all `gateway.max_concurrent_large_bodies` slots taken it is refused at once with 503 and
//! `Retry-After` rather than queued: a waiting request would hold its connection and its bytes
//! so far, and ElevenLabs retries 5xx. The slot is released when the request's answer is ready.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::GatewayError;

/// Seconds a refused sender is asked to wait before retrying.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The slots for large bodies. Cheap to clone; clones share the slots.
#[derive(Debug, Clone)]
pub struct LargeBodies {
    threshold: usize,
    slots: Arc<Semaphore>,
}

/// A taken slot (or none, for a small body), released on drop.
#[derive(Debug, Default)]
pub(crate) struct Slot(Option<OwnedSemaphorePermit>);

impl LargeBodies {
    /// `max` slots for bodies larger than `threshold` bytes.
    pub fn new(threshold: usize, max: usize) -> Self {
        Self {
            threshold,
            slots: Arc::new(Semaphore::new(max)),
        }
    }

    /// Takes a slot into `slot` if `bytes` makes the body large and it holds none yet.
    ///
    /// # Errors
    /// [`GatewayError::Busy`] when every slot is taken.
    pub(crate) fn reserve(&self, slot: &mut Slot, bytes: usize) -> Result<(), GatewayError> {
        if slot.0.is_some() || bytes <= self.threshold {
            return Ok(());
        }
        let permit = self.slots.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!(
                threshold = self.threshold,
                "large post-call body refused: every large-body slot is taken"
            );
            GatewayError::Busy {
                retry_after_secs: RETRY_AFTER_SECS,
            }
        })?;
        slot.0 = Some(permit);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_bodies_take_slots_and_a_dropped_slot_frees_one() {
        let bodies = LargeBodies::new(10, 1);
        let mut small = Slot::default();
        bodies.reserve(&mut small, 10).unwrap();
        assert!(small.0.is_none(), "at the threshold a body is not large");

        let mut first = Slot::default();
        bodies.reserve(&mut first, 11).unwrap();
        bodies.reserve(&mut first, 20).unwrap();
        let mut second = Slot::default();
        let refused = bodies.reserve(&mut second, 11).unwrap_err();
        assert!(matches!(
            refused,
            GatewayError::Busy {
                retry_after_secs: 5
            }
        ));

        drop(first);
        bodies.reserve(&mut second, 11).unwrap();
        assert!(second.0.is_some());
    }
}
