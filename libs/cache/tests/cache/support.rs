//! Helpers of the Redis cache tests: "processes" (each its own registry, moka tier and version
//! map) on a shared key prefix, holding the same keys as the processes of one deployment, and
//! raw looks at what Redis holds.

use std::sync::LazyLock;

use memvox_cache::{CacheSettings, Caching, UserCache};
use memvox_crypto::{KeySet, Keyring, Sealer};
use memvox_testkit::redis_url;
use prometheus::Registry;

/// The keys of the deployment under test.
pub static KEYS: LazyLock<Keyring> = LazyLock::new(|| Keyring::from_key_set(KeySet::generate()));

/// The deployment's cache sealer.
pub fn sealer() -> Option<Sealer> {
    KEYS.sealer("shared cache")
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
