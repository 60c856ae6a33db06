//! Layering and validation tests. Environment variables are process-global, so these tests use
//! figment's jail, which serialises them and restores the environment.

#![allow(clippy::result_large_err)] // figment's Jail closures must return its (large) error type
use figment::Jail;

use super::*;

#[test]
fn defaults_are_the_embedded_mode() {
    Jail::expect_with(|_| {
        let config = Config::load(None).expect("defaults load");
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
        let config = Config::load(Some(Path::new("memvox.toml"))).expect("loads");
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
        assert_eq!(Config::load(None).expect("loads").http.shutdown_grace_ms, 1);
        Ok(())
    });
}

#[test]
fn unknown_backend_is_one_clear_line() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_STORE__URL", "mysql://db/memvox");
        let err = Config::load(None)
            .expect_err("mysql is not a backend")
            .to_string();
        assert!(err.contains("unknown store backend `mysql`"), "{err}");
        assert!(!err.contains('\n'));
        Ok(())
    });
}

#[test]
fn typos_and_bad_values_are_rejected() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_STORE__URLL", "sqlite://x.db");
        let err = Config::load(None).expect_err("unknown key").to_string();
        assert!(err.contains("urll"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_HTTP__LISTEN", "not-an-address");
        assert!(Config::load(None).is_err());
        Ok(())
    });
    Jail::expect_with(|_| {
        let err = Config::load(Some(Path::new("missing.toml"))).expect_err("missing file");
        assert!(err.to_string().contains("missing.toml does not exist"));
        Ok(())
    });
}

#[test]
fn test_variables_do_not_leak_into_the_configuration() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_TEST_POSTGRES_URL", "postgres://x/y");
        assert!(Config::load(None).is_ok());
        Ok(())
    });
}

#[test]
fn ranking_settings_are_configurable_and_checked() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "memvox.toml",
            "[query]\nlexical_weight = 0.3\n[query.decay]\nemotional = 0.1\n",
        )?;
        let config = Config::load(Some(Path::new("memvox.toml"))).expect("loads");
        assert_eq!(config.query.lexical_weight, 0.3);
        assert_eq!(config.query.decay.rate(memvox_core::Sector::Emotional), 0.1);
        assert_eq!(
            config.query.decay.rate(memvox_core::Sector::Semantic),
            memvox_core::Sector::Semantic.default_decay_per_day(),
            "unset sectors keep their default"
        );
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_QUERY__DECAY__EPISODIC", "-1");
        let err = Config::load(None).expect_err("negative decay").to_string();
        assert!(err.contains("query.decay.episodic is -1"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_QUERY__LEXICAL_WEIGHT", "2");
        let err = Config::load(None).expect_err("weight above 1").to_string();
        assert!(err.contains("query.lexical_weight"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_WORKERS__EPISODE_REPLY_TURNS", "9");
        let err = Config::load(None).expect_err("reply too wide").to_string();
        assert!(err.contains("workers.episode_reply_turns is 9"), "{err}");
        jail.set_env("MEMVOX_WORKERS__EPISODE_REPLY_TURNS", "0");
        let config = Config::load(None).expect("no reply is a valid window");
        assert_eq!(config.workers.episode_reply_turns, 0);
        Ok(())
    });
}

#[test]
fn cache_settings_come_from_the_environment_and_are_validated() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_CACHE__ENABLED", "false");
        jail.set_env("MEMVOX_CACHE__KEY_PREFIX", "tenant-a:cache");
        let config = Config::load(None).expect("loads");
        assert!(!config.cache.enabled);
        assert_eq!(config.cache.key_prefix, "tenant-a:cache");
        jail.set_env("MEMVOX_CACHE__KEY_PREFIX", "bad*prefix");
        let error = Config::load(None).expect_err("a glob in the prefix is refused");
        assert!(error.to_string().contains("cache.key_prefix"), "{error}");
        Ok(())
    });
}

#[test]
fn encryption_is_on_by_default_and_keys_come_from_the_environment() {
    Jail::expect_with(|jail| {
        assert!(
            Config::load(None)
                .expect("defaults load")
                .encryption
                .enabled
        );
        let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        jail.set_env("MEMVOX_ENCRYPTION__KEYS", format!("k1:{key}"));
        jail.set_env("MEMVOX_ENCRYPTION__ACTIVE_KEY", "k1");
        jail.set_env("MEMVOX_ENCRYPTION__INDEX_KEY", key);
        let config = Config::load(None).expect("loads");
        assert_eq!(config.encryption.active_key.as_deref(), Some("k1"));
        assert!(!format!("{config:?}").contains(key), "keys never print");
        jail.set_env("MEMVOX_ENCRYPTION__ACTIVE_KEY", "k2");
        let err = Config::load(None).expect_err("k2 is not a key").to_string();
        assert!(
            err.contains("active key `k2` is not among the keys (k1)"),
            "{err}"
        );
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
        let err = Config::load(None).expect_err("shared token").to_string();
        assert!(err.contains("give each role its own token"), "{err}");
        Ok(())
    });
}

#[test]
fn an_empty_init_secret_stops_start_up() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_QUERY__INIT_SECRETS", r#"["good", ""]"#);
        let err = Config::load(None)
            .expect_err("an empty secret is refused")
            .to_string();
        assert!(err.contains("query.init_secrets[1] is empty"), "{err}");
        jail.set_env("MEMVOX_QUERY__INIT_SECRETS", r#"["good"]"#);
        assert!(Config::load(None).is_ok());
        Ok(())
    });
}

