//! Lexical search through the user's in-memory postings (`postings`): the document frequencies
//! and the ranking come from memory, with the filter applied there; only the winners' rows are
//! read (by id, one statement) and re-checked against the filter.

use std::collections::HashMap;

use memvox_core::MemoryId;

use crate::{
    LexicalHit, LexicalSearch, Memories, MemoryFilter, StoreResult,
    backend::Backend,
    lexical::{TokenId, searched_tokens},
    user_index::UserIndex,
};

/// The at most `limit` memories of `index` (the user's) holding the rarer of `tokens` (a
/// query's, see `searched_tokens`) and passing `filter`, best BM25 first, each with its cosine
/// similarity to `query_vector`.
pub(super) async fn lexical_search<B: Backend>(
    store: &B,
    user_id: &str,
    index: &UserIndex,
    tokens: &[TokenId],
    query_vector: &[f32],
    filter: &MemoryFilter,
    limit: usize,
) -> StoreResult<LexicalSearch> {
    let postings = &index.postings;
    let document_frequency: Vec<usize> = tokens
        .iter()
        .map(|&token| postings.frequency(token))
        .collect();
    let searched = searched_tokens(&document_frequency);
    let ranked = if searched.is_empty() {
        Vec::new()
    } else {
        postings.rank(tokens, &searched, |row| index.admits(row, filter), limit)
    };
    let winners: Vec<(u32, MemoryId)> = ranked
        .iter()
        .filter_map(|ranked| Some((ranked.row, index.memories.get(ranked.row as usize)?.id)))
        .collect();
    let mut read: HashMap<MemoryId, _> = if winners.is_empty() {
        HashMap::new()
    } else {
        let ids: Vec<MemoryId> = winners.iter().map(|&(_, id)| id).collect();
        store
            .get_memories(user_id, &ids)
            .await?
            .into_iter()
            .map(|memory| (memory.id, memory))
            .collect()
    };
    let hits = winners
        .into_iter()
        .filter_map(|(row, id)| {
            let memory = read.remove(&id)?;
            filter.matches(&memory).then(|| LexicalHit {
                memory,
                similarity: index
                    .similarity_at(query_vector, row)
                    .map_or(0.0, f64::from),
                matched: postings.matched(tokens, row),
            })
        })
        .collect();
    Ok(LexicalSearch {
        memories: postings.documents(),
        document_frequency,
        hits,
    })
}
