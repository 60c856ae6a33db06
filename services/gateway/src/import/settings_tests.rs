//! Loading and validation of `[elevenlabs]`. Environment variables are process-global, so these
//! tests use figment's jail, which serialises them and restores the environment.
#![allow(clippy::result_large_err)] // figment's Jail closures must return its (large) error type

use figment::Jail;

use super::*;

fn load() -> Result<ElevenLabsSettings, ConfigError> {
    ElevenLabsSettings::load(&Layers::load(None)?)
}

fn error(jail_env: &[(&str, &str)]) -> String {
    let mut message = String::new();
    Jail::expect_with(|jail| {
        jail.clear_env();
        for (key, value) in jail_env {
            jail.set_env(key, value);
        }
        message = load().expect_err("invalid").to_string();
        Ok(())
    });
    message
}

#[test]
fn the_key_comes_from_the_configuration_else_from_elevenlabs_api_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let settings = load().expect("loads");
        assert!(settings.api_key.is_none());
        assert!(!settings.poll.enabled, "off by default");
        assert!(settings.client().expect("no client needed").is_none());
        jail.set_env(API_KEY_ENV, " ");
        assert!(load().expect("loads").api_key.is_none(), "empty is unset");
        jail.set_env(API_KEY_ENV, "sk_from_env");
        let settings = load().expect("loads");
        assert_eq!(
            settings.api_key.expect("key").expose_secret(),
            "sk_from_env"
        );
        jail.set_env("MEMVOX_ELEVENLABS__API_KEY", "sk_from_config");
        let settings = load().expect("loads");
        assert_eq!(
            settings.api_key.as_ref().expect("key").expose_secret(),
            "sk_from_config"
        );
        assert!(settings.client().expect("client").is_some());
        jail.set_env("MEMVOX_ELEVENLABS__POLL__ENABLED", "true");
        jail.set_env(
            "MEMVOX_ELEVENLABS__POLL__AGENT_IDS",
            r#"["agent_a", "agent_b"]"#,
        );
        let poll = load().expect("loads").poll;
        assert!(poll.enabled);
        assert_eq!(poll.agent_ids, ["agent_a", "agent_b"]);
        Ok(())
    });
}

#[test]
fn each_broken_rule_is_explained() {
    let empty_key = error(&[("MEMVOX_ELEVENLABS__API_KEY", " ")]);
    assert!(
        empty_key.contains("elevenlabs.api_key is empty"),
        "{empty_key}"
    );
    let page = error(&[("MEMVOX_ELEVENLABS__PAGE_SIZE", "500")]);
    assert!(page.contains("1 to 100 conversations per page"), "{page}");
    let url = error(&[("MEMVOX_ELEVENLABS__API_URL", "ftp://api.elevenlabs.io")]);
    assert!(url.contains("must be an http(s) address"), "{url}");
    let attempts = error(&[("MEMVOX_ELEVENLABS__MAX_ATTEMPTS", "0")]);
    assert!(
        attempts.contains("elevenlabs.max_attempts must be at least 1"),
        "{attempts}"
    );
    let window = error(&[
        ("MEMVOX_ELEVENLABS__POLL__LOOKBACK_SECS", "600"),
        ("MEMVOX_ELEVENLABS__POLL__INTERVAL_SECS", "600"),
    ]);
    assert!(
        window.contains("must exceed settle_secs + interval_secs (900)"),
        "{window}"
    );
    let unknown = error(&[("MEMVOX_ELEVENLABS__API_TOKEN", "x")]);
    assert!(unknown.contains("api_token"), "{unknown}");
}
