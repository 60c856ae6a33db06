//! The two sides of a copy: attached from their settings (no migration or check that writes
//! on the source; the destination migrated), told apart, and checked before anything is
//! written — the source at this build's schema and opened by the keys, the destination empty.

use std::collections::BTreeMap;

use memvox_crypto::Keyring;

use super::{CopyError, CopyObserver, CopyOptions, CopyReport, run, tables::TABLES};
use crate::{
    EmbeddingSpace, PostgresStore, SqliteStore, StoreBackend, StoreError, StoreResult,
    StoreSettings,
    backend::Backend,
    dialect::{Record, query},
    encryption,
};

/// A side of a copy.
enum Side {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Copies the store `from` into the store `to` (migrated first), then verifies every table.
/// `keyring` must open the source (checked against what it records before anything is
/// written); the destination then needs the same keys.
///
/// # Errors
/// [`CopyError`]: the same database, a source at another schema, a non-empty destination
/// without `force`, a verification failure, or a store error (a rerun resumes).
pub async fn copy_store(
    from: &StoreSettings,
    to: &StoreSettings,
    keyring: Keyring,
    options: CopyOptions,
    observer: &mut dyn CopyObserver,
) -> Result<CopyReport, CopyError> {
    let (from_backend, to_backend) = (from.backend()?, to.backend()?);
    if same_database(&from_backend, &to_backend) {
        return Err(CopyError::SameDatabase);
    }
    if let StoreBackend::Sqlite { path } = &from_backend
        && !path.is_file()
    {
        return Err(StoreError::Config(format!("no SQLite database at {}", path.display())).into());
    }
    let source = attach(&from_backend, from, keyring.clone()).await?;
    let destination = attach(&to_backend, to, keyring).await?;
    let copied = match (&source, &destination) {
        (Side::Sqlite(s), Side::Sqlite(d)) => prepare_and_run(s, d, options, observer).await,
        (Side::Sqlite(s), Side::Postgres(d)) => prepare_and_run(s, d, options, observer).await,
        (Side::Postgres(s), Side::Sqlite(d)) => prepare_and_run(s, d, options, observer).await,
        (Side::Postgres(s), Side::Postgres(d)) => prepare_and_run(s, d, options, observer).await,
    };
    for side in [source, destination] {
        match side {
            Side::Sqlite(store) => store.close().await,
            Side::Postgres(store) => store.pool().close().await,
        }
    }
    copied
}

/// Checks the source, migrates the destination, and copies.
async fn prepare_and_run<S: Backend + Schema, D: Backend + Schema>(
    source: &S,
    destination: &D,
    options: CopyOptions,
    observer: &mut dyn CopyObserver,
) -> Result<CopyReport, CopyError> {
    let found: Option<i64> =
        query::<S::Sql>("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *source.read().await?)
            .await
            .map_err(|e| StoreError::Config(format!("the source is not a memvox store ({e})")))?
            .value_at(0)?;
    let found = found.unwrap_or(0);
    if found != S::latest() {
        return Err(CopyError::SourceSchema {
            found,
            expected: S::latest(),
        });
    }
    let mut recorded = BTreeMap::new();
    for row in query::<S::Sql>("SELECT key, value FROM store_meta")
        .fetch_all(&mut *source.read().await?)
        .await?
    {
        recorded.insert(row.value::<String>("key")?, row.value::<String>("value")?);
    }
    encryption::check_keys(&source.core().keyring, &recorded)?;
    destination.migrate().await?;
    run(source, destination, options, observer).await
}

/// Refuses a destination with rows in any table but `store_meta` (which opening a store
/// writes).
pub(crate) async fn refuse_rows<D: Backend>(destination: &D) -> Result<(), CopyError> {
    for table in TABLES.iter().filter(|t| t.name != "store_meta") {
        let rows = count(destination, table.name).await?;
        if rows > 0 {
            return Err(CopyError::NotEmpty {
                table: table.name,
                rows,
            });
        }
    }
    Ok(())
}

/// Rows of every copied table of `store`.
pub(crate) async fn table_rows<B: Backend>(store: &B) -> StoreResult<u64> {
    let mut total = 0;
    for table in &TABLES {
        total += u64::try_from(count(store, table.name).await?).unwrap_or(0);
    }
    Ok(total)
}

async fn count<B: Backend>(store: &B, table: &str) -> StoreResult<i64> {
    query::<B::Sql>(format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut *store.read().await?)
        .await?
        .value_at(0)
}

/// Attaches one side in no embedding space (a copy reads vectors of any dimension).
async fn attach(
    backend: &StoreBackend,
    settings: &StoreSettings,
    keyring: Keyring,
) -> StoreResult<Side> {
    let space = EmbeddingSpace::none();
    Ok(match backend {
        StoreBackend::Sqlite { path } => {
            Side::Sqlite(SqliteStore::attach(path, settings, space, keyring).await?)
        }
        StoreBackend::Postgres { url, schema } => Side::Postgres(
            PostgresStore::attach(url, schema.as_deref(), settings, space, keyring).await?,
        ),
    })
}

/// Whether two settings name one database: the same SQLite file, or the same PostgreSQL
/// server, database and schema.
fn same_database(from: &StoreBackend, to: &StoreBackend) -> bool {
    match (from, to) {
        (StoreBackend::Sqlite { path: a }, StoreBackend::Sqlite { path: b }) => {
            let canonical = |p: &std::path::Path| {
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
                let dir = parent.map_or_else(|| std::path::PathBuf::from("."), ToOwned::to_owned);
                dir.canonicalize()
                    .unwrap_or(dir)
                    .join(p.file_name().unwrap_or_default())
            };
            canonical(a) == canonical(b)
        }
        (
            StoreBackend::Postgres { url: a, schema: x },
            StoreBackend::Postgres { url: b, schema: y },
        ) => a == b && x.as_deref().unwrap_or("public") == y.as_deref().unwrap_or("public"),
        _ => false,
    }
}

/// A backend's own migrations.
#[async_trait::async_trait]
trait Schema {
    /// The newest migration this build applies.
    fn latest() -> i64;
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<usize>;
}

#[async_trait::async_trait]
impl Schema for SqliteStore {
    fn latest() -> i64 {
        Self::schema_version()
    }
    async fn migrate(&self) -> StoreResult<usize> {
        Self::migrate_pool(self.pool()).await
    }
}

#[async_trait::async_trait]
impl Schema for PostgresStore {
    fn latest() -> i64 {
        Self::schema_version()
    }
    async fn migrate(&self) -> StoreResult<usize> {
        Self::migrate_pool(self.pool()).await
    }
}
