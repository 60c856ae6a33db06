//! Dead-letter operations of [`RedisBus`]: add, list, show, replay, purge.
//!
//! Owns the reading and writing of `<stream key>:dlq` streams (field layout in
//! [`super::reply::dlq`]). Invariant: an entry moves between a stream and its dead-letter stream
//! only inside a Lua script ([`super::scripts`]), so it is never in both or in neither.

use redis::streams::StreamRangeReply;

use super::{
    RedisBus,
    reply::{self, dlq},
    scripts,
};
use crate::{BusError, DeadLetter, Delivery, EntryId, now_unix_ms};

impl RedisBus {
    /// Adds a dead letter for `delivery` and acks it in `group`, atomically.
    pub(super) async fn add_dead_letter(
        &self,
        group: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<EntryId, BusError> {
        let kind = delivery.envelope.as_ref().map_or("", |e| e.kind());
        let mut conn = self.conn().await?;
        let id: String = scripts::DEAD_LETTER
            .key(self.keys.stream(&delivery.stream))
            .key(self.keys.dead_letters(&delivery.stream))
            .arg(group)
            .arg(&delivery.id.0)
            .arg(dlq::ORIGIN_STREAM)
            .arg(&delivery.stream)
            .arg(dlq::ORIGIN_ID)
            .arg(&delivery.id.0)
            .arg(dlq::GROUP)
            .arg(group)
            .arg(dlq::REASON)
            .arg(reason)
            .arg(dlq::ATTEMPTS)
            .arg(delivery.delivery_count)
            .arg(dlq::DEAD_AT_MS)
            .arg(now_unix_ms())
            .arg(dlq::KIND)
            .arg(kind)
            .arg(dlq::PAYLOAD)
            .arg(&delivery.payload)
            .invoke_async(&mut conn)
            .await?;
        Ok(EntryId(id))
    }

    /// Dead letters after `after` (exclusive), oldest first.
    pub(super) async fn dead_letter_range(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        let range = self
            .range(self.keys.dead_letters(stream), after, limit)
            .await?;
        range.ids.into_iter().map(reply::dead_letter).collect()
    }

    /// One dead letter.
    pub(super) async fn dead_letter_by_id(
        &self,
        stream: &str,
        id: &EntryId,
    ) -> Result<Option<DeadLetter>, BusError> {
        let mut conn = self.conn().await?;
        let range: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.keys.dead_letters(stream))
            .arg(&id.0)
            .arg(&id.0)
            .query_async(&mut conn)
            .await?;
        range
            .ids
            .into_iter()
            .next()
            .map(reply::dead_letter)
            .transpose()
    }

    /// Moves a dead letter back onto its stream, atomically.
    pub(super) async fn replay(&self, stream: &str, id: &EntryId) -> Result<EntryId, BusError> {
        let mut conn = self.conn().await?;
        let new_id: Option<String> = scripts::REPLAY
            .key(self.keys.dead_letters(stream))
            .key(self.keys.stream(stream))
            .arg(&id.0)
            .arg(self.maxlen)
            .invoke_async(&mut conn)
            .await?;
        new_id
            .map(EntryId)
            .ok_or_else(|| BusError::NotFound(format!("dead letter {id} of `{stream}`")))
    }

    /// Deletes one dead letter.
    pub(super) async fn purge_one(&self, stream: &str, id: &EntryId) -> Result<bool, BusError> {
        let mut conn = self.conn().await?;
        let deleted: u64 = redis::cmd("XDEL")
            .arg(self.keys.dead_letters(stream))
            .arg(&id.0)
            .query_async(&mut conn)
            .await?;
        Ok(deleted > 0)
    }

    /// Deletes every dead letter of a stream.
    pub(super) async fn purge_all(&self, stream: &str) -> Result<u64, BusError> {
        let key = self.keys.dead_letters(stream);
        let mut conn = self.conn().await?;
        let (count, _): (u64, u64) = redis::pipe()
            .atomic()
            .xlen(&key)
            .del(&key)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }
}
