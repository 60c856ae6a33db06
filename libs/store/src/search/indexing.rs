//! Keeping the lexical index whole: tokens follow the store's key and words, and every memory
//! has them (memories from before the index existed get them on open).

use crate::{
    StoreResult,
    backend::Backend,
    dialect::{Record, query},
    meta::{SELECT_META, UPSERT_META},
    rows::memory_from_row,
    sql::memory_columns,
    written::{Written, flush_written_in},
};

/// Memories without lexical tokens (written before the index existed), a batch at a time.
const SELECT_UNINDEXED_MEMORIES: &str = concat!(
    "SELECT ",
    memory_columns!(),
    " FROM memories m WHERE NOT EXISTS \
     (SELECT 1 FROM memory_terms t WHERE t.memory_id = m.id) ORDER BY m.id LIMIT $1"
);

/// Memories indexed per transaction when earlier memories get their lexical tokens.
const INDEX_BATCH: usize = 500;

/// Makes the lexical index match the store's key and words: tokens made under another key (the
/// key changed, or encryption was turned on) or by another version of
/// `memvox_core::text::lexical_words` are dropped, then every memory without tokens (those,
/// and memories from before the index existed) gets them. Safe to interrupt: the next open
/// carries on.
pub(crate) async fn ensure_lexical_index<B: Backend>(store: &B) -> StoreResult<()> {
    let check = store.core().lexical.check();
    let recorded: Option<String> = query::<B::Sql>(SELECT_META)
        .bind("lexical_key_check")
        .fetch_optional(&mut *store.read().await?)
        .await?
        .map(|r| r.value("value"))
        .transpose()?;
    if recorded.as_deref() != Some(check.as_str()) {
        let mut tx = store.begin().await?;
        let dropped = query::<B::Sql>("DELETE FROM memory_terms")
            .execute(&mut tx)
            .await?;
        query::<B::Sql>(UPSERT_META)
            .bind("lexical_key_check")
            .bind(&check)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        if dropped > 0 {
            tracing::info!(
                dropped,
                "lexical index key or words changed: re-indexing memories"
            );
        }
    }
    let indexed = index_unindexed_memories(store).await?;
    if indexed > 0 {
        tracing::info!(indexed, "lexical index complete");
    }
    Ok(())
}

/// Gives every memory without lexical tokens its tokens, a batch per transaction; returns how
/// many it indexed.
async fn index_unindexed_memories<B: Backend>(store: &B) -> StoreResult<usize> {
    let core = store.core();
    let mut indexed = 0;
    loop {
        let mut tx = store.begin().await?;
        let rows = query::<B::Sql>(SELECT_UNINDEXED_MEMORIES)
            .bind(i64::try_from(INDEX_BATCH).unwrap_or(i64::MAX))
            .fetch_all(&mut tx)
            .await?;
        let mut written = Written::default();
        for row in &rows {
            let memory = memory_from_row(&core.keyring, row)?;
            let terms = core.lexical.memory_terms(&memory.user_id, &memory.content);
            written.index_terms(memory.id, &memory.user_id, terms);
        }
        flush_written_in::<B::Sql>(&mut tx, &mut written).await?;
        tx.commit().await?;
        indexed += rows.len();
        if rows.len() < INDEX_BATCH {
            break;
        }
        tracing::info!(indexed, "indexing earlier memories for lexical search");
    }
    Ok(indexed)
}
