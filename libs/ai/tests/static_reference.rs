//! The bundled static model in Rust against the same model in Python.
//!
//! `fixtures/static_reference.json` holds vectors computed by Python model2vec 0.10.0
//! (`StaticModel.from_pretrained("models/static-minilm-256").encode(texts)`) for texts chosen to
//! exercise the tokenizer: punctuation, digits, accents, unknown words, extra whitespace,
//! capitals and a long sentence. Rust must agree to cosine > 0.999 on every one.

use memvox_ai::{Embedder, StaticEmbedder};
use memvox_core::vector::dot as cosine;
use serde_json::Value;

fn reference() -> Vec<(String, Vec<f32>)> {
    let raw = include_str!("fixtures/static_reference.json");
    let doc: Value = serde_json::from_str(raw).expect("fixture is JSON");
    doc["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .map(|c| {
            let text = c["text"].as_str().expect("text").to_owned();
            let v = c["vector"]
                .as_array()
                .expect("vector")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect();
            (text, v)
        })
        .collect()
}

#[tokio::test]
async fn rust_matches_python_model2vec() {
    let model = StaticEmbedder::find(None).unwrap();
    assert_eq!(model.model_id(), "static-minilm-256");
    assert_eq!(model.dimension(), 256);
    let cases = reference();
    assert_eq!(cases.len(), 8);
    let texts: Vec<&str> = cases.iter().map(|(t, _)| t.as_str()).collect();
    let got = model.embed(&texts).await.unwrap();
    let mut min = f32::MAX;
    for ((text, want), v) in cases.iter().zip(&got) {
        assert_eq!(v.len(), 256);
        assert!(
            (cosine(v, v) - 1.0).abs() < 1e-4,
            "not unit length for {text:?}"
        );
        let c = cosine(v, want);
        assert!(c > 0.999, "cosine {c} with Python for {text:?}");
        min = min.min(c);
    }
    println!(
        "lowest cosine with Python model2vec over {} texts: {min}",
        cases.len()
    );
}

#[tokio::test]
async fn meaning_outweighs_spelling() {
    let model = StaticEmbedder::find(None).unwrap();
    let v = model
        .embed(&[
            "Maria is allergic to peanuts.",
            "What food should we avoid giving her?",
            "Maria is a customer of Peanut Bank.",
        ])
        .await
        .unwrap();
    // Only an embedding with some meaning ranks the paraphrase above the word overlap.
    assert!(cosine(&v[0], &v[1]) > 0.0);
    let allergy_vs_question = cosine(&v[0], &v[1]);
    let question_vs_bank = cosine(&v[1], &v[2]);
    assert!(
        allergy_vs_question > question_vs_bank,
        "{allergy_vs_question} <= {question_vs_bank}"
    );
}

#[test]
fn a_directory_without_the_model_files_names_the_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = StaticEmbedder::load(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("model.safetensors"), "{msg}");
    assert!(msg.contains("scripts/distill-static-model.sh"), "{msg}");
}
