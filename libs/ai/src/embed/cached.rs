//! A bounded in-process cache in front of any embedder.
//!
//! Owns [`CachedEmbedder`]. Callers ask the same questions again (a caller's name, "what did I
//! order last time"); the cache answers those without running the model or calling a server.
//! Invariants: entries are keyed by (model id, sha256 of the text), so vectors of different
//! models never mix and texts are not kept in memory; the cache is bounded by bytes of vectors,
//! not entries, so a 1536-d provider cannot use more memory than a 256-d one; only successful
//! results are cached.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use moka::future::Cache;
use sha2::{Digest, Sha256};

use super::Embedder;
use crate::AiError;

/// Cache key: the model id and the sha256 of the text.
type Key = (Arc<str>, [u8; 32]);

/// Wraps an embedder with a moka cache of its vectors.
#[derive(Clone)]
pub struct CachedEmbedder {
    inner: Arc<dyn Embedder>,
    model_id: Arc<str>,
    cache: Cache<Key, Arc<[f32]>>,
}

impl CachedEmbedder {
    /// Caches `inner`'s vectors in at most about `max_bytes` of memory.
    pub fn new(inner: Arc<dyn Embedder>, max_bytes: u64) -> Self {
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_key: &Key, v: &Arc<[f32]>| {
                let bytes = std::mem::size_of_val::<[f32]>(v) + std::mem::size_of::<Key>();
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .build();
        Self {
            model_id: Arc::from(inner.model_id()),
            inner,
            cache,
        }
    }

    fn key(&self, text: &str) -> Key {
        (
            self.model_id.clone(),
            Sha256::digest(text.as_bytes()).into(),
        )
    }
}

impl std::fmt::Debug for CachedEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedEmbedder")
            .field("inner", &self.inner)
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

#[async_trait]
impl Embedder for CachedEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        let keys: Vec<Key> = texts.iter().map(|t| self.key(t)).collect();
        let mut found: Vec<Option<Arc<[f32]>>> = Vec::with_capacity(texts.len());
        for key in &keys {
            found.push(self.cache.get(key).await);
        }
        // Each distinct missing text is embedded once, in one call to the inner embedder.
        let mut missing: Vec<&str> = Vec::new();
        let mut slot_of: HashMap<&[u8; 32], usize> = HashMap::new();
        for ((text, key), hit) in texts.iter().zip(&keys).zip(&found) {
            if hit.is_none() && !slot_of.contains_key(&key.1) {
                slot_of.insert(&key.1, missing.len());
                missing.push(text);
            }
        }
        let fresh: Vec<Arc<[f32]>> = if missing.is_empty() {
            Vec::new()
        } else {
            let vectors = self.inner.embed(&missing).await?;
            vectors.into_iter().map(Arc::from).collect()
        };
        let mut out = Vec::with_capacity(texts.len());
        for (key, hit) in keys.iter().zip(found) {
            let vector = match hit {
                Some(v) => v,
                None => {
                    let v = fresh[slot_of[&key.1]].clone();
                    self.cache.insert(key.clone(), v.clone()).await;
                    v
                }
            };
            out.push(vector.to_vec());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::HashingEmbedder;

    /// Delegates to the hashing embedder and counts what reaches it.
    #[derive(Debug, Default)]
    struct Counting {
        calls: AtomicUsize,
        texts: AtomicUsize,
    }

    #[async_trait]
    impl Embedder for Counting {
        fn model_id(&self) -> &str {
            "counting"
        }
        fn dimension(&self) -> usize {
            HashingEmbedder::DIMENSION
        }
        async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.texts.fetch_add(texts.len(), Ordering::SeqCst);
            HashingEmbedder::new().embed(texts).await
        }
    }

    fn cached() -> (Arc<Counting>, CachedEmbedder) {
        let inner = Arc::new(Counting::default());
        let cached = CachedEmbedder::new(inner.clone(), 1 << 20);
        (inner, cached)
    }

    #[tokio::test]
    async fn a_repeated_query_does_not_reach_the_inner_embedder() {
        let (inner, cached) = cached();
        let first = cached.embed_one("what is my dog called").await.unwrap();
        let second = cached.embed_one("what is my dog called").await.unwrap();
        assert_eq!(first, second);
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        assert_eq!(cached.model_id(), "counting");
    }

    #[tokio::test]
    async fn only_missing_distinct_texts_are_embedded_and_order_is_kept() {
        let (inner, cached) = cached();
        cached.embed(&["b"]).await.unwrap();
        let got = cached.embed(&["a", "b", "a", "c"]).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        assert_eq!(
            inner.texts.load(Ordering::SeqCst),
            3,
            "b once, then a and c"
        );
        let direct = HashingEmbedder::new()
            .embed(&["a", "b", "a", "c"])
            .await
            .unwrap();
        assert_eq!(got, direct);
    }

    #[tokio::test]
    async fn errors_are_passed_through_and_not_cached() {
        let (inner, cached) = cached();
        assert!(cached.embed(&["ok", " "]).await.is_err());
        assert!(cached.embed(&["ok", " "]).await.is_err());
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }
}
