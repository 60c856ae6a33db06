//! Layering and validation tests. Environment variables are process-global, so these tests use
//! figment's jail, which serialises them and restores the environment.

#![allow(clippy::result_large_err)] // figment's Jail closures must return its (large) error type
use std::path::Path;

use figment::Jail;

use super::*;

/// The shared sections as a process loads them.
fn load(file: Option<&Path>) -> Result<SharedConfig, ConfigError> {
    SharedConfig::load(&Layers::load(file)?)
}

/// The workers' section as a worker loads it.
fn load_workers() -> Result<WorkerSettings, ConfigError> {
    WorkerSettings::load(&Layers::load(None)?)
}

#[test]
fn defaults_are_the_embedded_mode() {
    Jail::expect_with(|_| {
        let config = load(None).expect("defaults load");
        assert_eq!(config.store.url, "sqlite://data/memvox.db");
        assert_eq!(config.http.listen.port(), 8080);
        Ok(())
    });
}

#[test]
fn file_then_environment_override_in_that_order() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "memvox.toml",
            "[http]\nlisten = \"0.0.0.0:9000\"\n[store]\nurl = \"sqlite://file.db\"\nmax_connections = 3\n",
        )?;
        jail.set_env("MEMVOX_STORE__URL", "sqlite://env.db");
        let config = load(Some(Path::new("memvox.toml"))).expect("loads");
        assert_eq!(config.http.listen.port(), 9000, "file beats defaults");
        assert_eq!(
            config.store.url, "sqlite://env.db",
            "environment beats file"
        );
        assert_eq!(config.store.max_connections, 3);
        Ok(())
    });
}

#[test]
fn config_file_can_come_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.create_file("other.toml", "[http]\nshutdown_grace_ms = 1\n")?;
        jail.set_env("MEMVOX_CONFIG", "other.toml");
        assert_eq!(load(None).expect("loads").http.shutdown_grace_ms, 1);
        Ok(())
    });
}

#[test]
fn unknown_backend_is_one_clear_line() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_STORE__URL", "mysql://db/memvox");
        let err = load(None).expect_err("mysql is not a backend").to_string();
        assert!(err.contains("unknown store backend `mysql`"), "{err}");
        assert!(!err.contains('\n'));
        Ok(())
    });
}

#[test]
fn typos_and_bad_values_are_rejected() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_STORE__URLL", "sqlite://x.db");
        let err = load(None).expect_err("unknown key").to_string();
        assert!(err.contains("urll"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_HTTP__LISTEN", "not-an-address");
        assert!(load(None).is_err());
        Ok(())
    });
    Jail::expect_with(|_| {
        let err = load(Some(Path::new("missing.toml"))).expect_err("missing file");
        assert!(err.to_string().contains("missing.toml does not exist"));
        Ok(())
    });
}

#[test]
fn an_unknown_section_is_refused_by_every_process() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_GATWAY__MAX_BODY_BYTES", "1");
        let err = Layers::load(None).expect_err("no such section").to_string();
        assert!(err.contains("unknown section `gatway`"), "{err}");
        assert!(!err.contains('\n'));
        Ok(())
    });
}

#[test]
fn test_variables_do_not_leak_into_the_configuration() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_TEST_POSTGRES_URL", "postgres://x/y");
        assert!(load(None).is_ok());
        Ok(())
    });
}

#[test]
fn cache_settings_come_from_the_environment_and_are_validated() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_CACHE__ENABLED", "false");
        jail.set_env("MEMVOX_CACHE__KEY_PREFIX", "tenant-a:cache");
        let config = load(None).expect("loads");
        assert!(!config.cache.enabled);
        assert_eq!(config.cache.key_prefix, "tenant-a:cache");
        jail.set_env("MEMVOX_CACHE__KEY_PREFIX", "bad*prefix");
        let error = load(None).expect_err("a glob in the prefix is refused");
        assert!(error.to_string().contains("cache.key_prefix"), "{error}");
        Ok(())
    });
}

