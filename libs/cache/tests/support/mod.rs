//! Helpers of the Redis cache tests: "processes" (each its own registry, moka tier and version
//! map) on a shared key prefix, holding the same keys as the processes of one deployment, and
//! raw looks at what Redis holds.
#![allow(dead_code)]

use std::sync::LazyLock;

use memvox_cache::{CacheSettings, Caching, UserCache};
use memvox_crypto::{KeySet, Keyring, Sealer};
use prometheus::Registry;
use rand::Rng;

/// The test Redis.
pub fn redis_url() -> String {
    std::env::var("MEMVOX_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The keys of the deployment under test.
pub static KEYS: LazyLock<Keyring> = LazyLock::new(|| Keyring::from_key_set(KeySet::generate()));

/// The deployment's cache sealer.
pub fn sealer() -> Option<Sealer> {
    KEYS.sealer("shared cache")
}

/// A fresh key prefix: one per test.
pub fn prefix() -> String {
    format!("test:cache:{:016x}", rand::rng().random::<u64>())
}

/// One "process": its own registry, moka tier and version map, on the shared `prefix`.
pub fn process(url: &str, prefix: &str) -> (Caching, UserCache<String, String>, Registry) {
    process_retrying(url, prefix, 1_000)
}

/// Same, skipping Redis for `retry_ms` after a failure.
pub fn process_retrying(
    url: &str,
    prefix: &str,
    retry_ms: u64,
) -> (Caching, UserCache<String, String>, Registry) {
    process_with(url, prefix, retry_ms, sealer())
}

/// Same, sealing Redis entries with `sealer` (`None`: encryption off).
pub fn process_with(
    url: &str,
    prefix: &str,
    retry_ms: u64,
    sealer: Option<Sealer>,
) -> (Caching, UserCache<String, String>, Registry) {
    let settings = CacheSettings {
        key_prefix: prefix.to_owned(),
        redis_timeout_ms: 1_000,
        redis_retry_ms: retry_ms,
        ..CacheSettings::default()
    };
    let registry = Registry::new();
    let caching = Caching::new(settings, Some(url), sealer, &registry).unwrap();
    let cache = caching.user_cache("answers").unwrap();
    (caching, cache, registry)
}

/// Every key under `prefix`.
pub async fn keys(prefix: &str) -> Vec<String> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    memvox_cache::scan_keys(&mut conn, &format!("{prefix}:*"))
        .await
        .unwrap()
}

/// Deletes every key under `prefix`.
pub async fn cleanup(prefix: &str) {
    let found = keys(prefix).await;
    if !found.is_empty() {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("DEL")
            .arg(found)
            .exec_async(&mut conn)
            .await
            .unwrap();
    }
}

/// The sum of counter `name` over the series carrying `label`.
pub fn counter(registry: &Registry, name: &str, label: (&str, &str)) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| family.get_metric().iter())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|l| l.name() == label.0 && l.value() == label.1)
        })
        .map(|m| m.get_counter().value() as u64)
        .sum()
}

/// An owned string.
pub fn k(s: &str) -> String {
    s.to_owned()
}

/// The bytes Redis holds under `key`.
pub async fn raw_get(key: &str) -> Vec<u8> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Overwrites `key` in Redis, as an attacker with access to it could.
pub async fn raw_set(key: &str, value: &[u8]) {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .exec_async(&mut conn)
        .await
        .unwrap();
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}
