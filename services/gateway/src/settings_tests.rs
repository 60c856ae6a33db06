//! Loading and validation of `[gateway]`. Environment variables are process-global, so these
//! tests use figment's jail, which serialises them and restores the environment.
#![allow(clippy::result_large_err)] // figment's Jail closures must return its (large) error type

use std::path::Path;

use figment::Jail;

use super::*;

/// `[gateway]` as the gateway loads it.
fn load(file: Option<&Path>) -> Result<GatewaySettings, ConfigError> {
    GatewaySettings::load(&Layers::load(file)?)
}

#[test]
fn gateway_body_limits_come_from_the_environment_and_are_checked() {
    Jail::expect_with(|jail| {
        let config = load(None).expect("loads");
        assert_eq!(config.body_read_timeout_ms, 10_000);
        assert_eq!(config.max_concurrent_large_bodies, 4);
        jail.set_env("MEMVOX_GATEWAY__BODY_READ_TIMEOUT_MS", "2500");
        jail.set_env("MEMVOX_GATEWAY__LARGE_BODY_BYTES", "65536");
        let config = load(None).expect("loads");
        assert_eq!(config.body_read_timeout_ms, 2_500);
        assert_eq!(config.large_body_bytes, 65_536);
        jail.set_env("MEMVOX_GATEWAY__BODY_READ_TIMEOUT_MS", "0");
        let err = load(None).expect_err("zero timeout").to_string();
        assert!(
            err.contains("gateway.body_read_timeout_ms must be at least 1"),
            "{err}"
        );
        jail.set_env("MEMVOX_GATEWAY__BODY_READ_TIMEOUT_MS", "2500");
        jail.set_env("MEMVOX_GATEWAY__MAX_CONCURRENT_LARGE_BODIES", "0");
        let err = load(None).expect_err("no slot").to_string();
        assert!(
            err.contains("gateway.max_concurrent_large_bodies must be at least 1"),
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
        let config = load(None).expect("loads");
        let trusted: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(trusted, ["10.0.0.0/8", "2001:db8::/32"]);
        jail.set_env("MEMVOX_GATEWAY__TRUSTED_PROXIES", r#"["10.0.0.1"]"#);
        assert!(
            load(None).is_err(),
            "an address without its prefix length is refused"
        );
        Ok(())
    });
}

#[test]
fn webhook_secrets_come_from_the_environment_and_never_print() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "MEMVOX_GATEWAY__WEBHOOK_SECRETS",
            r#"["wsec_do_not_print"]"#,
        );
        let config = load(None).expect("loads");
        assert_eq!(config.webhook_secrets.len(), 1);
        assert!(!format!("{config:?}").contains("wsec_do_not_print"));
        Ok(())
    });
}
