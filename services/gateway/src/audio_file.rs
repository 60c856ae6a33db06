//! Post-call audio files, encrypted at rest: [`write_audio`] seals `full_audio` with the
//! keyring's active data key, exactly like the store seals transcripts, and [`read_audio`]
//! opens it again.
//!
//! A file holds one envelope, `mvx1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`, bound to
//! [`AUDIO_COLUMN`] and the conversation id, so a file renamed to another conversation does not
//! decrypt. With encryption off (`encryption.enabled = false`) the file is the base64 MP3 text
//! as received; [`read_audio`] reads such files (and those written before audio was encrypted)
//! as they are. Sealing a few megabytes takes milliseconds of CPU, so it runs on the blocking
//! pool, off the request tasks.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub use memvox_config::audio_path;
use memvox_crypto::{Context, CryptoError, Keyring};
use tokio::io::AsyncWriteExt as _;

/// The column name audio envelopes are bound to (with the conversation id as owner).
pub const AUDIO_COLUMN: &str = "post_call_audio.full_audio";

/// Distinguishes temporary files of concurrent writes within this process.
static WRITE_SEQ: AtomicU64 = AtomicU64::new(0);

/// Why an audio file could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum AudioReadError {
    /// The file could not be read (missing, unreadable).
    #[error("audio file: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not valid UTF-8 text (neither an envelope nor base64).
    #[error("audio file is not text")]
    NotText,
    /// The envelope did not decrypt: altered, renamed to another conversation, or an unknown
    /// key.
    #[error("audio file: {0}")]
    Crypto(#[from] CryptoError),
}

fn context(conversation_id: &str) -> Context<'_> {
    Context {
        column: AUDIO_COLUMN,
        owner: conversation_id,
    }
}

/// Writes `audio` (the base64 MP3 text of a delivery) to `<dir>/<conversation_id>.mp3.b64`,
/// encrypted with `keyring`: sealed, written to a uniquely named temporary file, synced, then
/// renamed over the final name, so a reader never sees half a file and concurrent duplicate
/// deliveries cannot interleave.
///
/// # Errors
/// An I/O error if the directory or file cannot be written, or the value cannot be encrypted.
pub async fn write_audio(
    dir: &Path,
    conversation_id: &str,
    audio: String,
    keyring: &Keyring,
) -> std::io::Result<()> {
    let sealed = {
        let keyring = keyring.clone();
        let owner = conversation_id.to_owned();
        tokio::task::spawn_blocking(move || keyring.encrypt(&audio, context(&owner)))
            .await
            .map_err(std::io::Error::other)?
            .map_err(std::io::Error::other)?
    };
    tokio::fs::create_dir_all(dir).await?;
    let seq = WRITE_SEQ.fetch_add(1, Ordering::Relaxed);
    let partial = dir.join(format!(
        ".{conversation_id}.{}.{seq}.partial",
        std::process::id()
    ));
    let mut file = tokio::fs::File::create(&partial).await?;
    file.write_all(sealed.as_bytes()).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, audio_path(dir, conversation_id)).await
}

/// The base64 MP3 text of a conversation's audio file, decrypted with `keyring`; a plaintext
/// file (encryption off, or written before audio was encrypted) is returned as it is.
///
/// # Errors
/// [`AudioReadError`] if the file cannot be read or does not decrypt for this conversation.
pub async fn read_audio(
    dir: &Path,
    conversation_id: &str,
    keyring: &Keyring,
) -> Result<String, AudioReadError> {
    let bytes = tokio::fs::read(audio_path(dir, conversation_id)).await?;
    let stored = String::from_utf8(bytes).map_err(|_| AudioReadError::NotText)?;
    let keyring = keyring.clone();
    let owner = conversation_id.to_owned();
    tokio::task::spawn_blocking(move || keyring.decrypt(&stored, context(&owner)))
        .await
        .map_err(std::io::Error::other)?
        .map_err(AudioReadError::from)
}

#[cfg(test)]
mod tests {
    use memvox_crypto::KeySet;

    use super::*;

    const AUDIO: &str = "SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjU4Ljc2LjEwMAAAAAAAAAAAAAAA";

    fn keyring() -> Keyring {
        Keyring::from_key_set(KeySet::generate())
    }

    #[tokio::test]
    async fn audio_is_sealed_on_disk_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = keyring();
        write_audio(dir.path(), "conv_1", AUDIO.to_owned(), &keyring)
            .await
            .unwrap();
        let on_disk = std::fs::read_to_string(audio_path(dir.path(), "conv_1")).unwrap();
        assert!(on_disk.starts_with("mvx1:"), "{on_disk}");
        assert!(!on_disk.contains(&AUDIO[..16]), "no plaintext on disk");
        let read = read_audio(dir.path(), "conv_1", &keyring).await.unwrap();
        assert_eq!(read, AUDIO);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn a_file_moved_to_another_conversation_or_altered_does_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = keyring();
        write_audio(dir.path(), "conv_1", AUDIO.to_owned(), &keyring)
            .await
            .unwrap();
        std::fs::copy(
            audio_path(dir.path(), "conv_1"),
            audio_path(dir.path(), "conv_2"),
        )
        .unwrap();
        let moved = read_audio(dir.path(), "conv_2", &keyring).await;
        assert!(matches!(moved, Err(AudioReadError::Crypto(_))), "{moved:?}");
        let other_keys = read_audio(dir.path(), "conv_1", &self::keyring()).await;
        assert!(
            matches!(other_keys, Err(AudioReadError::Crypto(_))),
            "{other_keys:?}"
        );
    }

    #[tokio::test]
    async fn with_encryption_off_and_for_older_files_the_text_is_kept_as_received() {
        let dir = tempfile::tempdir().unwrap();
        write_audio(dir.path(), "conv_1", AUDIO.to_owned(), &Keyring::disabled())
            .await
            .unwrap();
        let on_disk = std::fs::read_to_string(audio_path(dir.path(), "conv_1")).unwrap();
        assert_eq!(on_disk, AUDIO);
        let read = read_audio(dir.path(), "conv_1", &keyring()).await.unwrap();
        assert_eq!(read, AUDIO, "a plaintext file reads back with keys on too");
    }
}
