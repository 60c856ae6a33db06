//! `memvox migrate`: applies the embedded migrations of the configured backend.

use memvox::Config;
use memvox_store::{PostgresStore, SqliteStore, StoreBackend};

/// Migrates the configured store and prints what was done.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let applied = match config.shared.store.backend()? {
        StoreBackend::Sqlite { path } => {
            let pool = SqliteStore::connect(&path, &config.shared.store).await?;
            SqliteStore::migrate_pool(&pool).await?
        }
        StoreBackend::Postgres { url, schema } => {
            let pool =
                PostgresStore::connect(&url, schema.as_deref(), &config.shared.store).await?;
            PostgresStore::migrate_pool(&pool).await?
        }
    };
    tracing::info!(applied, "migrations applied");
    println!("memvox migrate: {applied} migration(s) applied; the schema is up to date");
    Ok(())
}
