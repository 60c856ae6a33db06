//! Redis Streams implementation of the [`Bus`].
//!
//! # Redis Streams in brief
//! A stream is an append-only log under one key; each entry has an id (`<ms>-<seq>`, increasing)
//! and a few field/value pairs. A **consumer group** is a named cursor over a stream shared by
//! several **consumers** (members): `XREADGROUP … >` hands each new entry to exactly one member and
//! records it in the group's **pending entries list** (PEL) with its owner, the time of its last
//! delivery and a delivery count. `XACK` removes it from the PEL. Several groups can read the same
//! stream independently.
//!
//! # How memvox uses them
//! - **Streams**: one per logical stream ([`crate::EVENTS`], [`crate::MEMORIES`]). An entry has two
//!   fields: `kind` (for people reading with `redis-cli`) and `envelope` (the JSON
//!   [`crate::Envelope`]; the only field decoding looks at). Keys come from [`KeySpace`]:
//!   `<prefix>:stream:{events}`.
//! - **Groups**: one per consuming service (`extraction`, `embedding`), created by
//!   `XGROUP CREATE <key> <group> 0 MKSTREAM`. They start at `0`, not `$`: the gateway may accept
//!   events before any worker has ever run, and starting at `$` would skip them. `BUSYGROUP` (the
//!   group exists) is success. If the stream is deleted its groups go with it; the worker sees
//!   `NOGROUP` ([`BusError::NoGroup`]) and recreates the group.
//! - **Consumer names**: one per worker task (e.g. `<host>-<pid>-<n>`). Names need not survive a
//!   restart: a vanished consumer simply leaves pending entries for others to claim.
//! - **Reading**: `XREADGROUP GROUP g c COUNT n [BLOCK ms] STREAMS key >`. New entries only; each
//!   starts with delivery count 1.
//! - **Acking**: `XACK` once the handler's effects are committed. Never before.
//! - **Reclaiming**: `XAUTOCLAIM key g c <min-idle> 0-0 COUNT n`, following its cursor through
//!   the whole PEL. It transfers entries idle longer than `min-idle` (their reader died or gave up)
//!   and increments their delivery count, which is then read with the extended `XPENDING key g id
//!   id 1` (XAUTOCLAIM doesn't return counts). Redis 7 also returns, and drops from the PEL, the
//!   ids of pending entries whose payload is gone (trimmed, or deleted by erasure with `XDEL`,
//!   see `entries.rs`): those come back as [`crate::Claimed::lost`].
//! - **Retrying later**: a failed entry stays pending; `XCLAIM key g c 0 id IDLE <ms> JUSTID` (which
//!   does not count a delivery) rewrites its idle time so the reclaim step takes it after the
//!   backoff. See [`crate::retry`].
//! - **Dead letters**: each stream has `<stream key>:dlq`, another stream whose entries carry
//!   `origin_stream`, `origin_id`, `group`, `reason`, `attempts`, `dead_at_ms`, `kind` and the
//!   original `payload`. A Lua script adds the dead letter and acks the entry atomically; replay
//!   is a script too (copy back onto the stream as a new entry, so the delivery count starts over,
//!   and delete the dead letter). Dead-letter streams are never trimmed: only an operator (or an
//!   erasure) removes dead letters, and `memvox_stream_dead_letters` makes them visible.
//! - **Counters**: `XLEN` of both streams and `XINFO GROUPS` (pending and, on Redis 7, `lag`: the
//!   number of entries not yet delivered to the group; nil when Redis cannot compute it).
//!
//! # Trimming, and when it could lose a message
//! `XADD … MAXLEN ~ n` keeps each stream near `n` entries. With `~` Redis only drops whole radix
//! tree nodes (`stream-node-max-entries`, 100 by default) from the head and never goes below `n`.
//! Trimming does not look at PELs: a pending entry is trimmed like an acked one once enough newer
//! entries exist. Hence the guarantee, tested by the conformance suite: **while fewer than `n`
//! entries have been published after the oldest unacked entry, nothing unacked is dropped.** It
//! can be broken by a backlog longer than `n` (workers down while the gateway keeps publishing)
//! or an entry stuck pending that long. Then a claim reports the entry as lost and logs it, and
//! never-delivered entries vanish from the head. Both are recovered by the outbox reconciler
//! ([`crate::outbox`]), which re-publishes every accepted event not finished within its grace
//! period. Size `maxlen` above peak rate × the longest outage to ride out (the default 1,000,000
//! is about 55 minutes at 300 events/s). Redis 7 cannot trim "only acked" entries.
//!
//! # Connections
//! A deadpool pool of multiplexed connections. A blocked `XREADGROUP` holds its pooled connection
//! for up to the block time, so blocks are capped at [`BusSettings::block_ms`], the response
//! timeout is that plus 5 s, and the pool must be larger than the number of blocked readers.
//! Keys are hash-tagged for Redis Cluster, but this pool speaks to a single node (or a proxy).

mod dead_letters;
mod entries;
mod keys;
mod reply;
mod scripts;

