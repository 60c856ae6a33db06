//! Reading and deleting entries of a stream of [`RedisBus`] directly (`XRANGE`, `XDEL`), outside
//! any consumer group: erasure finds and deletes an erased caller's messages this way. An entry
//! deleted while pending in a group is dropped by the group's next claim (`XAUTOCLAIM` reports
//! it as deleted), never delivered again.

use redis::streams::StreamRangeReply;

use super::{RedisBus, reply};
use crate::{BusError, EntryId, StreamEntry};

impl RedisBus {
    /// Entries of `stream` after `after` (exclusive), oldest first.
    pub(super) async fn entry_range(
        &self,
        stream: &str,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, BusError> {
        let range = self.range(self.keys.stream(stream), after, limit).await?;
        Ok(range.ids.into_iter().map(reply::stream_entry).collect())
    }

    /// Up to `limit` entries of the stream at `key` after `after` (exclusive), oldest first.
    pub(super) async fn range(
        &self,
        key: String,
        after: Option<&EntryId>,
        limit: usize,
    ) -> Result<StreamRangeReply, BusError> {
        let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        let mut conn = self.conn().await?;
        Ok(redis::cmd("XRANGE")
            .arg(key)
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut conn)
            .await?)
    }

    /// Deletes entries of `stream`; how many it held.
    pub(super) async fn delete_entry_ids(
        &self,
        stream: &str,
        ids: &[EntryId],
    ) -> Result<u64, BusError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn().await?;
        let deleted: u64 = redis::cmd("XDEL")
            .arg(self.keys.stream(stream))
            .arg(ids.iter().map(|id| id.0.as_str()).collect::<Vec<_>>())
            .query_async(&mut conn)
            .await?;
        Ok(deleted)
    }
}