#[test]
fn encryption_is_on_by_default_and_keys_come_from_the_environment() {
    Jail::expect_with(|jail| {
        assert!(load(None).expect("defaults load").encryption.enabled);
        let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        jail.set_env("MEMVOX_ENCRYPTION__KEYS", format!("k1:{key}"));
        jail.set_env("MEMVOX_ENCRYPTION__ACTIVE_KEY", "k1");
        jail.set_env("MEMVOX_ENCRYPTION__INDEX_KEY", key);
        let config = load(None).expect("loads");
        assert_eq!(config.encryption.active_key.as_deref(), Some("k1"));
        assert!(!format!("{config:?}").contains(key), "keys never print");
        jail.set_env("MEMVOX_ENCRYPTION__ACTIVE_KEY", "k2");
        let err = load(None).expect_err("k2 is not a key").to_string();
        assert!(
            err.contains("active key `k2` is not among the keys (k1)"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn privacy_ages_come_from_the_environment_and_are_checked() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_WORKERS__TURN_RETENTION_DAYS", "30");
        jail.set_env("MEMVOX_STORE__TOMBSTONE_LIFETIME_DAYS", "3650");
        let (config, workers) = (load(None).expect("loads"), load_workers().expect("loads"));
        assert_eq!(workers.turn_retention_days, Some(30));
        assert_eq!(
            workers.raw_payload_retention_days, None,
            "forever by default"
        );
        assert_eq!(config.store.tombstone_lifetime_days, Some(3650));
        assert_eq!(
            (workers.episode_retention_days, workers.audio_retention_days),
            (None, None),
            "episodes and audio are kept unless a policy says otherwise"
        );
        jail.set_env("MEMVOX_WORKERS__AUDIO_RETENTION_DAYS", "90");
        jail.set_env("MEMVOX_WORKERS__EPISODE_RETENTION_DAYS", "0");
        let err = load_workers().expect_err("zero days").to_string();
        assert!(
            err.contains("workers.episode_retention_days must be at least 1"),
            "{err}"
        );
        jail.set_env("MEMVOX_WORKERS__EPISODE_RETENTION_DAYS", "30");
        let workers = load_workers().expect("loads");
        assert_eq!(workers.episode_retention_days, Some(30));
        assert_eq!(workers.audio_retention_days, Some(90));
        jail.set_env("MEMVOX_WORKERS__RAW_PAYLOAD_RETENTION_DAYS", "0");
        let err = load_workers().expect_err("zero days").to_string();
        assert!(
            err.contains("workers.raw_payload_retention_days must be at least 1"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn events_per_commit_comes_from_the_environment_and_is_checked() {
    Jail::expect_with(|jail| {
        let workers = load_workers().expect("loads");
        assert_eq!(workers.events_per_commit(true), 2, "SQLite");
        assert_eq!(workers.events_per_commit(false), 8, "PostgreSQL");
        jail.set_env("MEMVOX_WORKERS__EVENTS_PER_COMMIT", "32");
        let workers = load_workers().expect("loads");
        assert_eq!(workers.events_per_commit(true), 32);
        assert_eq!(workers.events_per_commit(false), 32);
        jail.set_env("MEMVOX_WORKERS__EVENTS_PER_COMMIT", "0");
        let err = load_workers().expect_err("no events").to_string();
        assert!(
            err.contains("workers.events_per_commit must be at least 1"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn privacy_defaults_mask_cards_and_national_ids_and_drop_unredacted_webhooks() {
    use memvox_core::redact::{Field, Mode, PiiKind};
    Jail::expect_with(|_| {
        let config = load(None).expect("defaults load");
        assert_eq!(config.privacy.unredacted_webhooks, UnredactedWebhooks::Drop);
        let policy = config.privacy.redaction.policy();
        let turns = policy.field(Field::TranscriptTurns);
        assert_eq!(turns.mode(PiiKind::Card), Mode::Mask);
        assert_eq!(turns.mode(PiiKind::NationalId), Mode::Mask);
        assert_eq!(turns.mode(PiiKind::Email), Mode::Keep);
        Ok(())
    });
}

#[test]
fn redaction_modes_come_from_the_file_and_the_environment_per_field() {
    use memvox_core::redact::{Field, Mode, PiiKind};
    Jail::expect_with(|jail| {
        jail.create_file(
            "memvox.toml",
            "[privacy]\nunredacted_webhooks = \"store\"\n\
             [privacy.redaction.all_fields]\nemail = \"mask\"\n\
             [privacy.redaction.memory_content]\ncard = \"drop\"\n",
        )?;
        jail.set_env("MEMVOX_PRIVACY__REDACTION__EPISODES__PHONE", "drop");
        let config = load(Some(Path::new("memvox.toml"))).expect("loads");
        assert_eq!(
            config.privacy.unredacted_webhooks,
            UnredactedWebhooks::Store
        );
        let policy = config.privacy.redaction.policy();
        assert_eq!(
            policy.field(Field::Summaries).mode(PiiKind::Email),
            Mode::Mask
        );
        assert_eq!(
            policy.field(Field::MemoryContent).mode(PiiKind::Card),
            Mode::Drop
        );
        assert_eq!(
            policy.field(Field::TranscriptTurns).mode(PiiKind::Card),
            Mode::Mask
        );
        assert_eq!(
            policy.field(Field::Episodes).mode(PiiKind::Phone),
            Mode::Drop
        );
        assert_eq!(
            policy.field(Field::TranscriptTurns).mode(PiiKind::Phone),
            Mode::Keep
        );
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_PRIVACY__REDACTION__TURNS__EMAIL", "mask");
        let err = load(None).expect_err("no field `turns`").to_string();
        assert!(err.contains("turns"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_PRIVACY__UNREDACTED_WEBHOOKS", "keep");
        assert!(load(None).is_err(), "store or drop only");
        Ok(())
    });
}

#[test]
fn episode_windows_are_checked() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_WORKERS__EPISODE_REPLY_TURNS", "9");
        let err = load_workers().expect_err("reply too wide").to_string();
        assert!(err.contains("workers.episode_reply_turns is 9"), "{err}");
        jail.set_env("MEMVOX_WORKERS__EPISODE_REPLY_TURNS", "0");
        let config = load_workers().expect("no reply is a valid window");
        assert_eq!(config.episode_reply_turns, 0);
        Ok(())
    });
}

#[test]
fn a_secret_is_usable_but_never_printed() {
    let secret = Secret::from("wsec_do_not_print");
    assert!(!format!("{secret:?}").contains("wsec_do_not_print"));
    assert_eq!(secret.expose_secret(), "wsec_do_not_print");
}
