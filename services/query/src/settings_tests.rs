//! Loading and validation of `[query]`. Environment variables are process-global, so these
//! tests use figment's jail, which serialises them and restores the environment.
#![allow(clippy::result_large_err)] // figment's Jail closures must return its (large) error type

use std::path::Path;

use figment::Jail;

use super::*;

/// `[query]` as the query service loads it.
fn load(file: Option<&Path>) -> Result<QuerySettings, ConfigError> {
    QuerySettings::load(&Layers::load(file)?)
}

#[test]
fn ranking_settings_are_configurable_and_checked() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "memvox.toml",
            "[query]\nlexical_weight = 0.3\n[query.decay]\nemotional = 0.1\n",
        )?;
        let config = load(Some(Path::new("memvox.toml"))).expect("loads");
        assert_eq!(config.lexical_weight, 0.3);
        assert_eq!(config.decay.rate(memvox_core::Sector::Emotional), 0.1);
        assert_eq!(
            config.decay.rate(memvox_core::Sector::Semantic),
            memvox_core::Sector::Semantic.default_decay_per_day(),
            "unset sectors keep their default"
        );
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_QUERY__DECAY__EPISODIC", "-1");
        let err = load(None).expect_err("negative decay").to_string();
        assert!(err.contains("query.decay.episodic is -1"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_QUERY__LEXICAL_WEIGHT", "2");
        let err = load(None).expect_err("weight above 1").to_string();
        assert!(err.contains("query.lexical_weight"), "{err}");
        Ok(())
    });
}

#[test]
fn one_token_cannot_hold_both_roles() {
    Jail::expect_with(|jail| {
        let digest = "ab".repeat(32);
        jail.set_env(
            "MEMVOX_QUERY__TOOL_TOKEN_SHA256",
            format!(r#"["{digest}"]"#),
        );
        jail.set_env(
            "MEMVOX_QUERY__ADMIN_TOKEN_SHA256",
            format!(r#"["{digest}"]"#),
        );
        let err = load(None).expect_err("shared token").to_string();
        assert!(err.contains("give each role its own token"), "{err}");
        Ok(())
    });
}

#[test]
fn an_empty_init_secret_stops_start_up() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_QUERY__INIT_SECRETS", r#"["good", ""]"#);
        let err = load(None)
            .expect_err("an empty secret is refused")
            .to_string();
        assert!(err.contains("query.init_secrets[1] is empty"), "{err}");
        jail.set_env("MEMVOX_QUERY__INIT_SECRETS", r#"["good"]"#);
        assert!(load(None).is_ok());
        Ok(())
    });
}

#[test]
fn an_inspector_session_lasts_a_minute_to_a_week() {
    Jail::expect_with(|jail| {
        assert_eq!(load(None).expect("defaults load").ui_session_minutes, 480);
        for refused in ["0", "10081"] {
            jail.set_env("MEMVOX_QUERY__UI_SESSION_MINUTES", refused);
            let err = load(None).expect_err(refused).to_string();
            assert!(
                err.contains(&format!("query.ui_session_minutes is {refused}")),
                "{err}"
            );
        }
        jail.set_env("MEMVOX_QUERY__UI_SESSION_MINUTES", "10080");
        assert_eq!(load(None).expect("a week").ui_session_minutes, 10_080);
        Ok(())
    });
}

#[test]
fn the_llm_proxy_is_configured_from_the_environment_and_checked_when_enabled() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_QUERY__LLM_PROXY__ENABLED", "true");
        let err = load(None).expect_err("no upstream").to_string();
        assert!(
            err.contains("query.llm_proxy.upstream_url is empty"),
            "{err}"
        );
        jail.set_env(
            "MEMVOX_QUERY__LLM_PROXY__UPSTREAM_URL",
            "http://127.0.0.1:8000/v1",
        );
        jail.set_env("MEMVOX_QUERY__LLM_PROXY__UPSTREAM_API_KEY", "sk-test");
        jail.set_env("MEMVOX_QUERY__LLM_PROXY__MODELS__MEMVOX", "llama3");
        jail.set_env("MEMVOX_QUERY__LLM_PROXY__BUDGET_MS", "25");
        let config = load(None).expect("loads");
        let proxy = &config.llm_proxy;
        assert_eq!(proxy.budget_ms, 25);
        assert_eq!(proxy.model(Some("memvox")).unwrap(), "llama3");
        assert_eq!(
            proxy.upstream_api_key.as_ref().unwrap().expose_secret(),
            "sk-test"
        );
        assert!(
            !format!("{config:?}").contains("sk-test"),
            "the key is redacted"
        );
        Ok(())
    });
}

#[test]
fn the_llm_proxy_token_cannot_open_the_admin_api() {
    Jail::expect_with(|jail| {
        let digest = "cd".repeat(32);
        jail.set_env(
            "MEMVOX_QUERY__LLM_PROXY__TOKEN_SHA256",
            format!(r#"["{digest}"]"#),
        );
        jail.set_env(
            "MEMVOX_QUERY__ADMIN_TOKEN_SHA256",
            format!(r#"["{digest}"]"#),
        );
        let err = load(None).expect_err("shared token").to_string();
        assert!(
            err.contains("query.llm_proxy.token_sha256 and query.admin_token_sha256"),
            "{err}"
        );
        Ok(())
    });
}
