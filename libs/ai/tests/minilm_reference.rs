//! The candle MiniLM embedder against sentence-transformers' computation in Python.
//!
//! `fixtures/minilm_reference.json` holds vectors computed with Python transformers
//! (`AutoModel` on `models/minilm`, inputs truncated to 256 tokens, attention-masked mean
//! pooling, L2 normalisation: what sentence-transformers does for all-MiniLM-L6-v2) for the
//! same eight texts as the static reference. Needs `--features minilm` and
//! `scripts/fetch-minilm.sh`.
#![cfg(feature = "minilm")]

use memvox_ai::{Embedder, MiniLmEmbedder};
use memvox_core::vector::dot as cosine;
use serde_json::Value;

#[tokio::test]
async fn candle_matches_python_transformers() {
    let model = MiniLmEmbedder::find(None).expect("run scripts/fetch-minilm.sh first");
    assert_eq!(model.dimension(), 384);
    let doc: Value = serde_json::from_str(include_str!("fixtures/minilm_reference.json")).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let got = model.embed(&texts).await.unwrap();
    let mut min = f32::MAX;
    for (case, v) in cases.iter().zip(&got) {
        let want: Vec<f32> = case["vector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        let c = cosine(v, &want);
        assert!(c > 0.999, "cosine {c} with Python for {:?}", case["text"]);
        min = min.min(c);
    }
    println!(
        "lowest cosine with Python over {} texts: {min}",
        cases.len()
    );
}

#[tokio::test]
async fn batching_does_not_change_the_vectors() {
    let model = MiniLmEmbedder::find(None).expect("run scripts/fetch-minilm.sh first");
    let texts: Vec<String> = (0..40)
        .map(|i| format!("caller number {i} likes tea"))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let together = model.embed(&refs).await.unwrap();
    let alone = model.embed(&[refs[37]]).await.unwrap();
    assert!(cosine(&together[37], &alone[0]) > 0.99999);
}
