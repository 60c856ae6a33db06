//! Post-call audio files past their age: deleted from `gateway.audio_dir` (the gateway's
//! directory: the same process, or a shared volume) by the retention job. A file's age is its
//! modification time, when the gateway wrote it; only files named like audio files
//! ([`memvox_config::AUDIO_FILE_SUFFIX`]) are considered, so nothing else in the directory is
//! touched. A file that cannot be deleted is logged (by count, never by name: the name is a
//! conversation id) and tried again at the next pass.

use std::{io, path::Path, time::SystemTime};

use memvox_config::AUDIO_FILE_SUFFIX;

/// Files deleted between two progress logs.
const LOG_EVERY: u64 = 1_000;

/// Deletes the audio files under `dir` last written before `cutoff`; returns how many. A
/// missing directory holds nothing.
pub(crate) async fn delete_audio_before(dir: &Path, cutoff: SystemTime) -> io::Result<u64> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let (mut deleted, mut failed) = (0u64, 0u64);
    while let Some(entry) = entries.next_entry().await? {
        let is_audio = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.ends_with(AUDIO_FILE_SUFFIX));
        let Ok(metadata) = entry.metadata().await else {
            continue;
        };
        if !is_audio || !metadata.is_file() || metadata.modified()? >= cutoff {
            continue;
        }
        match tokio::fs::remove_file(entry.path()).await {
            Ok(()) => {
                deleted += 1;
                if deleted % LOG_EVERY == 0 {
                    tracing::info!(deleted, "retention: deleting audio files past their age");
                }
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(_) => failed += 1,
        }
    }
    if failed > 0 {
        tracing::warn!(
            failed,
            "retention: some audio files past their age could not be deleted"
        );
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn only_audio_files_older_than_the_cutoff_go() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        let write = |name: &str, age_days: u32| {
            let path = dir.path().join(name);
            let file = std::fs::File::create(&path).unwrap();
            file.set_modified(now - day * age_days).unwrap();
            path
        };
        let old = write("conv_old.mp3.b64", 40);
        let young = write("conv_young.mp3.b64", 5);
        let other = write("notes.txt", 400);
        let deleted = delete_audio_before(dir.path(), now - day * 30)
            .await
            .unwrap();
        assert_eq!(deleted, 1);
        assert!(!old.exists());
        assert!(young.exists() && other.exists());
        let missing = delete_audio_before(&dir.path().join("none"), now).await;
        assert_eq!(missing.unwrap(), 0);
    }
}
