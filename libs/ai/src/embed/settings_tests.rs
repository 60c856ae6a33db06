//! Tests of [`EmbedderSettings`] parsing, validation and [`build_embedder`].

use super::*;
use crate::Fault;
use secrecy::ExposeSecret as _;

fn parse(json: &str) -> Result<EmbedderSettings, serde_json::Error> {
    serde_json::from_str(json)
}

#[test]
fn an_empty_section_means_the_bundled_static_model() {
    let s = parse("{}").unwrap();
    // Every field as the defaults (Debug shows each; a key, which it redacts, is absent).
    assert_eq!(
        format!("{s:?}"),
        format!("{:?}", EmbedderSettings::default())
    );
    assert!(s.openai.api_key.is_none());
    assert_eq!(s.provider, EmbedderProvider::Static);
    assert_eq!(s.openai.model, "text-embedding-3-small");
    assert_eq!(s.openai.output_dimension().unwrap(), 1536);
}

#[test]
fn providers_parse_from_their_names() {
    for (name, want) in [
        ("static", EmbedderProvider::Static),
        ("hashing", EmbedderProvider::Hashing),
        ("openai", EmbedderProvider::OpenAi),
        ("minilm", EmbedderProvider::MiniLm),
    ] {
        let s = parse(&format!(r#"{{"provider": "{name}"}}"#)).unwrap();
        assert_eq!(s.provider, want);
    }
    assert!(parse(r#"{"provider": "bert"}"#).is_err());
    assert!(
        parse(r#"{"providr": "static"}"#).is_err(),
        "typos are rejected"
    );
}

#[test]
fn api_key_is_redacted_in_debug() {
    let s = parse(r#"{"openai": {"api_key": "sk-very-secret"}}"#).unwrap();
    assert_eq!(
        s.openai.api_key.as_ref().unwrap().expose_secret(),
        "sk-very-secret"
    );
    let shown = format!("{s:?}");
    assert!(!shown.contains("sk-very-secret"), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
}

#[test]
fn output_dimension_follows_dimensions_then_the_model() {
    let mut o = OpenAiSettings {
        dimensions: Some(256),
        ..OpenAiSettings::default()
    };
    assert_eq!(o.output_dimension().unwrap(), 256);
    o.dimensions = None;
    o.model = "text-embedding-3-large".to_owned();
    assert_eq!(o.output_dimension().unwrap(), 3072);
    o.model = "nomic-embed-text".to_owned();
    let err = o.output_dimension().unwrap_err();
    assert!(err.to_string().contains("model_dimension"), "{err}");
    o.model_dimension = Some(768);
    assert_eq!(o.output_dimension().unwrap(), 768);
}

#[test]
fn validation_explains_bad_values() {
    let bad_batch = OpenAiSettings {
        batch_size: 0,
        ..OpenAiSettings::default()
    };
    assert!(
        bad_batch
            .validate()
            .unwrap_err()
            .to_string()
            .contains("batch_size")
    );
    let bad_url = OpenAiSettings {
        base_url: "api.openai.com".to_owned(),
        ..OpenAiSettings::default()
    };
    assert!(
        bad_url
            .validate()
            .unwrap_err()
            .to_string()
            .contains("base_url")
    );
    assert!(OpenAiSettings::default().validate().is_ok());
}

#[test]
fn build_embedder_wraps_in_a_cache_unless_disabled() {
    let mut s = EmbedderSettings {
        provider: EmbedderProvider::Hashing,
        ..EmbedderSettings::default()
    };
    let cached = build_embedder(&s).unwrap();
    assert!(format!("{cached:?}").starts_with("CachedEmbedder"));
    assert_eq!(cached.model_id(), HashingEmbedder::MODEL_ID);
    s.cache_bytes = 0;
    let raw = build_embedder(&s).unwrap();
    assert!(format!("{raw:?}").starts_with("HashingEmbedder"));
}

#[test]
fn a_missing_static_model_names_the_path_and_the_fix() {
    let s = EmbedderSettings {
        model_path: Some(PathBuf::from("/nowhere/static-minilm-256")),
        ..EmbedderSettings::default()
    };
    let err = build_embedder(&s).unwrap_err();
    assert_eq!(err.fault(), Fault::Config);
    let msg = err.to_string();
    assert!(msg.contains("/nowhere/static-minilm-256"), "{msg}");
    assert!(msg.contains("scripts/distill-static-model.sh"), "{msg}");
}

#[test]
fn the_default_settings_load_the_bundled_model() {
    let e = build_embedder(&EmbedderSettings::default()).unwrap();
    assert_eq!(e.model_id(), "static-minilm-256");
    assert_eq!(e.dimension(), 256);
}

#[cfg(not(feature = "minilm"))]
#[test]
fn minilm_without_the_feature_says_how_to_enable_it() {
    let s = EmbedderSettings {
        provider: EmbedderProvider::MiniLm,
        ..EmbedderSettings::default()
    };
    let msg = build_embedder(&s).unwrap_err().to_string();
    assert!(msg.contains("--features memvox-ai/minilm"), "{msg}");
}
