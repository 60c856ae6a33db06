//! [`QueryVectors`]: query embeddings in two tiers — moka in process, then Redis shared by every
//! replica — so a question any replica embedded is not sent to the model again.
//!
//! A vector depends only on the model and the text, never on a user's data, so its keys carry
//! no version and writes never invalidate it; entries expire with the tiers' times to live.
//! Worth turning on for a remote embedder (a network call per query); the bundled static model
//! embeds in microseconds, faster than a Redis round trip.

use std::sync::Arc;

use moka::future::Cache;
use sha2::{Digest, Sha256};

use crate::{CacheMetrics, SharedTier};

/// Label of this cache in the lookup metrics.
const NAME: &str = "query_vectors";

/// Query vectors of one model. Cheap to clone.
#[derive(Clone)]
pub struct QueryVectors {
    model: Arc<str>,
    local: Cache<[u8; 32], Arc<[f32]>>,
    shared: SharedTier,
    metrics: CacheMetrics,
}

impl std::fmt::Debug for QueryVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryVectors")
            .field("model", &self.model)
            .field("entries", &self.local.entry_count())
            .finish()
    }
}

impl QueryVectors {
    /// Vectors of `model`: at most `capacity` in process (each living at most `local_ttl`), and
    /// in `shared`.
    pub fn new(
        model: &str,
        capacity: u64,
        local_ttl: std::time::Duration,
        shared: SharedTier,
        metrics: CacheMetrics,
    ) -> Self {
        Self {
            model: Arc::from(model),
            local: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(local_ttl)
                .build(),
            shared,
            metrics,
        }
    }

    /// The cached vector of `text`: in process, else in Redis (then kept in process).
    pub async fn get(&self, text: &str) -> Option<Arc<[f32]>> {
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        if let Some(hit) = self.local.get(&digest).await {
            self.metrics.lookup(NAME, "memory", true);
            return Some(hit);
        }
        self.metrics.lookup(NAME, "memory", false);
        let bytes = self
            .shared
            .get(self.shared.vector_key(&self.model, text))
            .await;
        let vector = bytes.and_then(|b| decode(&b));
        self.metrics.lookup(NAME, "redis", vector.is_some());
        let vector = vector?;
        self.local.insert(digest, vector.clone()).await;
        Some(vector)
    }

    /// Caches the vector of `text` in both tiers.
    pub async fn insert(&self, text: &str, vector: &[f32]) {
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        self.shared
            .put(self.shared.vector_key(&self.model, text), &encode(vector))
            .await;
        self.local.insert(digest, Arc::from(vector)).await;
    }
}

/// Little-endian `f32`s, 4 bytes each.
fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`encode`]; `None` for a length that is not a whole number of `f32`s.
fn decode(bytes: &[u8]) -> Option<Arc<[f32]>> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_the_round_trip_and_bad_bytes_are_refused() {
        let v = [0.25_f32, -1.5, 3.0e-7];
        assert_eq!(decode(&encode(&v)).as_deref(), Some(&v[..]));
        assert_eq!(decode(&[1, 2, 3]), None);
        assert_eq!(decode(&[]), None);
    }
}
