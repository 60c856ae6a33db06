//! Store configuration: where the data lives and how the pool behaves.

use std::{fmt, path::PathBuf};

use serde::{Deserialize, Serialize};

use crate::{StoreError, StoreResult};

/// Store settings (`[store]` in the configuration file, `MEMVOX_STORE__*` in the environment).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://PATH` (embedded default; the file is created) or `postgres://USER:PASS@HOST/DB`
    /// (needs the pgvector extension).
    pub url: String,
    /// PostgreSQL schema to use (created if missing); `None` uses the server's search path.
    pub schema: Option<String>,
    /// Maximum pooled connections.
    pub max_connections: u32,
    /// How long to wait for a pooled connection before reporting the database unavailable.
    pub acquire_timeout_ms: u64,
    /// Apply pending migrations when opening. `None`: yes for SQLite, no for PostgreSQL (run
    /// `memvox migrate` there, e.g. as a deploy hook).
    pub migrate_on_start: Option<bool>,
    /// Days an erasure's tombstones (keyed hashes of the user id, numbers and conversation ids,
    /// no personal data) refuse deliveries for; `None` (the default): forever. A conversation
    /// whose tombstone expired can be delivered, and stored, again.
    pub tombstone_lifetime_days: Option<u64>,
    /// Memory budget, in MiB, of the per-user indexes warm queries answer from (least recently
    /// used callers leave first). A caller costs about 1.7 KB per fact or episode with the
    /// default embedder: 256 MiB hold ~150,000 memories, e.g. three callers with 10,000 facts
    /// and 30,000 episodes each.
    pub index_cache_mb: u64,
    /// SQLite: the database writer's (and its checkpoints') connection threads are background
    /// threads (`enter_background`). Not configuration: `memvox serve` sets it, because there that
    /// writer serves its background work — the workers' commits and the moves out of the ingest
    /// file — while acknowledgements write to the ingest file and queries read.
    #[serde(skip)]
    pub background_writer: bool,
    /// PostgreSQL: this process's sessions commit without waiting for the WAL flush
    /// (`synchronous_commit = off`). Not configuration: the worker services set it, because
    /// what they write is derived from raw events the gateway stored durably — a commit lost
    /// in a database crash leaves its event pending, and the outbox reconciler has it processed
    /// again — and because the gateway's commits otherwise queued behind the flushes of the
    /// workers' larger transactions (README, "Performance").
    #[serde(skip)]
    pub asynchronous_commit: bool,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://data/memvox.db".to_owned(),
            schema: None,
            max_connections: 8,
            acquire_timeout_ms: 3_000,
            migrate_on_start: None,
            tombstone_lifetime_days: None,
            index_cache_mb: 256,
            background_writer: false,
            asynchronous_commit: false,
        }
    }
}

impl fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("tombstone_lifetime_days", &self.tombstone_lifetime_days)
            .field("index_cache_mb", &self.index_cache_mb)
            .field("background_writer", &self.background_writer)
            .field("asynchronous_commit", &self.asynchronous_commit)
            .finish()
    }
}

/// Which backend a store URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// A SQLite file.
    Sqlite {
        /// Database file (created with its directory if missing).
        path: PathBuf,
    },
    /// A PostgreSQL server with pgvector.
    Postgres {
        /// Connection URL.
        url: String,
        /// Schema to use.
        schema: Option<String>,
    },
}

