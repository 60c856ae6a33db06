//! Lexical search over the per-user keyed word tokens (SQLite FTS5, PostgreSQL `tsvector`;
//! the statements are the backend's, see `Backend::TOKEN_SEARCH`).

use memvox_core::Memory;

use crate::{
    MemoryFilter, StoreResult,
    backend::Backend,
    dialect::{Record, query},
    rows::memory_from_row,
    sql::{self, memory_columns},
    vector_index::UserVectors,
};

/// How many memories the user has in the lexical index, and how many contain each token:
/// remembered by the user's index since its version, else counted (and remembered).
pub(super) async fn token_frequencies<B: Backend>(
    store: &B,
    index: &UserVectors,
    user_id: &str,
    tokens: &[String],
) -> StoreResult<(usize, Vec<usize>)> {
    let (memories, known) = index.lexical.lookup(tokens);
    let missing: Vec<String> = tokens
        .iter()
        .zip(&known)
        .filter(|(_, frequency)| frequency.is_none())
        .map(|(token, _)| token.clone())
        .collect();
    if let Some(memories) = memories
        && missing.is_empty()
    {
        return Ok((memories, known.into_iter().flatten().collect()));
    }
    let (memories, counted) = count_tokens(store, user_id, &missing).await?;
    index.lexical.record(memories, &missing, &counted);
    let mut counted = counted.into_iter();
    let frequencies = known
        .into_iter()
        .map(|frequency| frequency.or_else(|| counted.next()).unwrap_or(0))
        .collect();
    Ok((memories, frequencies))
}

/// How many memories the user has in the lexical index, and how many contain each token, in
/// one statement (tokens are per user, so each count reads one user's posting list).
async fn count_tokens<B: Backend>(
    store: &B,
    user_id: &str,
    tokens: &[String],
) -> StoreResult<(usize, Vec<usize>)> {
    let counts: String = (0..tokens.len())
        .map(|i| format!(", {}", B::TOKEN_COUNT.replace("{n}", &(i + 2).to_string())))
        .collect();
    let statement =
        format!("SELECT (SELECT COUNT(*) FROM memory_terms WHERE user_id = $1){counts}");
    let row = tokens
        .iter()
        .fold(query::<B::Sql>(statement).bind(user_id), |q, token| {
            q.bind(token)
        })
        .fetch_one(&mut *store.read().await?)
        .await?;
    let count = |i: usize| -> StoreResult<usize> {
        Ok(usize::try_from(row.value_at::<i64>(i)?).unwrap_or(0))
    };
    let frequencies = (0..tokens.len())
        .map(|i| count(i + 1))
        .collect::<StoreResult<_>>()?;
    Ok((count(0)?, frequencies))
}

/// The user's memories holding any of `tokens` and passing `filter`, best match first, each
/// with its stored tokens.
pub(super) async fn search_tokens<B: Backend>(
    store: &B,
    user_id: &str,
    tokens: &[String],
    filter: &MemoryFilter,
    limit: usize,
) -> StoreResult<Vec<(Memory, String)>> {
    let mut next = 3;
    let (conditions, binds) = sql::filter_conditions(filter, &mut next);
    let statement = B::TOKEN_SEARCH
        .replace("{columns}", memory_columns!())
        .replace("{conditions}", &conditions)
        .replace("{next}", &next.to_string());
    let rows = query::<B::Sql>(statement)
        .bind(tokens.join(B::TOKEN_OR))
        .bind(user_id)
        .bind_all(binds)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *store.read().await?)
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                memory_from_row(&store.core().keyring, row)?,
                row.value("terms")?,
            ))
        })
        .collect()
}
