//! The manifest at the head of a backup archive: what the archive holds and how to check it
//! before anything is restored.
//!
//! An archive is the line `memvox-backup`, the manifest as one line of JSON, then the database
//! as one zstd frame. `head -2 FILE` shows what a backup is without memvox.

use std::io::{BufRead, Read, Write};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The first line of every archive.
const MAGIC: &[u8] = b"memvox-backup\n";

/// The archive format this build writes and reads.
pub const FORMAT: u32 = 1;

/// The longest manifest line read: a damaged archive cannot make restore read it all.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Archive format ([`FORMAT`]).
    pub format: u32,
    /// Version of the memvox that wrote it.
    pub memvox_version: String,
    /// Store backend of the database (`sqlite`).
    pub backend: String,
    /// Newest migration the database has applied.
    pub schema_version: i64,
    /// Embedding model of its vectors, if recorded.
    pub embedding_model: Option<String>,
    /// Dimension of its vectors, if recorded.
    pub embedding_dimension: Option<usize>,
    /// Whether its sensitive values are encrypted (sealed in the archive too).
    pub encrypted: bool,
    /// Ids of the keys those values need (ids only: no key material is ever archived).
    pub key_ids: Vec<String>,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    /// Compression of the database bytes (`zstd`).
    pub compression: String,
    /// Size of the database, uncompressed.
    pub database_bytes: u64,
    /// SHA-256 of the database bytes, hex.
    pub database_sha256: String,
}

impl Manifest {
    /// Writes the archive's head: the magic line and the manifest line.
    pub fn write_head(&self, out: &mut impl Write) -> anyhow::Result<()> {
        out.write_all(MAGIC)?;
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")?;
        Ok(())
    }

    /// Reads an archive's head, leaving `input` at the compressed database.
    pub fn read_head(input: &mut impl BufRead) -> anyhow::Result<Self> {
        let mut magic = [0u8; MAGIC.len()];
        input
            .read_exact(&mut magic)
            .ok()
            .filter(|()| magic == MAGIC)
            .context("not a memvox backup archive (it does not start with `memvox-backup`)")?;
        let mut line = Vec::new();
        input
            .take(MAX_MANIFEST_BYTES)
            .read_until(b'\n', &mut line)?;
        if line.last() != Some(&b'\n') {
            bail!("the archive's manifest is damaged or cut short");
        }
        #[derive(Deserialize)]
        struct Format {
            format: u32,
        }
        let Format { format } =
            serde_json::from_slice(&line).context("the archive's manifest is damaged")?;
        if format != FORMAT {
            bail!(
                "the archive is in format {format}; this memvox {} reads format {FORMAT}",
                env!("CARGO_PKG_VERSION")
            );
        }
        serde_json::from_slice(&line).context("the archive's manifest is damaged")
    }

    /// Checks that this build can restore the archive: a SQLite database whose schema is not
    /// newer than the newest migration it knows (`schema_version`).
    pub fn check_restorable(&self, schema_version: i64) -> anyhow::Result<()> {
        if self.backend != "sqlite" {
            bail!(
                "the archive holds a {} database; memvox restore restores SQLite (PostgreSQL: pg_restore, see README \"Backup and restore\")",
                self.backend
            );
        }
        if self.compression != "zstd" {
            bail!(
                "the archive is compressed with `{}`, not zstd",
                self.compression
            );
        }
        if self.schema_version > schema_version {
            bail!(
                "the archive's schema (migration {}) is newer than this memvox knows (migration {schema_version}): restore it with memvox {} or later",
                self.schema_version,
                self.memvox_version
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            memvox_version: "0.1.0".into(),
            backend: "sqlite".into(),
            schema_version: 12,
            embedding_model: Some("static-minilm-256".into()),
            embedding_dimension: Some(256),
            encrypted: true,
            key_ids: vec!["k1".into()],
            created_at: "2026-01-01T00:00:00Z".into(),
            compression: "zstd".into(),
            database_bytes: 4096,
            database_sha256: "ab".repeat(32),
        }
    }

    fn head_of(manifest: &Manifest) -> Vec<u8> {
        let mut out = Vec::new();
        manifest.write_head(&mut out).unwrap();
        out
    }

    #[test]
    fn the_head_reads_back_and_leaves_the_reader_at_the_payload() {
        let mut archive = head_of(&manifest());
        archive.extend_from_slice(b"PAYLOAD");
        let mut input = &archive[..];
        assert_eq!(Manifest::read_head(&mut input).unwrap(), manifest());
        assert_eq!(input, b"PAYLOAD");
        assert!(archive.starts_with(b"memvox-backup\n{\"format\":1,"));
    }

    #[test]
    fn another_file_or_a_damaged_manifest_is_refused() {
        let error = Manifest::read_head(&mut &b"SQLite format 3\0..."[..]).unwrap_err();
        assert!(error.to_string().contains("not a memvox backup"), "{error}");
        let mut damaged = head_of(&manifest());
        damaged[MAGIC.len() + 3] = b'#';
        let error = Manifest::read_head(&mut &damaged[..]).unwrap_err();
        assert!(error.to_string().contains("manifest is damaged"), "{error}");
        let cut = &head_of(&manifest())[..MAGIC.len() + 20];
        let error = Manifest::read_head(&mut &cut[..]).unwrap_err();
        assert!(error.to_string().contains("cut short"), "{error}");
    }

    #[test]
    fn a_newer_format_is_refused_before_its_fields_are_read() {
        let mut archive = MAGIC.to_vec();
        archive.extend_from_slice(b"{\"format\":2,\"something\":\"new\"}\n");
        let error = Manifest::read_head(&mut &archive[..]).unwrap_err();
        assert!(error.to_string().contains("format 2"), "{error}");
    }

    #[test]
    fn only_sqlite_zstd_and_a_known_schema_are_restorable() {
        assert!(manifest().check_restorable(12).is_ok());
        assert!(manifest().check_restorable(13).is_ok());
        let error = manifest().check_restorable(11).unwrap_err();
        assert!(
            error.to_string().contains("newer than this memvox knows"),
            "{error}"
        );
        let postgres = Manifest {
            backend: "postgres".into(),
            ..manifest()
        };
        assert!(postgres.check_restorable(12).is_err());
        let other = Manifest {
            compression: "gzip".into(),
            ..manifest()
        };
        assert!(other.check_restorable(12).is_err());
    }
}
