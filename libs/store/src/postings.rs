//! A user's lexical postings in memory: for each of the user's tokens (a keyed word hash, see
//! `lexical`), the rows of the user's index whose memory holds it, so a lexical search counts
//! document frequencies and ranks candidates without a statement.
//!
//! Compact by construction: the distinct tokens sorted as 64-bit numbers, one offset each into a
//! single array of `u32` rows (ascending within a token), and each row's token count — about
//! 4 bytes per (memory, distinct word) pair plus 12 per distinct word of the user. Rows are
//! positions in the index's memories (ordered by id), so ordering rows orders memory ids.
//!
//! Ranking is BM25 with the user's own statistics: a memory's tokens are distinct words, so
//! each matched word adds its inverse document frequency (`memvox_core::fusion::idf`), scaled
//! by the memory's length against the user's mean; rarer words and more matched words rank
//! first, ties by memory id.

use memvox_core::fusion::{B, K1, idf};

use crate::lexical::TokenId;

/// A user's postings (see the module documentation).
#[derive(Debug, Default)]
pub struct Postings {
    /// The user's distinct tokens, ascending.
    tokens: Vec<TokenId>,
    /// `starts[i]..starts[i + 1]` is the range of `rows` holding `tokens[i]`.
    starts: Vec<u32>,
    /// Posting lists, one after the other.
    rows: Vec<u32>,
    /// Per row, how many tokens its memory has (0: not in the lexical index).
    lengths: Vec<u16>,
    /// Memories in the lexical index.
    documents: usize,
    /// Their mean token count.
    average_length: f64,
}

/// One memory found by [`Postings::rank`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedRow {
    /// Its row in the index.
    pub row: u32,
    /// Its BM25 for the query.
    pub score: f64,
}

impl Postings {
    /// How many memories are in the lexical index.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// The rows holding `token`, ascending.
    fn posting(&self, token: TokenId) -> &[u32] {
        let Ok(i) = self.tokens.binary_search(&token) else {
            return &[];
        };
        let (start, end) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        &self.rows[start..end]
    }

    /// How many memories hold `token`.
    pub fn frequency(&self, token: TokenId) -> usize {
        self.posting(token).len()
    }

    /// Whether the memory at `row` holds `token`.
    fn holds(&self, token: TokenId, row: u32) -> bool {
        self.posting(token).binary_search(&row).is_ok()
    }

    /// Indexes into `query` of the tokens the memory at `row` holds.
    pub fn matched(&self, query: &[TokenId], row: u32) -> Vec<usize> {
        (0..query.len())
            .filter(|&i| self.holds(query[i], row))
            .collect()
    }

    /// The `limit` best memories holding at least one of the query tokens at indexes
    /// `searched` and passing `admit` (given a row), best first: each scores BM25 over every
    /// query token it holds, searched or not.
    pub fn rank(
        &self,
        query: &[TokenId],
        searched: &[usize],
        admit: impl Fn(u32) -> bool,
        limit: usize,
    ) -> Vec<RankedRow> {
        let weights: Vec<f64> = query
            .iter()
            .map(|&token| idf(self.documents, self.frequency(token)))
            .collect();
        let mut found: Vec<(u32, f64)> = searched
            .iter()
            .flat_map(|&i| self.posting(query[i]).iter().map(move |&row| (row, i)))
            .filter(|&(row, _)| admit(row))
            .map(|(row, i)| (row, weights[i]))
            .collect();
        found.sort_unstable_by_key(|&(row, _)| row);
        let mut scored: Vec<RankedRow> = Vec::with_capacity(found.len());
        for (row, weight) in found {
            match scored.last_mut() {
                Some(last) if last.row == row => last.score += weight,
                _ => scored.push(RankedRow { row, score: weight }),
            }
        }
        let unsearched: Vec<usize> = (0..query.len())
            .filter(|i| !searched.contains(i) && self.frequency(query[*i]) > 0)
            .collect();
        for ranked in &mut scored {
            let common: f64 = unsearched
                .iter()
                .filter(|&&i| self.holds(query[i], ranked.row))
                .map(|&i| weights[i])
                .sum();
            ranked.score = (ranked.score + common) * self.saturation(ranked.row);
        }
        let best_first =
            |a: &RankedRow, b: &RankedRow| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row));
        if limit < scored.len() {
            scored.select_nth_unstable_by(limit, best_first);
            scored.truncate(limit);
        }
        scored.sort_by(best_first);
        scored
    }

    /// BM25's term-frequency factor for a word a memory holds once, at the memory's length.
    fn saturation(&self, row: u32) -> f64 {
        let length = f64::from(self.lengths.get(row as usize).copied().unwrap_or(0));
        let ratio = length / self.average_length.max(1.0);
        (K1 + 1.0) / (1.0 + K1 * (1.0 - B + B * ratio))
    }

    /// Bytes held (what the index cache weighs).
    pub fn bytes(&self) -> usize {
        self.dictionary_bytes()
            + self.rows.len() * size_of::<u32>()
            + self.lengths.len() * size_of::<u16>()
    }

    /// Bytes of the distinct tokens and their offsets.
    pub fn dictionary_bytes(&self) -> usize {
        self.tokens.len() * size_of::<TokenId>() + self.starts.len() * size_of::<u32>()
    }

    /// Bytes the memory at `row` holds: its postings entries and its token count.
    pub fn row_bytes(&self, row: u32) -> usize {
        let length = self.lengths.get(row as usize).copied().unwrap_or(0);
        usize::from(length) * size_of::<u32>() + size_of::<u16>()
    }
}

