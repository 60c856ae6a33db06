//! The zero-asset fallback embedder: signed feature hashing of words and character n-grams.
//!
//! Owns [`HashingEmbedder`]. It needs no file and no network, so unit tests and a checkout
//! without the bundled model still work; it only knows spelling, not meaning (on the retrieval
//! probe it finds far fewer paraphrases than the static model), so callers that fall back to it
//! must say so loudly in their logs.
//!
//! Invariants: the output depends only on the text and this file's constants (FNV-1a, not the
//! process-seeded std hasher), so vectors are identical across runs, machines and Rust versions;
//! changing a constant or the feature scheme requires a new [`HashingEmbedder::MODEL_ID`].

use async_trait::async_trait;

use super::{Embedder, check_inputs};
use crate::AiError;
use memvox_core::vector::l2_normalize;

/// Weight of a whole-word feature; each character n-gram weighs 1.
const WORD_WEIGHT: f32 = 2.0;
/// Character n-gram lengths taken from each word padded with `<` and `>`.
const NGRAM_LENGTHS: std::ops::RangeInclusive<usize> = 3..=5;

/// Words plus character 3–5-grams, hashed with a sign into 1024 buckets, L2-normalised.
#[derive(Clone, Debug, Default)]
pub struct HashingEmbedder;

impl HashingEmbedder {
    /// Output dimension.
    pub const DIMENSION: usize = 1024;
    /// Model id recorded next to its vectors.
    pub const MODEL_ID: &'static str = "hashing-1024-v1";

    /// Creates the embedder (it holds no state).
    pub fn new() -> Self {
        Self
    }

    /// Embeds one text synchronously (the work is a few microseconds of hashing).
    pub fn embed_sync(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0.0_f32; Self::DIMENSION];
        let lower = text.to_lowercase();
        let mut padded: Vec<char> = Vec::new();
        for word in lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            add_feature(&mut v, b'w', word.as_bytes(), WORD_WEIGHT);
            padded.clear();
            padded.push('<');
            padded.extend(word.chars());
            padded.push('>');
            for n in NGRAM_LENGTHS {
                for gram in padded.windows(n) {
                    let mut buf = [0_u8; 4 * 5];
                    let mut len = 0;
                    for c in gram {
                        len += c.encode_utf8(&mut buf[len..]).len();
                    }
                    add_feature(&mut v, b'g', &buf[..len], 1.0);
                }
            }
        }
        l2_normalize(&mut v);
        v
    }
}

/// Adds `weight` with a hash-derived sign to the hash-derived bucket of a feature.
fn add_feature(v: &mut [f32], namespace: u8, bytes: &[u8], weight: f32) {
    let h = fnv1a(namespace, bytes);
    let bucket = (h % v.len() as u64) as usize;
    let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
    v[bucket] += sign * weight;
}

/// 64-bit FNV-1a over a namespace byte then the feature bytes.
fn fnv1a(namespace: u8, bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    std::iter::once(&namespace)
        .chain(bytes)
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

#[async_trait]
impl Embedder for HashingEmbedder {
    fn model_id(&self) -> &str {
        Self::MODEL_ID
    }

    fn dimension(&self) -> usize {
        Self::DIMENSION
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        check_inputs(texts)?;
        Ok(texts.iter().map(|t| self.embed_sync(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memvox_core::vector::dot as cosine;

    #[tokio::test]
    async fn vectors_are_unit_length_and_deterministic() {
        let e = HashingEmbedder::new();
        let a = e
            .embed(&["Maria is allergic to peanuts", "x"])
            .await
            .unwrap();
        let b = e.embed(&["Maria is allergic to peanuts"]).await.unwrap();
        assert_eq!(a[0], b[0]);
        for v in &a {
            assert_eq!(v.len(), 1024);
            assert!((cosine(v, v) - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn output_is_pinned_across_runs_and_platforms() {
        // Reference value computed independently (Python, 64-bit FNV-1a over b"wa"). If this
        // changes, every stored hashing vector changes: MODEL_ID must change with it.
        assert_eq!(fnv1a(b'w', b"a"), 0x08cb_5707_b56d_2975);
    }

    #[test]
    fn case_and_punctuation_do_not_matter_and_spelling_does() {
        let e = HashingEmbedder::new();
        let a = e.embed_sync("Peanut allergy!");
        let b = e.embed_sync("peanut ALLERGY");
        let c = e.embed_sync("peanuts allergic");
        let d = e.embed_sync("prefers text messages");
        assert!((cosine(&a, &b) - 1.0).abs() < 1e-5);
        assert!(
            cosine(&a, &c) > 0.3,
            "shared n-grams make near spellings close"
        );
        assert!(cosine(&a, &c) > cosine(&a, &d) + 0.2);
    }
}
