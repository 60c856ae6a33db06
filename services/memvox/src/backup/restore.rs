//! `memvox restore`: an archive back into a database file, all checked before the target is
//! touched. The manifest is read and checked, the keys the archive needs must already be
//! where the configuration says (a restore never generates keys), the database is
//! decompressed into a temporary file beside the target and checked against the manifest's
//! size and SHA-256, then opened as the store opens it (migrations, the keyring check), settled
//! into one file and renamed over the target. Any failure leaves the target as it was.

use std::{
    fs::File,
    io::BufReader,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use memvox::Config;
use memvox_config::SharedConfig;
use memvox_store::{EmbeddingSpace, SqliteStore, StoreBackend};

use super::{MIB, archive, keys::KeySource, manifest::Manifest, parent_of, sidecars_of, sync_dir};

/// How long a restore waits for the connections of its own check to end.
const SETTLE_WITHIN: Duration = Duration::from_secs(10);

/// Restores the archive `src` into `to`, else the configured SQLite database; an existing
/// database is replaced only when `force`, and never while open.
pub async fn restore(
    config: &Config,
    src: &Path,
    to: Option<&Path>,
    force: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let target = target_of(&config.shared, to)?;
    let file = File::open(src).with_context(|| format!("cannot read {}", src.display()))?;
    let mut input = BufReader::new(file);
    let manifest = Manifest::read_head(&mut input)?;
    manifest.check_restorable(SqliteStore::schema_version())?;
    let mut shared = config.shared.clone();
    shared.store.url = format!("sqlite://{}", target.display());
    check_key_source(&shared, &manifest)?;
    check_target(&target, force).await?;
    let keyring = memvox_runtime::open_keyring(&shared)?;

    let dir = parent_of(&target);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = tempfile::Builder::new()
        .prefix(".memvox-restore-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let _sidecars = Sidecars(partial.path().to_path_buf());
    archive::unpack(input, &manifest, partial.as_file())?;
    let partial = partial.into_temp_path();

    let store = SqliteStore::open(&partial, &shared.store, EmbeddingSpace::none(), keyring)
        .await
        .context(
            "the restored database does not open with the configured keys; nothing was replaced",
        )?;
    store.close().await;
    drop(store);
    settle(&partial).await?;

    for sidecar in sidecars_of(&target) {
        remove_if_present(&sidecar)?;
    }
    if force {
        partial.persist(&target)?;
    } else {
        partial.persist_noclobber(&target).with_context(|| {
            format!(
                "{} appeared meanwhile; nothing was replaced",
                target.display()
            )
        })?;
    }
    sync_dir(&dir)?;
    println!(
        "memvox restore: {} restored from {} (taken {} by memvox {}, schema {}, {:.1} MiB) in {:.1} s; it opens with the configured keys{}",
        target.display(),
        src.display(),
        manifest.created_at,
        manifest.memvox_version,
        manifest.schema_version,
        manifest.database_bytes as f64 / MIB,
        started.elapsed().as_secs_f64(),
        if manifest.key_ids.is_empty() {
            String::new()
        } else {
            format!(" ({})", manifest.key_ids.join(", "))
        }
    );
    Ok(())
}

/// The database file to restore into.
fn target_of(config: &SharedConfig, to: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(to) = to {
        return Ok(to.to_path_buf());
    }
    match config.store.backend()? {
        StoreBackend::Sqlite { path } => Ok(path),
        StoreBackend::Postgres { .. } => bail!(
            "the configured store is PostgreSQL: restore it with pg_restore (see README \"Backup and restore\"), or give a SQLite file with --to"
        ),
    }
}

/// Refuses a restore whose keys are not where the configuration (for the target) says: a
/// restore never generates a key file, which would hold keys the archive was not sealed with.
fn check_key_source(config: &SharedConfig, manifest: &Manifest) -> anyhow::Result<()> {
    match KeySource::of(config) {
        KeySource::Off if manifest.encrypted => bail!(
            "the archive holds data encrypted with keys {}: restore it with encryption on and those keys configured",
            manifest.key_ids.join(", ")
        ),
        KeySource::File(path) if !path.exists() => bail!(
            "no key file at {}: put the key file kept with this deployment's secrets there (keys {}), name it with encryption.key_file, or give the keys in encryption.keys; a restore never generates keys. Nothing was restored",
            path.display(),
            if manifest.key_ids.is_empty() {
                "none recorded".to_owned()
            } else {
                manifest.key_ids.join(", ")
            }
        ),
        _ => Ok(()),
    }
}

/// Refuses an existing, non-empty target unless `force`, and one that another process has
/// open in any case.
async fn check_target(target: &Path, force: bool) -> anyhow::Result<()> {
    let existing = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    if existing == 0 {
        return Ok(());
    }
    if !force {
        bail!(
            "{} already holds a database: restore into another path with --to, or pass --force to replace it",
            target.display()
        );
    }
    match SqliteStore::settle(target).await {
        Ok(false) => bail!(
            "{} is open in another process (is memvox serve running on it?): stop it, then restore",
            target.display()
        ),
        // Settled, or not a readable database: either way it can be replaced.
        Ok(true) | Err(_) => Ok(()),
    }
}

/// Settles the restored file once the check's own connections have ended.
async fn settle(path: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + SETTLE_WITHIN;
    while !SqliteStore::settle(path).await? {
        if Instant::now() >= deadline {
            bail!("the restored database stayed open after its check; nothing was replaced");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Removes the files the store kept beside the temporary database when the restore ends,
/// however it ends.
struct Sidecars(PathBuf);

impl Drop for Sidecars {
    fn drop(&mut self) {
        for sidecar in sidecars_of(&self.0) {
            let _ = std::fs::remove_file(sidecar);
        }
    }
}