#[test]
fn privacy_ages_come_from_the_environment_and_are_checked() {
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_WORKERS__TURN_RETENTION_DAYS", "30");
        jail.set_env("MEMVOX_STORE__TOMBSTONE_LIFETIME_DAYS", "3650");
        let config = Config::load(None).expect("loads");
        assert_eq!(config.workers.turn_retention_days, Some(30));
        assert_eq!(
            config.workers.raw_payload_retention_days, None,
            "forever by default"
        );
        assert_eq!(config.store.tombstone_lifetime_days, Some(3650));
        assert_eq!(
            (
                config.workers.episode_retention_days,
                config.workers.audio_retention_days
            ),
            (None, None),
            "episodes and audio are kept unless a policy says otherwise"
        );
        jail.set_env("MEMVOX_WORKERS__AUDIO_RETENTION_DAYS", "90");
        jail.set_env("MEMVOX_WORKERS__EPISODE_RETENTION_DAYS", "0");
        let err = Config::load(None).expect_err("zero days").to_string();
        assert!(
            err.contains("workers.episode_retention_days must be at least 1"),
            "{err}"
        );
        jail.set_env("MEMVOX_WORKERS__EPISODE_RETENTION_DAYS", "30");
        let config = Config::load(None).expect("loads");
        assert_eq!(config.workers.episode_retention_days, Some(30));
        assert_eq!(config.workers.audio_retention_days, Some(90));
        jail.set_env("MEMVOX_WORKERS__RAW_PAYLOAD_RETENTION_DAYS", "0");
        let err = Config::load(None).expect_err("zero days").to_string();
        assert!(
            err.contains("workers.raw_payload_retention_days must be at least 1"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn gateway_body_limits_come_from_the_environment_and_are_checked() {
    Jail::expect_with(|jail| {
        let config = Config::load(None).expect("loads");
        assert_eq!(config.gateway.body_read_timeout_ms, 10_000);
        assert_eq!(config.gateway.max_concurrent_large_bodies, 4);
        jail.set_env("MEMVOX_GATEWAY__BODY_READ_TIMEOUT_MS", "2500");
        jail.set_env("MEMVOX_GATEWAY__LARGE_BODY_BYTES", "65536");
        let config = Config::load(None).expect("loads");
        assert_eq!(config.gateway.body_read_timeout_ms, 2_500);
        assert_eq!(config.gateway.large_body_bytes, 65_536);
        jail.set_env("MEMVOX_GATEWAY__BODY_READ_TIMEOUT_MS", "0");
        let err = Config::load(None).expect_err("zero timeout").to_string();
        assert!(
            err.contains("gateway.body_read_timeout_ms must be at least 1"),
            "{err}"
        );
        jail.set_env("MEMVOX_GATEWAY__BODY_READ_TIMEOUT_MS", "2500");
        jail.set_env("MEMVOX_GATEWAY__MAX_CONCURRENT_LARGE_BODIES", "0");
        let err = Config::load(None).expect_err("no slot").to_string();
        assert!(
            err.contains("gateway.max_concurrent_large_bodies must be at least 1"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn events_per_commit_comes_from_the_environment_and_is_checked() {
    Jail::expect_with(|jail| {
        let workers = Config::load(None).expect("loads").workers;
        assert_eq!(workers.events_per_commit(true), 2, "SQLite");
        assert_eq!(workers.events_per_commit(false), 8, "PostgreSQL");
        jail.set_env("MEMVOX_WORKERS__EVENTS_PER_COMMIT", "32");
        let workers = Config::load(None).expect("loads").workers;
        assert_eq!(workers.events_per_commit(true), 32);
        assert_eq!(workers.events_per_commit(false), 32);
        jail.set_env("MEMVOX_WORKERS__EVENTS_PER_COMMIT", "0");
        let err = Config::load(None).expect_err("no events").to_string();
        assert!(
            err.contains("workers.events_per_commit must be at least 1"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn trusted_proxies_are_cidr_blocks_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "MEMVOX_GATEWAY__TRUSTED_PROXIES",
            r#"["10.0.0.0/8", "2001:db8::/32"]"#,
        );
        let config = Config::load(None).expect("loads");
        let trusted: Vec<String> = config
            .gateway
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(trusted, ["10.0.0.0/8", "2001:db8::/32"]);
        jail.set_env("MEMVOX_GATEWAY__TRUSTED_PROXIES", r#"["10.0.0.1"]"#);
        assert!(
            Config::load(None).is_err(),
            "an address without its prefix length is refused"
        );
        Ok(())
    });
}

#[test]
fn privacy_defaults_mask_cards_and_national_ids_and_drop_unredacted_webhooks() {
    use memvox_core::redact::{Field, Mode, PiiKind};
    Jail::expect_with(|_| {
        let config = Config::load(None).expect("defaults load");
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
        let config = Config::load(Some(Path::new("memvox.toml"))).expect("loads");
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
        let err = Config::load(None)
            .expect_err("no field `turns`")
            .to_string();
        assert!(err.contains("turns"), "{err}");
        Ok(())
    });
    Jail::expect_with(|jail| {
        jail.set_env("MEMVOX_PRIVACY__UNREDACTED_WEBHOOKS", "keep");
        assert!(Config::load(None).is_err(), "store or drop only");
        Ok(())
    });
}