/// Gathers memories' tokens, row by row, into [`Postings`].
#[derive(Debug, Default)]
pub struct PostingsBuilder {
    pairs: Vec<(TokenId, u32)>,
    lengths: Vec<u16>,
    documents: usize,
}

impl PostingsBuilder {
    /// Adds the next row: a memory in the lexical index holding `tokens` (distinct), or
    /// (`None`) one that is not in it.
    pub fn push(&mut self, tokens: Option<&[TokenId]>) {
        let row = u32::try_from(self.lengths.len()).unwrap_or(u32::MAX);
        let length = match tokens {
            Some(tokens) => {
                self.documents += 1;
                self.pairs.extend(tokens.iter().map(|&token| (token, row)));
                tokens.len()
            }
            None => 0,
        };
        self.lengths.push(u16::try_from(length).unwrap_or(u16::MAX));
    }

    /// The postings of the rows pushed.
    pub fn build(mut self) -> Postings {
        self.pairs.sort_unstable();
        let mut tokens = Vec::new();
        let mut starts = Vec::new();
        let mut rows = Vec::with_capacity(self.pairs.len());
        for (token, row) in self.pairs {
            if tokens.last() != Some(&token) {
                tokens.push(token);
                starts.push(u32::try_from(rows.len()).unwrap_or(u32::MAX));
            }
            rows.push(row);
        }
        starts.push(u32::try_from(rows.len()).unwrap_or(u32::MAX));
        tokens.shrink_to_fit();
        starts.shrink_to_fit();
        self.lengths.shrink_to_fit();
        let total: usize = self.lengths.iter().map(|&l| usize::from(l)).sum();
        Postings {
            tokens,
            starts,
            rows,
            average_length: total as f64 / self.documents.max(1) as f64,
            lengths: self.lengths,
            documents: self.documents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows 0–4: 0 holds tokens 1 2, 1 holds 1, 2 is not indexed, 3 holds 1 3 7 8 9 (a
    /// longer memory), 4 holds 2 3.
    fn postings() -> Postings {
        let mut builder = PostingsBuilder::default();
        builder.push(Some(&[2, 1]));
        builder.push(Some(&[1]));
        builder.push(None);
        builder.push(Some(&[1, 3, 9, 8, 7]));
        builder.push(Some(&[3, 2]));
        builder.build()
    }

    fn rows(ranked: &[RankedRow]) -> Vec<u32> {
        ranked.iter().map(|r| r.row).collect()
    }

    #[test]
    fn frequencies_count_the_memories_holding_each_token() {
        let postings = postings();
        assert_eq!(postings.documents(), 4, "row 2 is not in the lexical index");
        let frequencies: Vec<usize> = [1, 2, 3, 9, 4].map(|t| postings.frequency(t)).into();
        assert_eq!(frequencies, [3, 2, 2, 1, 0]);
        assert_eq!(postings.matched(&[4, 3, 1], 3), [1, 2]);
        assert!(postings.matched(&[1, 2], 2).is_empty());
    }

    #[test]
    fn rarer_and_more_matched_words_rank_first_ties_by_row() {
        let postings = postings();
        // Token 2 (in rows 0 and 4) outranks token 1 (in three rows); row 0 holds both.
        let ranked = postings.rank(&[1, 2], &[0, 1], |_| true, 10);
        assert_eq!(rows(&ranked), [0, 4, 1, 3]);
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
        // Rows 1 and 3 hold only token 1: the shorter memory first.
        assert!(ranked[2].score > ranked[3].score);
        // Equal memories tie by row.
        let mut builder = PostingsBuilder::default();
        for _ in 0..3 {
            builder.push(Some(&[5, 6]));
        }
        let ranked = builder.build().rank(&[5], &[0], |_| true, 2);
        assert_eq!(rows(&ranked), [0, 1], "ties by row, cut at the limit");
    }

    #[test]
    fn only_searched_tokens_find_but_every_held_token_scores() {
        let postings = postings();
        // Only token 3 is looked up: rows 3 and 4. Row 4 also holds token 2, row 3 token 1.
        let ranked = postings.rank(&[3, 2, 1], &[0], |_| true, 10);
        assert_eq!(rows(&ranked), [4, 3]);
        let alone = postings.rank(&[3], &[0], |_| true, 10);
        assert!(ranked[0].score > alone[0].score, "credited with token 2");
        assert!(
            postings.rank(&[3, 2], &[0], |row| row != 4, 10)[0].row == 3,
            "rows the filter refuses are never candidates"
        );
        assert!(postings.rank(&[4], &[0], |_| true, 10).is_empty());
    }

    #[test]
    fn bytes_count_tokens_offsets_rows_and_lengths() {
        // 6 distinct tokens, 7 offsets, 10 postings, 5 lengths.
        assert_eq!(postings().bytes(), 6 * 8 + 7 * 4 + 10 * 4 + 5 * 2);
    }
}
