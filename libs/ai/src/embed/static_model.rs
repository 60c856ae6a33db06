//! The default embedder: the bundled model2vec static model (`models/static-minilm-256`).
//!
//! Owns [`StaticEmbedder`]. A static model keeps one vector per token (29,525 x 256 int8,
//! distilled from all-MiniLM-L6-v2 by `scripts/distill-static-model.sh`); a text's vector is
//! the mean of its tokens' rows, L2-normalised. Loading and pooling are model2vec-rs's, the
//! upstream Rust implementation, so results match Python model2vec (tested against stored
//! reference vectors in `tests/static_reference.rs`).
//!
//! Invariants: the model is read once at start-up (~30 ms) and then shared read-only; an
//! embedding costs about a microsecond, so it runs inline on the caller's task with no thread
//! hand-off. The model id is the directory's name, so a re-distilled model put in a new
//! directory gets a new id.

use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use model2vec_rs::model::StaticModel;

use super::model_path::{require_files, resolve_model_dir};
use super::{Embedder, check_inputs};
use crate::AiError;

/// Files the loader reads from the model directory.
const REQUIRED_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// The bundled model2vec static embedding model.
#[derive(Clone)]
pub struct StaticEmbedder {
    model: StaticModel,
    model_id: String,
    dimension: usize,
    dir: PathBuf,
}

impl StaticEmbedder {
    /// Directory of the bundled model, relative to the repository root.
    pub const DEFAULT_DIR: &'static str = "models/static-minilm-256";
    /// What to do when the bundled model is missing.
    pub const FIX: &'static str = "restore it with `git checkout -- models/static-minilm-256`, \
        rebuild it with `scripts/distill-static-model.sh`, or set the embedder's model_path";

    /// Loads the model from `configured`, or from [`Self::DEFAULT_DIR`] searched under the
    /// working directory, the executable's parents and this repository.
    pub fn find(configured: Option<&Path>) -> Result<Self, AiError> {
        let dir = resolve_model_dir(configured, Self::DEFAULT_DIR, Self::FIX)?;
        Self::load(&dir)
    }

    /// Loads the model from exactly `dir`.
    pub fn load(dir: &Path) -> Result<Self, AiError> {
        require_files(dir, &REQUIRED_FILES, Self::FIX)?;
        let model = StaticModel::from_pretrained(dir, None, Some(true), None).map_err(|e| {
            AiError::ModelLoad {
                path: dir.to_path_buf(),
                reason: format!("{e:#}"),
            }
        })?;
        let model_id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "static".to_owned());
        Ok(Self {
            dimension: model.dim(),
            model,
            model_id,
            dir: dir.to_path_buf(),
        })
    }

    /// The directory the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Embeds one text synchronously. Only its first 512 tokens count (as in Python model2vec).
    pub fn embed_sync(&self, text: &str) -> Vec<f32> {
        self.model.encode_single(text)
    }
}

impl fmt::Debug for StaticEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticEmbedder")
            .field("model_id", &self.model_id)
            .field("dimension", &self.dimension)
            .field("dir", &self.dir)
            .finish()
    }
}

#[async_trait]
impl Embedder for StaticEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, AiError> {
        check_inputs(texts)?;
        Ok(crate::cpu_bound(|| {
            texts.iter().map(|t| self.embed_sync(t)).collect()
        }))
    }
}
