//! A 4-dimensional embedder for tests: hand-made vectors for the texts a test names, a stable
//! hashed unit vector for any other text. Its space is the test stores' ([`crate::space`]).

use std::collections::HashMap;

use memvox_ai::{AiError, Embedder};

/// A 4-d embedder: known texts get their hand-made vector, others a stable hashed one.
#[derive(Debug, Default, Clone)]
pub struct TestEmbedder {
    vectors: HashMap<String, Vec<f32>>,
}

impl TestEmbedder {
    /// An embedder mapping each text to its vector.
    pub fn new(pairs: &[(&str, [f32; 4])]) -> Self {
        Self {
            vectors: pairs
                .iter()
                .map(|(text, v)| ((*text).to_owned(), v.to_vec()))
                .collect(),
        }
    }
}

#[async_trait::async_trait]
impl Embedder for TestEmbedder {
    fn model_id(&self) -> &str {
        "test-4d"
    }

    fn dimension(&self) -> usize {
        4
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        Ok(texts
            .iter()
            .map(|text| {
                self.vectors.get(*text).cloned().unwrap_or_else(|| {
                    let mut v: Vec<f32> = (0..4u8)
                        .map(|i| {
                            f32::from(text.bytes().fold(i, |a, b| a.wrapping_mul(31) ^ b)) + 1.0
                        })
                        .collect();
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter_mut().for_each(|x| *x /= norm);
                    v
                })
            })
            .collect())
    }
}
