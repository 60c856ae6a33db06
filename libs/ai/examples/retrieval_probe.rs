//! Retrieval probe: recall@1/@5 and MRR of each local embedder on `probes/retrieval/`.
//!
//! Run: `cargo run -p memvox-ai --release --example retrieval_probe [probe-dir] [--static DIR]...`
//! (add `--features minilm` to include the transformer when its weights are fetched, and
//! `--bert DIR` with it for another BERT sentence-transformers directory). Without `--static`
//! the bundled static model is scored; each `--static DIR` scores that model directory instead.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use memvox_ai::eval::{ProbeSet, Scores, evaluate};
use memvox_ai::{AiError, Embedder, HashingEmbedder, StaticEmbedder};

fn row(name: &str, s: &Scores) -> String {
    format!(
        "  {name:<11} n={:>3}  R@1 {:.3}  R@5 {:.3}  MRR {:.3}",
        s.questions, s.recall_at_1, s.recall_at_5, s.mrr
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), AiError> {
    let mut dir = None;
    let mut statics: Vec<PathBuf> = Vec::new();
    let mut berts: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--static") => statics.extend(args.next().map(PathBuf::from)),
            Some("--bert") => berts.extend(args.next().map(PathBuf::from)),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../probes/retrieval")
    });
    let set = ProbeSet::load(&dir)?;
    let no_overlap = (0..set.questions.len())
        .filter(|&q| !set.overlaps(q))
        .count();
    println!(
        "probe {}: {} facts, {} questions ({no_overlap} share no content word with their fact)",
        dir.display(),
        set.facts.len(),
        set.questions.len()
    );

    let mut embedders: Vec<(Arc<dyn Embedder>, f64)> = Vec::new();
    if statics.is_empty() {
        let t = Instant::now();
        let static_model = StaticEmbedder::find(None)?;
        embedders.push((Arc::new(static_model), t.elapsed().as_secs_f64() * 1e3));
        embedders.push((Arc::new(HashingEmbedder::new()), 0.0));
    }
    for static_dir in &statics {
        let t = Instant::now();
        let static_model = StaticEmbedder::load(static_dir)?;
        embedders.push((Arc::new(static_model), t.elapsed().as_secs_f64() * 1e3));
    }
    #[cfg(feature = "minilm")]
    {
        let t = Instant::now();
        if berts.is_empty() {
            let minilm = memvox_ai::MiniLmEmbedder::find(None)?;
            embedders.push((Arc::new(minilm), t.elapsed().as_secs_f64() * 1e3));
        }
        for bert_dir in &berts {
            let t = Instant::now();
            println!("bert model: {}", bert_dir.display());
            let bert = memvox_ai::MiniLmEmbedder::load(bert_dir)?;
            embedders.push((Arc::new(bert), t.elapsed().as_secs_f64() * 1e3));
        }
    }
    #[cfg(not(feature = "minilm"))]
    if !berts.is_empty() {
        return Err(AiError::Config("--bert needs `--features minilm`".into()));
    }
    for (embedder, load_ms) in embedders {
        let t = Instant::now();
        let report = evaluate(embedder.as_ref(), &set).await?;
        println!(
            "{} ({} d; load {load_ms:.0} ms; probe embedded in {:.0} ms)",
            embedder.model_id(),
            embedder.dimension(),
            t.elapsed().as_secs_f64() * 1e3
        );
        println!("{}", row("all", &report.all));
        println!("{}", row("no-overlap", &report.no_overlap));
        println!("{}", row("overlap", &report.overlap));
    }
    Ok(())
}
