//! In-process bus: the same consumer-group semantics as Redis Streams, in memory.
//!
//! Used by the embedded single-process mode (`memvox serve` with no Redis) and by fast tests. It
//! passes the same conformance suite as [`crate::RedisBus`].
//!
//! Design: one mutex guards every stream, group and dead-letter list (all operations are short and
//! never await while holding it). A stream is a `BTreeMap` from a sequence number to the payload,
//! trimmed exactly to `maxlen` on publish; a group keeps the last sequence delivered to it and a
//! pending list (owner, delivery count, idle-since) per unacked entry, like Redis' PEL. Blocked
//! readers wait on a per-stream [`Notify`] that every publish wakes, so they never poll.
//!
//! Invariants: entry ids are `"<seq>-0"` with `seq` strictly increasing per stream, never reused,
//! even after [`Bus::delete_stream`]; trimming may drop a pending entry's payload, after which a
//! claim reports it as lost (exactly what Redis 7 does). Nothing survives a restart: the outbox
//! reconciler re-publishes unfinished events after one.

mod state;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use tokio::{sync::Notify, time::Instant};

use self::state::State;
use crate::{
    Bus, BusError, Claimed, DeadLetter, Delivery, EntryId, Envelope, StreamEntry, StreamStats,
    now_unix_ms,
};

/// The in-memory bus. Cheap to clone; clones share the same streams.
#[derive(Clone)]
pub struct InProcessBus {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    wakers: Mutex<HashMap<String, Arc<Notify>>>,
}

impl InProcessBus {
    /// A bus whose streams keep at most `maxlen` entries (like `XADD MAXLEN`, but exact).
    pub fn new(maxlen: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::new(maxlen.max(1))),
                wakers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Appends a raw payload, bypassing encoding, so tests can feed malformed entries to workers.
    #[cfg(feature = "test-util")]
    pub fn publish_raw(&self, stream: &str, payload: &str) -> EntryId {
        let id = self.state().publish(stream, payload.to_owned());
        self.waker(stream).notify_waiters();
        id
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn waker(&self, stream: &str) -> Arc<Notify> {
        let mut wakers = self
            .inner
            .wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(wakers.entry(stream.to_owned()).or_default())
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new(crate::BusSettings::default().maxlen)
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, stream: &str, envelope: &Envelope) -> Result<EntryId, BusError> {
        let payload = envelope.encode()?;
        let id = self.state().publish(stream, payload);
        self.waker(stream).notify_waiters();
        Ok(id)
    }

    async fn ensure_group(&self, stream: &str, group: &str) -> Result<(), BusError> {
        self.state().ensure_group(stream, group);
        Ok(())
    }

    async fn read(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Delivery>, BusError> {
        let deadline = Instant::now() + block;
        let waker = self.waker(stream);
        loop {
            // Register interest before looking, so a publish between the look and the wait
            // still wakes us.
            let notified = waker.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = Instant::now();
            let taken = self.state().read(stream, group, consumer, count, now)?;
            if !taken.is_empty() || block.is_zero() || now >= deadline {
                return Ok(taken);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn ack(&self, stream: &str, group: &str, ids: &[EntryId]) -> Result<u64, BusError> {
        self.state().ack(stream, group, ids)
    }

    async fn claim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Claimed, BusError> {
        self.state()
            .claim(stream, group, consumer, min_idle, count, Instant::now())
    }

    async fn set_idle(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        id: &EntryId,
        idle: Duration,
    ) -> Result<(), BusError> {
        self.state()
            .set_idle(stream, group, consumer, id, idle, Instant::now())
    }

    async fn dead_letter(
        &self,
        group: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<EntryId, BusError> {
        let mut state = self.state();
        // Under one lock: the ack and the dead letter happen together or not at all.
        state.ack(&delivery.stream, group, std::slice::from_ref(&delivery.id))?;
        Ok(state.add_dead_letter(DeadLetter {
            id: EntryId(String::new()),
            stream: delivery.stream.clone(),
            origin_id: delivery.id.clone(),
            group: group.to_owned(),
            reason: reason.to_owned(),
            attempts: delivery.delivery_count,
            dead_at_ms: now_unix_ms(),
            payload: delivery.payload.clone(),
        }))
    }

    async fn stats(&self, stream: &str) -> Result<StreamStats, BusError> {
        Ok(self.state().stats(stream))
    }

    async fn list_dead_letters(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        self.state().list_dead_letters(stream, after, limit)
    }

    async fn get_dead_letter(
        &self,
        stream: &str,
        id: &EntryId,
    ) -> Result<Option<DeadLetter>, BusError> {
        self.state().get_dead_letter(stream, id)
    }

    async fn replay_dead_letter(&self, stream: &str, id: &EntryId) -> Result<EntryId, BusError> {
        let new_id = {
            let mut state = self.state();
            let letter = state
                .take_dead_letter(stream, id)?
                .ok_or_else(|| BusError::NotFound(format!("dead letter {id} of `{stream}`")))?;
            state.publish(&letter.stream, letter.payload)
        };
        self.waker(stream).notify_waiters();
        Ok(new_id)
    }

    async fn purge_dead_letter(&self, stream: &str, id: &EntryId) -> Result<bool, BusError> {
        Ok(self.state().take_dead_letter(stream, id)?.is_some())
    }

    async fn purge_dead_letters(&self, stream: &str) -> Result<u64, BusError> {
        Ok(self.state().purge_dead_letters(stream))
    }

    async fn entries(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, BusError> {
        self.state().entries(stream, after, limit)
    }

    async fn delete_entries(&self, stream: &str, ids: &[EntryId]) -> Result<u64, BusError> {
        self.state().delete_entries(stream, ids)
    }

    async fn delete_stream(&self, stream: &str) -> Result<(), BusError> {
        self.state().delete_stream(stream);
        Ok(())
    }
}
