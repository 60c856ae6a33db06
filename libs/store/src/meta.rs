//! `store_meta`: what the database records about itself — its embedding space and its keys —
//! checked (and recorded on first open) every time a store opens.

use std::collections::BTreeMap;

use crate::{
    StoreError, StoreResult,
    backend::Backend,
    dialect::{Record, query},
    encryption,
};

/// Everything the database records about itself.
const SELECT_ALL_META: &str = "SELECT key, value FROM store_meta";

/// One recorded value.
pub(crate) const SELECT_META: &str = "SELECT value FROM store_meta WHERE key = $1";

/// Records a value (replacing it).
pub(crate) const UPSERT_META: &str = "INSERT INTO store_meta (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// How many vectors the store holds.
const COUNT_EMBEDDINGS: &str = "SELECT COUNT(*) FROM memory_embeddings";

/// Writes `store_meta` rows, in one transaction.
pub(crate) async fn upsert_meta<B: Backend>(
    store: &B,
    rows: Vec<(String, String)>,
) -> StoreResult<()> {
    let mut tx = store.reads().begin().await?;
    for (key, value) in rows {
        query::<B::Sql>(UPSERT_META)
            .bind(key)
            .bind(value)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Checks the keyring against the keys the database records (see `encryption::check_keys`)
/// and records the active key.
pub(crate) async fn check_encryption<B: Backend>(store: &B) -> StoreResult<()> {
    let mut recorded = BTreeMap::new();
    let rows = query::<B::Sql>(SELECT_ALL_META)
        .fetch_all(&mut *store.read().await?)
        .await?;
    for row in &rows {
        recorded.insert(row.value::<String>("key")?, row.value::<String>("value")?);
    }
    let rows = encryption::check_keys(&store.core().keyring, &recorded)?;
    if !rows.is_empty() {
        upsert_meta(store, rows).await?;
    }
    Ok(())
}

/// Records the embedding space in a new store, or checks it against the recorded one. A store
/// with no vectors yet adopts the configured space. [`EmbeddingSpace::none`] is neither
/// checked nor recorded (the metadata is still read, so an unmigrated schema fails here).
///
/// [`EmbeddingSpace::none`]: crate::EmbeddingSpace::none
pub(crate) async fn check_embedding_space<B: Backend>(store: &B) -> StoreResult<()> {
    let space = &store.core().space;
    let model = read_meta(store, "embedding_model").await?;
    if space.is_none() {
        return Ok(());
    }
    let dimension = read_meta(store, "embedding_dimension").await?;
    if let (Some(model), Some(dimension)) = (model, dimension) {
        let stored_dimension: usize = dimension
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("embedding_dimension `{dimension}`")))?;
        let vectors: i64 = query::<B::Sql>(COUNT_EMBEDDINGS)
            .fetch_one(&mut *store.read().await?)
            .await?
            .value_at(0)?;
        let same = model == space.model && stored_dimension == space.dimension;
        if !same && vectors > 0 {
            return Err(StoreError::EmbeddingMismatch {
                stored_model: model,
                stored_dimension,
                model: space.model.clone(),
                dimension: space.dimension,
            });
        }
        if same {
            return Ok(());
        }
    }
    for (key, value) in [
        ("embedding_model", space.model.clone()),
        ("embedding_dimension", space.dimension.to_string()),
    ] {
        query::<B::Sql>(UPSERT_META)
            .bind(key)
            .bind(value)
            .execute(&mut *store.write().await?)
            .await?;
    }
    Ok(())
}

/// One recorded value.
async fn read_meta<B: Backend>(store: &B, key: &str) -> StoreResult<Option<String>> {
    query::<B::Sql>(SELECT_META)
        .bind(key)
        .fetch_optional(&mut *store.read().await?)
        .await?
        .map(|r| r.value("value"))
        .transpose()
}