use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::{Connection, Manager, Pool, Runtime};
use redis::{
    AsyncConnectionConfig, RedisError,
    streams::{
        StreamAutoClaimReply, StreamInfoGroupsReply, StreamPendingCountReply, StreamReadReply,
    },
};

pub use self::keys::KeySpace;
use self::reply::{KIND, PAYLOAD};
use crate::{
    Bus, BusError, BusSettings, Claimed, DeadLetter, Delivery, EntryId, Envelope, GroupStats,
    StreamEntry, StreamStats,
};

/// How long any command may take beyond its block time before the connection gives up.
const RESPONSE_MARGIN: Duration = Duration::from_secs(5);
/// Upper bound on XAUTOCLAIM round trips per claim (each scans up to 10 × COUNT PEL entries).
const MAX_CLAIM_SCANS: usize = 64;

/// The bus on Redis Streams (Redis ≥ 7.0).
#[derive(Clone)]
pub struct RedisBus {
    pool: Pool,
    keys: KeySpace,
    maxlen: usize,
    max_block: Duration,
}

impl RedisBus {
    /// Builds the bus and its connection pool without connecting yet.
    pub fn new(settings: &BusSettings) -> Result<Self, BusError> {
        let max_block = settings.block();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(RESPONSE_MARGIN))
            .set_response_timeout(Some(max_block + RESPONSE_MARGIN));
        let manager = Manager::new_with_config(settings.redis_url.as_str(), config)
            .map_err(|e| BusError::Invalid(format!("redis url: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(RESPONSE_MARGIN))
            .create_timeout(Some(RESPONSE_MARGIN))
            .build()
            .map_err(|e| BusError::Invalid(format!("redis pool: {e}")))?;
        Ok(Self {
            pool,
            keys: KeySpace::new(settings.key_prefix.clone()),
            maxlen: settings.maxlen,
            max_block,
        })
    }

    /// Builds the bus and checks that Redis answers.
    pub async fn connect(settings: &BusSettings) -> Result<Self, BusError> {
        let bus = Self::new(settings)?;
        let mut conn = bus.conn().await?;
        redis::cmd("PING").exec_async(&mut conn).await?;
        Ok(bus)
    }

    /// The key space every key of this bus comes from.
    pub fn keys(&self) -> &KeySpace {
        &self.keys
    }

    async fn conn(&self) -> Result<Connection, BusError> {
        Ok(self.pool.get().await?)
    }

    /// The `XADD` appending `envelope` to `stream` (trimmed to about `maxlen` entries).
    fn append(&self, stream: &str, envelope: &Envelope) -> Result<redis::Cmd, BusError> {
        let mut xadd = redis::cmd("XADD");
        xadd.arg(self.keys.stream(stream))
            .arg("MAXLEN")
            .arg("~")
            .arg(self.maxlen)
            .arg("*")
            .arg(KIND)
            .arg(envelope.kind())
            .arg(PAYLOAD)
            .arg(envelope.encode()?);
        Ok(xadd)
    }

    /// Delivery counts of entries just claimed by this caller, from the extended XPENDING form.
    async fn delivery_counts(
        &self,
        conn: &mut Connection,
        key: &str,
        group: &str,
        ids: &[&str],
    ) -> Result<Vec<u32>, BusError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.cmd("XPENDING")
                .arg(key)
                .arg(group)
                .arg(id)
                .arg(id)
                .arg(1);
        }
        let replies: Vec<StreamPendingCountReply> = pipe.query_async(conn).await?;
        // An entry acked in between (only possible if its idle time was misjudged) counts once.
        Ok(replies
            .iter()
            .map(|r| r.ids.first().map_or(1, |p| count_u32(p.times_delivered)))
            .collect())
    }
}

fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Maps `NOGROUP` (missing group or stream) to [`BusError::NoGroup`].
fn group_error(e: RedisError, stream: &str, group: &str) -> BusError {
    if e.code() == Some("NOGROUP") {
        BusError::NoGroup {
            stream: stream.to_owned(),
            group: group.to_owned(),
        }
    } else {
        e.into()
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, stream: &str, envelope: &Envelope) -> Result<EntryId, BusError> {
        let id: String = self
            .append(stream, envelope)?
            .query_async(&mut self.conn().await?)
            .await?;
        Ok(EntryId(id))
    }

    async fn publish_all(
        &self,
        stream: &str,
        envelopes: &[Envelope],
    ) -> Result<Vec<EntryId>, BusError> {
        if envelopes.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for envelope in envelopes {
            pipe.add_command(self.append(stream, envelope)?);
        }
        let ids: Vec<String> = pipe.query_async(&mut self.conn().await?).await?;
        Ok(ids.into_iter().map(EntryId).collect())
    }

    async fn ensure_group(&self, stream: &str, group: &str) -> Result<(), BusError> {
        let mut conn = self.conn().await?;
        let created = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.keys.stream(stream))
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .exec_async(&mut conn)
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => Ok(other?),
        }
    }

    async fn read(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Delivery>, BusError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count.max(1));
        let block = block.min(self.max_block);
        if !block.is_zero() {
            // BLOCK 0 means "forever" to Redis; a zero block is sent as no BLOCK at all.
            cmd.arg("BLOCK").arg(millis(block).max(1));
        }
        cmd.arg("STREAMS").arg(self.keys.stream(stream)).arg(">");
        let mut conn = self.conn().await?;
        let reply: Option<StreamReadReply> = cmd
            .query_async(&mut conn)
            .await
            .map_err(|e| group_error(e, stream, group))?;
        Ok(reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .map(|entry| reply::delivery(stream, entry, 1))
            .collect())
    }

    async fn ack(&self, stream: &str, group: &str, ids: &[EntryId]) -> Result<u64, BusError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn().await?;
        let acked: u64 = redis::cmd("XACK")
            .arg(self.keys.stream(stream))
            .arg(group)
            .arg(ids.iter().map(|id| id.0.as_str()).collect::<Vec<_>>())
            .query_async(&mut conn)
            .await?;
        Ok(acked)
    }

    async fn claim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Claimed, BusError> {
        let key = self.keys.stream(stream);
        let mut conn = self.conn().await?;
        let mut entries = Vec::new();
        let mut lost = Vec::new();
        let mut cursor = "0-0".to_owned();
        for _ in 0..MAX_CLAIM_SCANS {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&key)
                .arg(group)
                .arg(consumer)
                .arg(millis(min_idle))
                .arg(&cursor)
                .arg("COUNT")
                .arg(count.saturating_sub(entries.len()).max(1))
                .query_async(&mut conn)
                .await
                .map_err(|e| group_error(e, stream, group))?;
            entries.extend(reply.claimed);
            lost.extend(reply.deleted_ids.into_iter().map(EntryId));
            if reply.next_stream_id == "0-0" || entries.len() >= count {
                break;
            }
            cursor = reply.next_stream_id;
        }
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        let counts = self.delivery_counts(&mut conn, &key, group, &ids).await?;
        if !lost.is_empty() {
            tracing::warn!(
                stream,
                group,
                lost = lost.len(),
                "pending entries were trimmed before being acked; the outbox reconciler re-publishes them"
            );
        }
        Ok(Claimed {
            deliveries: entries
                .into_iter()
                .zip(counts)
                .map(|(entry, n)| reply::delivery(stream, entry, n))
                .collect(),
            lost,
        })
    }

    async fn set_idle(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        id: &EntryId,
        idle: Duration,
    ) -> Result<(), BusError> {
        let mut conn = self.conn().await?;
        redis::cmd("XCLAIM")
            .arg(self.keys.stream(stream))
            .arg(group)
            .arg(consumer)
            .arg(0)
            .arg(&id.0)
            .arg("IDLE")
            .arg(millis(idle))
            .arg("JUSTID")
            .exec_async(&mut conn)
            .await
            .map_err(|e| group_error(e, stream, group))
    }

    async fn dead_letter(
        &self,
        group: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<EntryId, BusError> {
        self.add_dead_letter(group, delivery, reason).await
    }

    async fn stats(&self, stream: &str) -> Result<StreamStats, BusError> {
        let key = self.keys.stream(stream);
        let mut conn = self.conn().await?;
        let (exists, length, dead_letters): (bool, u64, u64) = redis::pipe()
            .exists(&key)
            .xlen(&key)
            .xlen(self.keys.dead_letters(stream))
            .query_async(&mut conn)
            .await?;
        let groups = if exists {
            let info: StreamInfoGroupsReply = redis::cmd("XINFO")
                .arg("GROUPS")
                .arg(&key)
                .query_async(&mut conn)
                .await?;
            info.groups
                .into_iter()
                .map(|g| GroupStats {
                    group: g.name,
                    pending: g.pending as u64,
                    lag: g.lag.map(|l| l as u64),
                    consumers: g.consumers as u64,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(StreamStats {
            stream: stream.to_owned(),
            length,
            dead_letters,
            groups,
        })
    }

    async fn list_dead_letters(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        self.dead_letter_range(stream, after, limit).await
    }

    async fn get_dead_letter(
        &self,
        stream: &str,
        id: &EntryId,
    ) -> Result<Option<DeadLetter>, BusError> {
        self.dead_letter_by_id(stream, id).await
    }

    async fn replay_dead_letter(&self, stream: &str, id: &EntryId) -> Result<EntryId, BusError> {
        self.replay(stream, id).await
    }

    async fn purge_dead_letter(&self, stream: &str, id: &EntryId) -> Result<bool, BusError> {
        self.purge_one(stream, id).await
    }

    async fn purge_dead_letters(&self, stream: &str) -> Result<u64, BusError> {
        self.purge_all(stream).await
    }

    async fn entries(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, BusError> {
        self.entry_range(stream, after, limit).await
    }

    async fn delete_entries(&self, stream: &str, ids: &[EntryId]) -> Result<u64, BusError> {
        self.delete_entry_ids(stream, ids).await
    }

    async fn delete_stream(&self, stream: &str) -> Result<(), BusError> {
        let mut conn = self.conn().await?;
        redis::cmd("DEL")
            .arg(self.keys.stream(stream))
            .exec_async(&mut conn)
            .await?;
        Ok(())
    }
}
