//! `memvox backup` and `memvox restore`: one archive file of the embedded store, taken while
//! it serves, and put back after its integrity and its keys are checked.
//!
//! Backup: a consistent snapshot on a read connection (`SqliteStore::snapshot`, into a
//! temporary directory beside DEST), hashed, compressed behind its manifest (`manifest`,
//! `archive`) into a temporary file beside DEST, synced and renamed to DEST. No key and no key
//! file is ever written: the command says where the keys are and that they must be kept apart
//! (`keys`). PostgreSQL is backed up with its own tools (pg_dump, PITR): the command says so.

mod archive;
pub(crate) mod keys;
mod manifest;
mod restore;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, bail};
use memvox::Config;
use memvox_store::{SqliteStore, StoreBackend};

use keys::KeySource;
use manifest::{FORMAT, Manifest};
pub use restore::restore;

/// Bytes in a MiB, for reports.
const MIB: f64 = 1_048_576.0;

/// What PostgreSQL deployments do instead.
const POSTGRES_BACKUPS: &str = "the store is PostgreSQL: back it up with PostgreSQL's own tools \
     (pg_dump -Fc on a schedule, or WAL archiving for point-in-time recovery; the Helm chart \
     and k8s/ have a pg_dump CronJob), and restore with pg_restore: see README \"Backup and \
     restore\". Keep the encryption keys (encryption.keys, a secret) apart from the dumps";

/// Backs up the configured store to `dest`, replacing an existing file only when `force`.
pub async fn backup(config: &Config, dest: &Path, force: bool) -> anyhow::Result<()> {
    let store = &config.shared.store;
    let database = match store.backend()? {
        StoreBackend::Sqlite { path } => path,
        StoreBackend::Postgres { .. } => bail!("{POSTGRES_BACKUPS}"),
    };
    if !database.is_file() {
        bail!(
            "no SQLite database at {}: nothing to back up",
            database.display()
        );
    }
    let dir = parent_of(dest);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    refuse_store_files(config, &database, dest)?;
    if dest.exists() && !force {
        bail!(
            "{} already exists: choose another name, or pass --force to replace it",
            dest.display()
        );
    }
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix(".memvox-backup-")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let snapshot = work.path().join("database");
    eprintln!("  snapshotting {} …", database.display());
    SqliteStore::snapshot(&database, store, &snapshot).await?;
    let snapshotted = started.elapsed();
    let info = SqliteStore::describe(&snapshot).await?;
    let (database_bytes, database_sha256) = archive::digest(&snapshot)?;
    let manifest = Manifest {
        format: FORMAT,
        memvox_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: "sqlite".to_owned(),
        schema_version: info.schema_version,
        embedding_model: info.embedding_model,
        embedding_dimension: info.embedding_dimension,
        encrypted: info.encrypted,
        key_ids: info.key_ids,
        created_at: memvox_core::calendar::rfc3339(memvox_core::now_millis()),
        compression: "zstd".to_owned(),
        database_bytes,
        database_sha256,
    };
    let partial = tempfile::Builder::new()
        .prefix(".memvox-backup-")
        .suffix(".partial")
        .tempfile_in(&dir)?;
    archive::write(partial.as_file(), &manifest, &snapshot)?;
    let written = partial.as_file().metadata()?.len();
    if force {
        partial.persist(dest)?;
    } else {
        partial.persist_noclobber(dest).with_context(|| {
            format!(
                "{} appeared meanwhile; nothing was replaced",
                dest.display()
            )
        })?;
    }
    sync_dir(&dir)?;
    drop(work);
    println!(
        "memvox backup: {} written: database of {:.1} MiB (schema {}, snapshot in {:.1} s), archive of {:.1} MiB, SHA-256 {}, {:.1} s in all",
        dest.display(),
        database_bytes as f64 / MIB,
        manifest.schema_version,
        snapshotted.as_secs_f64(),
        written as f64 / MIB,
        manifest.database_sha256,
        started.elapsed().as_secs_f64()
    );
    println!(
        "{}",
        KeySource::of(&config.shared).backup_notice(&manifest.key_ids)
    );
    Ok(())
}

/// Refuses a destination that is the database, its WAL files or its key file.
fn refuse_store_files(config: &Config, database: &Path, dest: &Path) -> anyhow::Result<()> {
    let mut store_files = vec![database.to_path_buf()];
    store_files.extend(sidecars_of(database));
    if let KeySource::File(key_file) = KeySource::of(&config.shared) {
        store_files.push(key_file);
    }
    let dest = canonical(dest);
    if store_files.iter().any(|file| canonical(file) == dest) {
        bail!(
            "{} is one of the store's own files: back up to another path",
            dest.display()
        );
    }
    Ok(())
}

/// `path` with its directory made absolute and resolved (the file itself may not exist).
fn canonical(path: &Path) -> PathBuf {
    let dir = parent_of(path);
    let dir = dir.canonicalize().unwrap_or(dir);
    path.file_name().map_or(dir.clone(), |name| dir.join(name))
}

/// The files the store keeps beside `database`: its WAL and shared-memory files, and its
/// ingest file with those of its own.
fn sidecars_of(database: &Path) -> Vec<PathBuf> {
    let ingest = SqliteStore::ingest_file(database);
    let wal_files = |file: &Path| {
        ["-wal", "-shm"].map(|suffix| {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
    };
    let mut files = wal_files(database).to_vec();
    files.extend(wal_files(&ingest));
    files.push(ingest);
    files
}

/// The directory of `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Syncs a directory, so that a rename in it survives a crash.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}
