//! Where post-call audio files are: written by the gateway under `gateway.audio_dir`, deleted by
//! the query service (an erasure) and the extraction worker (retention), so the naming is shared.

use std::path::{Path, PathBuf};

/// How the name of every post-call audio file ends (see [`audio_path`]).
pub const AUDIO_FILE_SUFFIX: &str = ".mp3.b64";

/// The key of the audio directory in the layers (`[gateway] audio_dir`), read by every process
/// that deletes audio files.
pub const AUDIO_DIR_KEY: &str = "gateway.audio_dir";

/// The file a conversation's post-call audio is saved to under `gateway.audio_dir`: written by
/// the gateway, deleted with the caller by an erasure or past `workers.audio_retention_days`.
pub fn audio_path(dir: &Path, conversation_id: &str) -> PathBuf {
    dir.join(format!("{conversation_id}{AUDIO_FILE_SUFFIX}"))
}
