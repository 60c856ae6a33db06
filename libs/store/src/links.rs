//! Links between memories: how strongly one memory calls another to mind, created by the
//! linking worker (or by hand) and strengthened when found again.

use async_trait::async_trait;
use memvox_core::{MemoryId, MemoryLink, UnixMillis, UnknownVariant};

use crate::{
    StoreError, StoreResult,
    backend::Backend,
    dialect::{Conn, Dialect, Record, query},
    sql::{self, INSERT_CHUNK},
};

/// Strengthens a link found again: the larger weight, kind `reinforced` (a manual link stays
/// manual).
const UPSERT_LINK_ON_CONFLICT: &str = " ON CONFLICT (source_memory_id, target_memory_id) DO UPDATE SET \
     weight = CASE WHEN excluded.weight > memory_links.weight THEN excluded.weight ELSE memory_links.weight END, \
     kind = CASE WHEN memory_links.kind = 'manual' THEN 'manual' ELSE 'reinforced' END, \
     updated_at = excluded.updated_at";

/// Links between memories.
#[async_trait]
pub trait Links: Send + Sync {
    /// Creates links, or strengthens existing ones (weight becomes the maximum, kind
    /// `reinforced`).
    async fn upsert_links(&self, links: &[MemoryLink], now: UnixMillis) -> StoreResult<()>;

    /// Outgoing links of the given memories.
    async fn links_from(&self, ids: &[MemoryId]) -> StoreResult<Vec<MemoryLink>>;
}

#[async_trait]
impl<B: Backend> Links for B {
    async fn upsert_links(&self, links: &[MemoryLink], now: UnixMillis) -> StoreResult<()> {
        if let Some(link) = links.iter().find(|link| link.source == link.target) {
            return Err(StoreError::Invalid(format!(
                "memory {} cannot link to itself",
                link.source
            )));
        }
        let mut tx = self.begin().await?;
        upsert_links_in::<B::Sql>(&mut tx, links, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn links_from(&self, ids: &[MemoryId]) -> StoreResult<Vec<MemoryLink>> {
        let mut links = Vec::new();
        for chunk in ids.chunks(INSERT_CHUNK) {
            let statement = format!(
                "SELECT source_memory_id, target_memory_id, weight, kind FROM memory_links \
                 WHERE source_memory_id IN ({}) ORDER BY source_memory_id, weight DESC",
                sql::placeholders(1, chunk.len())
            );
            let rows = chunk
                .iter()
                .fold(query::<B::Sql>(statement), |q, id| q.bind(*id))
                .fetch_all(&mut *self.read().await?)
                .await?;
            for row in &rows {
                let kind: String = row.value("kind")?;
                links.push(MemoryLink {
                    source: row.value("source_memory_id")?,
                    target: row.value("target_memory_id")?,
                    weight: row.value("weight")?,
                    kind: kind
                        .parse()
                        .map_err(|e: UnknownVariant| StoreError::Corrupt(e.to_string()))?,
                });
            }
        }
        Ok(links)
    }
}

/// Creates or strengthens `links` (checked by the caller), in an open transaction.
pub(crate) async fn upsert_links_in<D: Dialect>(
    conn: &mut Conn<D>,
    links: &[MemoryLink],
    now: UnixMillis,
) -> StoreResult<()> {
    for chunk in links.chunks(INSERT_CHUNK) {
        let statement = format!(
            "INSERT INTO memory_links (source_memory_id, target_memory_id, weight, \
             kind, created_at, updated_at) VALUES {}{}",
            sql::values_rows(chunk.len(), 6),
            UPSERT_LINK_ON_CONFLICT
        );
        chunk
            .iter()
            .fold(query::<D>(statement), |q, link| {
                q.bind(link.source)
                    .bind(link.target)
                    .bind(link.weight.clamp(0.0, 1.0))
                    .bind(link.kind.as_str())
                    .bind(now)
                    .bind(now)
            })
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
