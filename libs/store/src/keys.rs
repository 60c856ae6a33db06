//! Key administration: how the encrypted columns are stored (per key id, plaintext), their
//! re-encryption under the active key in batches, and retiring keys no value needs any more.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::{
    ColumnStatus, Cursor, ReencryptBatch, StoreError, StoreResult,
    backend::Backend,
    dialect::{Record, query},
    encryption::{self, ColumnWalk, WALKS, columns},
    meta::upsert_meta,
};

/// Rows read per page when counting encrypted values.
const STATUS_PAGE: usize = 1_000;

/// Administration of the keys the store's sensitive values are encrypted with.
#[async_trait]
pub trait Keys: Send + Sync {
    /// How each encrypted column's values are stored: how many per key id, how many plaintext.
    async fn encryption_status(&self) -> StoreResult<Vec<ColumnStatus>>;

    /// Re-encrypts under the active key one batch of `column` (one of
    /// [`encrypted_columns`](crate::encrypted_columns)) after `after` (from the start when
    /// `None`): legacy plaintext and values under other keys, each compare-and-swapped against
    /// the value read so a concurrent write is never lost, in one transaction. Memory
    /// fingerprints are recomputed with the index key.
    async fn reencrypt_batch(
        &self,
        column: &str,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<ReencryptBatch>;

    /// Records that the data needs only the active key (after a complete rotation), so older
    /// keys can be removed from the key source.
    async fn retire_inactive_keys(&self) -> StoreResult<()>;
}

#[async_trait]
impl<B: Backend> Keys for B {
    async fn encryption_status(&self) -> StoreResult<Vec<ColumnStatus>> {
        let mut status = Vec::with_capacity(WALKS.len());
        for walk in &WALKS {
            let mut by_key = BTreeMap::new();
            let mut after = None;
            loop {
                let (page, next) = encryption_page(self, walk, after.as_ref(), STATUS_PAGE).await?;
                for (_, _, value) in &page {
                    *by_key
                        .entry(memvox_crypto::key_id_of(value).map(str::to_owned))
                        .or_insert(0) += 1;
                }
                match next {
                    Some(cursor) => after = Some(cursor),
                    None => break,
                }
            }
            status.push(ColumnStatus {
                column: walk.column.name,
                by_key,
            });
        }
        Ok(status)
    }

    async fn reencrypt_batch(
        &self,
        column: &str,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<ReencryptBatch> {
        let walk = encryption::walk(column)?;
        let keyring = &self.core().keyring;
        if !keyring.is_enabled() {
            return Err(StoreError::Invalid(
                "encryption is off: there is nothing to re-encrypt with".into(),
            ));
        }
        let (page, next) = encryption_page(self, walk, after, limit.max(1)).await?;
        let mut tx = self.reads().begin().await?;
        let (mut rewritten, mut raced) = (0, 0);
        for (key, owner, stored) in &page {
            if !keyring.needs_reencryption(stored) {
                continue;
            }
            let context = walk.column.at(owner);
            let plain = keyring.decrypt(stored, context)?;
            let sealed = keyring.encrypt(&plain, context)?;
            let swap = query::<B::Sql>(walk.swap).bind(sealed);
            let swap = match key {
                Cursor::Int(id) => swap.bind(*id),
                Cursor::Text(id) => swap.bind(id.clone()),
            };
            let mut swap = swap.bind(stored.clone());
            if walk.column == columns::MEMORY_CONTENT {
                swap = swap.bind(keyring.fingerprint(&plain));
            }
            if swap.execute(&mut tx).await? == 1 {
                rewritten += 1;
            } else {
                raced += 1;
            }
        }
        tx.commit().await?;
        Ok(ReencryptBatch {
            next,
            rewritten,
            raced,
        })
    }

    async fn retire_inactive_keys(&self) -> StoreResult<()> {
        let keyring = &self.core().keyring;
        let Some(active) = keyring.active_key_id() else {
            return Ok(());
        };
        let rows = encryption::key_rows(
            keyring,
            &[active],
            keyring.index_check().unwrap_or_default(),
        )?;
        upsert_meta(self, rows).await
    }
}

/// A page of an encrypted column: `(primary key, owner, stored value)` rows.
type Page = Vec<(Cursor, String, String)>;

/// One page of an encrypted column after `after` (from the start when `None`), and the cursor
/// of the next page.
async fn encryption_page<B: Backend>(
    store: &B,
    walk: &ColumnWalk,
    after: Option<&Cursor>,
    limit: usize,
) -> StoreResult<(Page, Option<Cursor>)> {
    let select = query::<B::Sql>(walk.select_page);
    let select = match (after, walk.text_key) {
        (Some(Cursor::Int(id)), _) => select.bind(*id),
        (Some(Cursor::Text(id)), _) => select.bind(id.clone()),
        (None, true) => select.bind(String::new()),
        (None, false) => select.bind(i64::MIN),
    };
    let rows = select
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *store.read().await?)
        .await?;
    let mut page = Vec::with_capacity(rows.len());
    for row in &rows {
        let key = if walk.text_key {
            Cursor::Text(row.value("k")?)
        } else {
            Cursor::Int(row.value("k")?)
        };
        page.push((key, row.value("owner")?, row.value("v")?));
    }
    let next = if page.len() < limit {
        None
    } else {
        page.last().map(|(key, _, _)| key.clone())
    };
    Ok((page, next))
}
