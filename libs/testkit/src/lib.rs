//! Test support shared by every crate's tests (a dev-dependency only, never linked into a
//! product binary):
//!
//! - [`env`]: the test servers' addresses and unique names for schemas and key prefixes;
//! - [`schema`] (feature `store`): a PostgreSQL schema that is dropped when its guard is;
//! - [`keys`]: a Redis key prefix whose keys are deleted when its guard is dropped;
//! - [`store`] (feature `store`): a fresh encrypted store on either backend, the table list, raw
//!   looks at the rows, and [`both_backends!`] to run one test body on both;
//! - [`metrics`]: readers of a Prometheus registry;
//! - [`process`]: memvox binaries as processes on a fresh embedded store, free ports, the wait
//!   for their health endpoint and the checks every service binary must pass;
//! - [`http`] (feature `http`): one request through an axum router, no port;
//! - [`embedder`] (feature `ai`): a 4-dimensional embedder in the test stores' space.
//!
//! Everything panics on failure: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

#[cfg(feature = "ai")]
pub mod embedder;
pub mod env;
#[cfg(feature = "http")]
pub mod http;
pub mod keys;
pub mod metrics;
pub mod process;
#[cfg(feature = "store")]
pub mod schema;
#[cfg(feature = "store")]
pub mod store;

#[cfg(feature = "ai")]
pub use embedder::TestEmbedder;
pub use env::{postgres_url, redis_url, unique};
pub use keys::KeyPrefix;
pub use metrics::{counter, metrics_text};
pub use process::{
    Running, assert_serves_health_and_stops_on_sigterm, free_port, memvox_command, wait_until_ready,
};
#[cfg(feature = "store")]
pub use schema::Schema;
#[cfg(feature = "store")]
pub use store::{Backend, TABLES, TestStore, space, test_keyring};

/// Runs async test bodies on both store backends, as `sqlite::<name>` and `postgres::<name>`.
///
/// `both_backends!(a, b)` calls `a(Backend::Sqlite)` and `a(Backend::Postgres)`.
/// `both_backends!(runner => a, b; other => c)` calls `runner(backend, a)`: the runner opens
/// what the bodies take (a store, a harness) and passes it on, so bodies of any signature share
/// one list. Invoke it once per module.
#[cfg(feature = "store")]
#[macro_export]
macro_rules! both_backends {
    ($($runner:ident => $($name:ident),+ $(,)?);+ $(;)?) => {
        $crate::both_backends!(@each sqlite, Sqlite; $($runner => $($name),+);+);
        $crate::both_backends!(@each postgres, Postgres; $($runner => $($name),+);+);
    };
    ($($name:ident),+ $(,)?) => {
        $crate::both_backends!(@direct sqlite, Sqlite; $($name),+);
        $crate::both_backends!(@direct postgres, Postgres; $($name),+);
    };
    (@each $module:ident, $backend:ident; $($runner:ident => $($name:ident),+);+) => {
        mod $module {
            $($(
                #[tokio::test]
                async fn $name() {
                    super::$runner($crate::Backend::$backend, super::$name).await;
                }
            )+)+
        }
    };
    (@direct $module:ident, $backend:ident; $($name:ident),+) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::$backend).await;
                }
            )+
        }
    };
}
