//! The schema migrations of each backend, embedded in the binary: the SQL files of
//! `migrations/sqlite` and `migrations/postgres`, read at compile time.
//!
//! sqlx's `migrate!` macro would read the same directories, but its crate compiles both
//! database drivers a second time for the build host (about 100 s of CPU on a cold build of the
//! workspace). A test checks each list against sqlx's own reading of its directory — every
//! file, in order, with its version, description and checksum — so a database that an earlier
//! build migrated is recognised, and a new file that is not listed here fails the test suite.

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(file name, SQL)` of each file of `migrations/sqlite` and of `migrations/postgres`: the two
/// backends' migrations go in lockstep, one file name in both directories per version.
macro_rules! embedded {
    ($($file:literal),+ $(,)?) => {
        (
            &[$(($file, include_str!(concat!("../migrations/sqlite/", $file)))),+],
            &[$(($file, include_str!(concat!("../migrations/postgres/", $file)))),+],
        )
    };
}

/// The files of each backend: SQLite's, then PostgreSQL's.
type Files = &'static [(&'static str, &'static str)];

const FILES: (Files, Files) = embedded!(
    "0001_initial.sql",
    "0002_extraction.sql",
    "0003_lexical.sql",
    "0004_vectors_version.sql",
    "0005_episodes.sql",
    "0006_scopes.sql",
    "0007_tombstones.sql",
    "0008_answers_version.sql",
    "0009_sealed_numbers.sql",
    "0010_lexical_version.sql",
    "0011_drop_fts.sql",
    "0012_warm_index.sql",
    "0013_store_copy_progress.sql",
    "0014_elevenlabs_imports.sql",
    "0015_event_traceparent.sql",
);

static SQLITE: LazyLock<Migrator> = LazyLock::new(|| migrator(FILES.0));
static POSTGRES: LazyLock<Migrator> = LazyLock::new(|| migrator(FILES.1));

/// The SQLite schema's migrations (also for tests that build a database of an earlier
/// version with `run_to`).
pub fn sqlite() -> &'static Migrator {
    &SQLITE
}

/// The PostgreSQL schema's migrations.
pub fn postgres() -> &'static Migrator {
    &POSTGRES
}

fn migrator(files: Files) -> Migrator {
    Migrator::with_migrations(
        files
            .iter()
            .map(|(name, sql)| migration(name, sql))
            .collect(),
    )
}

/// One file as sqlx reads it: `<version>_<description>.sql`, underscores in the description
/// read as spaces, run in a transaction unless the file starts with `-- no-transaction`.
fn migration(name: &str, sql: &'static str) -> Migration {
    let (version, description) = name
        .strip_suffix(".sql")
        .and_then(|stem| stem.split_once('_'))
        .and_then(|(version, description)| Some((version.parse().ok()?, description)))
        .unwrap_or_else(|| {
            panic!("migration file {name} is not named <version>_<description>.sql")
        });
    Migration::new(
        version,
        Cow::Owned(description.replace('_', " ")),
        MigrationType::Simple,
        sql.into_sql_str(),
        sql.starts_with("-- no-transaction"),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// What sqlx's `migrate!` would have embedded from `dir`.
    fn read_by_sqlx(dir: &str) -> Vec<Migration> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut read: Vec<Migration> = sqlx::migrate::resolve_blocking(&path)
            .expect("the migrations directory reads")
            .into_iter()
            .map(|(migration, _)| migration)
            .collect();
        read.sort();
        read
    }

    fn assert_same(embedded: &Migrator, dir: &str) {
        let read = read_by_sqlx(dir);
        let embedded: Vec<_> = embedded.iter().collect();
        assert_eq!(
            embedded.len(),
            read.len(),
            "files of migrations/{dir} not listed"
        );
        for (ours, theirs) in embedded.iter().zip(&read) {
            assert_eq!(
                (
                    ours.version,
                    &ours.description,
                    ours.migration_type,
                    ours.no_tx
                ),
                (
                    theirs.version,
                    &theirs.description,
                    theirs.migration_type,
                    theirs.no_tx
                ),
                "migrations/{dir}"
            );
            assert_eq!(ours.checksum, theirs.checksum, "{} {}", dir, ours.version);
        }
    }

    #[test]
    fn the_embedded_migrations_are_the_directories_as_sqlx_reads_them() {
        assert_same(sqlite(), "sqlite");
        assert_same(postgres(), "postgres");
    }
}
