//! Where the test servers are (`scripts/test-services.sh` starts them) and unique names, so tests
//! running in parallel never share a schema or a key.

use rand::Rng as _;

/// The test PostgreSQL (`MEMVOX_TEST_POSTGRES_URL`, default the local `memvox_test` database).
pub fn postgres_url() -> String {
    std::env::var("MEMVOX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://memvox:memvox@127.0.0.1:5432/memvox_test".to_owned())
}

/// The test Redis (`MEMVOX_TEST_REDIS_URL`, default 127.0.0.1:6379).
pub fn redis_url() -> String {
    std::env::var("MEMVOX_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// `<prefix><16 random hex digits>`: a schema name or key prefix of its own.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::rng().random::<u64>())
}
