//! Archive bodies: the database hashed, then compressed behind its manifest; and read back,
//! decompressed and checked against the manifest's size and SHA-256 before it is used.

use std::{
    fs::File,
    io::{BufRead, BufReader, BufWriter, Read, Write},
    path::Path,
};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use super::manifest::Manifest;
use crate::progress::Meter;

/// zstd level of archives: zstd's default, 8x faster than gzip -6 at the same size on a
/// store (see the crate README's design decisions).
const LEVEL: i32 = 3;

/// Read and write buffer size.
const CHUNK: usize = 1 << 20;

/// Size and SHA-256 (hex) of the file at `path`.
pub fn digest(path: &Path) -> anyhow::Result<(u64, String)> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let total = file.metadata()?.len();
    let mut meter = Meter::new("hashed", total);
    let mut hasher = Sha256::new();
    copy_chunks(
        &mut BufReader::with_capacity(CHUNK, file),
        &mut meter,
        |chunk| {
            hasher.update(chunk);
            Ok(())
        },
    )?;
    Ok((total, hex::encode(hasher.finalize())))
}

/// Writes `manifest` and the compressed database at `database` to `out`, then syncs it.
pub fn write(out: &File, manifest: &Manifest, database: &Path) -> anyhow::Result<()> {
    let mut writer = BufWriter::with_capacity(CHUNK, out);
    manifest.write_head(&mut writer)?;
    let mut encoder = zstd::Encoder::new(writer, LEVEL)?;
    encoder.include_checksum(true)?;
    let mut meter = Meter::new("compressed", manifest.database_bytes);
    let input = File::open(database)?;
    copy_chunks(
        &mut BufReader::with_capacity(CHUNK, input),
        &mut meter,
        |chunk| encoder.write_all(chunk),
    )?;
    encoder.finish()?.flush()?;
    out.sync_all()?;
    Ok(())
}

/// Decompresses the database that follows the manifest in `input` into `out`, then checks
/// its size and SHA-256 against the manifest: an error means `out` holds no usable database.
pub fn unpack(input: impl BufRead, manifest: &Manifest, out: &File) -> anyhow::Result<()> {
    let damaged =
        "the archive is damaged (its compressed database does not decode); nothing was restored";
    let decoder = zstd::Decoder::with_buffer(input).context(damaged)?;
    let mut writer = BufWriter::with_capacity(CHUNK, out);
    let mut hasher = Sha256::new();
    let mut meter = Meter::new("restored", manifest.database_bytes);
    copy_chunks(
        &mut BufReader::with_capacity(CHUNK, decoder),
        &mut meter,
        |chunk| {
            hasher.update(chunk);
            writer.write_all(chunk)
        },
    )
    .context(damaged)?;
    writer.flush()?;
    drop(writer);
    let (size, sha256) = (meter.done(), hex::encode(hasher.finalize()));
    if size != manifest.database_bytes || sha256 != manifest.database_sha256 {
        bail!(
            "the archive is damaged: its database has {size} bytes with SHA-256 {sha256}, the manifest says {} bytes with SHA-256 {}; nothing was restored",
            manifest.database_bytes,
            manifest.database_sha256
        );
    }
    out.sync_all()?;
    Ok(())
}

/// Reads `input` to its end in chunks, handing each to `sink` and counting it on `meter`.
fn copy_chunks(
    input: &mut impl Read,
    meter: &mut Meter,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let read = input.read(&mut buffer)?;
        if read == 0 {
            meter.finish();
            return Ok(());
        }
        sink(&buffer[..read])?;
        meter.add(read as u64);
    }
}
