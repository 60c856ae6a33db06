//! Lexical search tokens: a memory's content words as per-user keyed hashes.
//!
//! The lexical index never holds a word. Each distinct content word of a memory
//! ([`memvox_core::text::lexical_terms`]) becomes the token `t` + hex of the first 8 bytes of
//! `HMAC-SHA256(key, user id ‖ 0 ‖ word)`, and a query's words are hashed the same way. Tokens are
//! per user, so a word's posting list in the full-text index holds only that user's memories: a
//! lookup never walks other callers' data, and the same word of two users shares nothing. The
//! tokens are plain ASCII letters and digits, which both SQLite FTS5 (`ascii` tokenizer) and
//! PostgreSQL's `simple` text search configuration keep as single, unchanged words. With
//! encryption on, the key derives from the keyring's index key ([`LexicalKey::for_keyring`]), so
//! a copy of the database cannot be probed with guessed words.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// A query never contributes more words than this to a lexical search.
pub const MAX_QUERY_TERMS: usize = 16;

/// The key lexical tokens are hashed with.
#[derive(Clone)]
pub struct LexicalKey(Hmac<Sha256>);

impl std::fmt::Debug for LexicalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LexicalKey(..)")
    }
}

impl Default for LexicalKey {
    /// The built-in key: tokens still never store words, but anyone with the code can test a
    /// guessed word against them.
    fn default() -> Self {
        Self::new(b"memvox lexical index v1")
    }
}

impl LexicalKey {
    /// A key from secret bytes.
    pub fn new(secret: &[u8]) -> Self {
        Self(<Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length"))
    }

    /// The key for a store opened with `keyring`: derived from its index key when encryption
    /// is on (so tokens cannot be recomputed without the key), the built-in key when it is off.
    pub fn for_keyring(keyring: &memvox_crypto::Keyring) -> Self {
        if keyring.is_enabled() {
            Self::new(keyring.fingerprint("memvox lexical index key").as_bytes())
        } else {
            Self::default()
        }
    }

    /// What the store records to tell whether its tokens were made with this key and this
    /// version of the words ([`memvox_core::text::LEXICAL_WORDS_VERSION`]).
    pub fn check(&self) -> String {
        let version = memvox_core::text::LEXICAL_WORDS_VERSION;
        self.token("", &format!("memvox lexical index, words v{version}"))
    }

    /// The token of one (already normalised) word of `user_id`.
    pub fn token(&self, user_id: &str, term: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(user_id.as_bytes());
        mac.update(&[0]);
        mac.update(term.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("t{}", hex::encode(&digest[..8]))
    }

    /// The space-separated tokens of a memory's content, as stored in `memory_terms.terms`
    /// (of an episode, its searched part: `memvox_core::episode::searchable_text`).
    pub fn memory_terms(&self, user_id: &str, content: &str) -> String {
        memvox_core::text::lexical_terms(memvox_core::episode::searchable_text(content))
            .iter()
            .map(|term| self.token(user_id, term))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The distinct tokens of a query's words (at most [`MAX_QUERY_TERMS`]), in query order.
    pub fn query_tokens(&self, user_id: &str, query: &str) -> Vec<String> {
        memvox_core::text::lexical_terms(query)
            .iter()
            .take(MAX_QUERY_TERMS)
            .map(|term| self.token(user_id, term))
            .collect()
    }
}

/// Most memories a looked-up word may be in: the full-text engine scores every row holding a
/// word, so a word in many memories costs milliseconds and ranks nothing ("called", "order"
/// for a shop). Measured on a caller with 40,000 memories (SQLite): three words in ~25
/// memories each 0.4 ms, three in ~790 each 11 ms, two in ~9,000 each 34 ms.
pub const MAX_SEARCHED_FREQUENCY: usize = 200;

/// When no word is under [`MAX_SEARCHED_FREQUENCY`], the rarest one is still looked up if it is
/// in at most this many memories (a caller's name for their dog is in hundreds of turns once
/// years of calls are indexed).
pub const FALLBACK_SEARCHED_FREQUENCY: usize = 1_000;

/// The tokens worth looking up among `tokens`, found in `frequency` of a user's memories each:
/// those in at most [`MAX_SEARCHED_FREQUENCY`], or else the rarest if it is in at most
/// [`FALLBACK_SEARCHED_FREQUENCY`]. A memory found through a rare word is still credited with
/// the common words it holds.
pub fn searched_tokens(tokens: &[String], frequency: &[usize]) -> Vec<String> {
    let present = || tokens.iter().zip(frequency).filter(|&(_, &df)| df > 0);
    let rare: Vec<String> = present()
        .filter(|&(_, &df)| df <= MAX_SEARCHED_FREQUENCY)
        .map(|(token, _)| token.clone())
        .collect();
    if !rare.is_empty() {
        return rare;
    }
    present()
        .filter(|&(_, &df)| df <= FALLBACK_SEARCHED_FREQUENCY)
        .min_by_key(|&(_, &df)| df)
        .map(|(token, _)| vec![token.clone()])
        .unwrap_or_default()
}

/// Indexes into `query` of the tokens present in a memory's stored `terms`.
pub fn matched_tokens(query: &[String], terms: &str) -> Vec<usize> {
    let present: std::collections::HashSet<&str> = terms.split_ascii_whitespace().collect();
    query
        .iter()
        .enumerate()
        .filter(|(_, token)| present.contains(token.as_str()))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_per_user_per_key_and_hide_the_word() {
        let key = LexicalKey::default();
        let a = key.token("user-a", "58213");
        assert_eq!(a, key.token("user-a", "58213"));
        assert_ne!(a, key.token("user-b", "58213"));
        assert_ne!(a, LexicalKey::new(b"other").token("user-a", "58213"));
        assert_eq!(a.len(), 17);
        assert!(a.starts_with('t') && a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!a.contains("58213"));
    }

    #[test]
    fn only_words_in_few_memories_are_searched() {
        let tokens: Vec<String> = ["a", "b", "c", "d"].map(str::to_owned).into();
        assert_eq!(searched_tokens(&tokens, &[200, 0, 201, 3]), ["a", "d"]);
        assert_eq!(
            searched_tokens(&tokens, &[900, 0, 400, 5_000]),
            ["c"],
            "none is rare: the rarest, if not too common"
        );
        assert!(searched_tokens(&tokens, &[1_001, 0, 2_000, 5_000]).is_empty());
    }

    #[test]
    fn a_query_matches_the_memory_words_it_shares() {
        let key = LexicalKey::default();
        let terms = key.memory_terms("u", "Order 58213 was delivered to the wrong address.");
        assert_eq!(terms.split(' ').count(), 5);
        let query = key.query_tokens("u", "What went wrong with order 58213?");
        assert_eq!(query.len(), 4);
        assert_eq!(matched_tokens(&query, &terms), [1, 2, 3]);
        assert!(matched_tokens(&key.query_tokens("v", "order 58213"), &terms).is_empty());
    }
}