impl StoreSettings {
    /// Parses the URL into a backend, with a sentence that says what is wrong.
    pub fn backend(&self) -> StoreResult<StoreBackend> {
        if self.tombstone_lifetime_days == Some(0) {
            return Err(StoreError::Config(
                "store.tombstone_lifetime_days must be at least 1: a tombstone that expires at \
                 once lets a retried delivery bring an erased caller back (leave it unset to keep \
                 tombstones forever)"
                    .into(),
            ));
        }
        if self.index_cache_mb == 0 {
            return Err(StoreError::Config(
                "store.index_cache_mb must be at least 1: without room for callers' indexes every \
                 query would read its caller's whole history again"
                    .into(),
            ));
        }
        let url = self.url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Config(
                    "store.url `sqlite://` names no file: use e.g. sqlite://data/memvox.db".into(),
                ));
            }
            return Ok(StoreBackend::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if let Some(schema) = &self.schema {
                validate_schema_name(schema)?;
            }
            return Ok(StoreBackend::Postgres {
                url: url.to_owned(),
                schema: self.schema.clone(),
            });
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(StoreError::Config(format!(
            "unknown store backend `{scheme}` in store.url: use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE"
        )))
    }

    /// Where the embedded store keeps its generated encryption keys when `encryption.key_file`
    /// is unset: `<database file>.keys.json` beside a SQLite file; `None` for PostgreSQL, whose
    /// keys must be configured.
    pub fn default_key_file(&self) -> Option<PathBuf> {
        match self.backend().ok()? {
            StoreBackend::Sqlite { path } => {
                let mut name = path.as_os_str().to_owned();
                name.push(".keys.json");
                Some(PathBuf::from(name))
            }
            StoreBackend::Postgres { .. } => None,
        }
    }

    /// Whether opening should migrate: explicit setting, else yes for SQLite only.
    pub fn should_migrate_on_start(&self, backend: &StoreBackend) -> bool {
        self.migrate_on_start
            .unwrap_or(matches!(backend, StoreBackend::Sqlite { .. }))
    }
}

/// Checks a PostgreSQL schema name is a plain lower-case identifier (it is interpolated into DDL).
pub(crate) fn validate_schema_name(schema: &str) -> StoreResult<()> {
    let valid = schema
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63;
    if valid {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "store.schema `{schema}` must be lower-case letters, digits and underscores (at most 63)"
        )))
    }
}

/// Hides the password of a `scheme://user:password@host` URL.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> StoreSettings {
        StoreSettings {
            url: url.into(),
            ..StoreSettings::default()
        }
    }

    #[test]
    fn a_tombstone_lifetime_of_zero_days_is_refused() {
        let settings = StoreSettings {
            tombstone_lifetime_days: Some(0),
            ..with_url("sqlite://data/x.db")
        };
        let error = settings.backend().unwrap_err().to_string();
        assert!(error.contains("tombstone_lifetime_days"), "{error}");
    }

    #[test]
    fn an_index_budget_of_nothing_is_refused_with_the_reason() {
        let settings = StoreSettings {
            index_cache_mb: 0,
            ..StoreSettings::default()
        };
        let error = settings.backend().unwrap_err().to_string();
        assert!(
            error.contains("store.index_cache_mb must be at least 1"),
            "{error}"
        );
    }

    #[test]
    fn parses_both_backends() {
        assert_eq!(
            with_url("sqlite://data/x.db").backend().unwrap(),
            StoreBackend::Sqlite {
                path: "data/x.db".into()
            }
        );
        assert!(matches!(
            with_url("postgres://u:p@h/db").backend().unwrap(),
            StoreBackend::Postgres { .. }
        ));
    }

    #[test]
    fn unknown_backend_is_a_clear_error() {
        let err = with_url("mysql://h/db").backend().unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown store backend `mysql` in store.url"),
            "{err}"
        );
    }

    #[test]
    fn bad_schema_names_are_rejected() {
        let mut settings = with_url("postgres://h/db");
        settings.schema = Some("Robert'); DROP".into());
        assert!(settings.backend().is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let debug = format!("{:?}", with_url("postgres://memvox:s3cret@db:5432/memvox"));
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("memvox:***@db:5432"));
    }

    #[test]
    fn only_sqlite_has_a_default_key_file() {
        assert_eq!(
            with_url("sqlite://data/x.db").default_key_file(),
            Some(PathBuf::from("data/x.db.keys.json"))
        );
        assert_eq!(with_url("postgres://h/db").default_key_file(), None);
    }

    #[test]
    fn migrates_sqlite_by_default_but_not_postgres() {
        let settings = StoreSettings::default();
        assert!(settings.should_migrate_on_start(&settings.backend().unwrap()));
        let pg = with_url("postgres://h/db");
        assert!(!pg.should_migrate_on_start(&pg.backend().unwrap()));
    }
}
