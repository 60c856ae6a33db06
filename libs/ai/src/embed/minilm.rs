//! The opt-in quality embedder: all-MiniLM-L6-v2 run in process with candle (`minilm` feature).
//!
//! Owns [`MiniLmEmbedder`]: the 6-layer BERT sentence-transformer (384 d) that the static model
//! was distilled from, on the CPU. It ranks paraphrases far better than the static model but
//! costs milliseconds per text instead of microseconds, so it is never the default.
//!
//! Invariants: the output is what sentence-transformers computes for this model (inputs
//! truncated to 256 tokens, attention-masked mean pooling of the last hidden state, L2
//! normalisation; tested against stored Python vectors in `tests/minilm_reference.rs`);
//! weights are read into memory once (no mmap: the workspace forbids `unsafe`) and shared;
//! inference runs on tokio's blocking pool in batches of [`BATCH`], never on an async worker.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::model_path::{require_files, resolve_model_dir};
use super::{Embedder, check_inputs};
use crate::AiError;
use memvox_core::vector::l2_normalize;

/// Texts run through the model together (padded to the longest of them).
const BATCH: usize = 32;
/// Longest input in tokens, as sentence-transformers' `max_seq_length` for this model.
const MAX_TOKENS: usize = 256;
/// Files the loader reads from the model directory.
const REQUIRED_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// all-MiniLM-L6-v2 on the CPU.
#[derive(Clone)]
pub struct MiniLmEmbedder {
    inner: Arc<Inner>,
    dimension: usize,
    dir: PathBuf,
}

struct Inner {
    model: BertModel,
    tokenizer: Tokenizer,
}

impl MiniLmEmbedder {
    /// Directory of the fetched weights, relative to the repository root.
    pub const DEFAULT_DIR: &'static str = "models/minilm";
    /// Model id recorded next to its vectors.
    pub const MODEL_ID: &'static str = "all-minilm-l6-v2";
    /// What to do when the weights are missing.
    pub const FIX: &'static str =
        "fetch them with `scripts/fetch-minilm.sh`, or set the embedder's model_path";

    /// Loads from `configured`, or from [`Self::DEFAULT_DIR`] searched under the working
    /// directory, the executable's parents and this repository.
    pub fn find(configured: Option<&Path>) -> Result<Self, AiError> {
        let dir = resolve_model_dir(configured, Self::DEFAULT_DIR, Self::FIX)?;
        Self::load(&dir)
    }

    /// Loads from exactly `dir` (a sentence-transformers directory: config, weights, tokenizer).
    pub fn load(dir: &Path) -> Result<Self, AiError> {
        require_files(dir, &REQUIRED_FILES, Self::FIX)?;
        let fail = |reason: String| AiError::ModelLoad {
            path: dir.to_path_buf(),
            reason,
        };
        let config: Config = std::fs::read(dir.join("config.json"))
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| fail(format!("config.json: {e}")))?;
        let weights =
            std::fs::read(dir.join("model.safetensors")).map_err(|e| fail(e.to_string()))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| fail(e.to_string()))?;
        let model = BertModel::load(vb, &config).map_err(|e| fail(e.to_string()))?;
        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| fail(e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner { model, tokenizer }),
            dimension: config.hidden_size,
            dir: dir.to_path_buf(),
        })
    }

    /// Embeds texts on the current thread (CPU-bound: milliseconds per text).
    pub fn embed_sync(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            out.extend(self.inner.encode(batch).map_err(AiError::LocalModel)?);
        }
        Ok(out)
    }
}

impl Inner {
    /// Tokenises, runs BERT and mean-pools one batch.
    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| format!("tokenizer: {e}"))?;
        let rows = encodings.len();
        let cols = encodings.first().map_or(0, |e| e.get_ids().len());
        let ids: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_ids().to_vec())
            .collect();
        let mask: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_attention_mask().to_vec())
            .collect();
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let ids = Tensor::from_vec(ids, (rows, cols), &Device::Cpu)?;
            let mask = Tensor::from_vec(mask, (rows, cols), &Device::Cpu)?;
            let hidden = self.model.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
            summed.broadcast_div(&counts)?.to_vec2::<f32>()
        };
        let mut vectors = run().map_err(|e| format!("inference: {e}"))?;
        vectors.iter_mut().for_each(|v| l2_normalize(v));
        Ok(vectors)
    }
}

impl fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiniLmEmbedder")
            .field("dimension", &self.dimension)
            .field("dir", &self.dir)
            .finish()
    }
}

#[async_trait]
impl Embedder for MiniLmEmbedder {
    fn model_id(&self) -> &str {
        Self::MODEL_ID
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        check_inputs(texts)?;
        let this = self.clone();
        let owned: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
            this.embed_sync(&refs)
        })
        .await
        .map_err(|e| AiError::LocalModel(format!("embedding task failed: {e}")))?
    }
}
