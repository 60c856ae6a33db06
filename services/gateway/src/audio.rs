//! `post_call_audio` deliveries: the audio goes to a file (or nowhere), never to the database or
//! the bus.
//!
//! With `gateway.audio_dir` set, `full_audio` is written encrypted (see [`crate::audio_file`])
//! to `<audio_dir>/<conversation_id>.mp3.b64`. The stored row is the envelope with `full_audio`
//! emptied (it still parses as an audio event for the workers).
//!
//! The conversation id becomes a file name, so it must be a plain token (`[A-Za-z0-9_-]`, at
//! most 128 bytes); anything else is refused rather than sanitised into a different name.

use std::path::Path;

use memvox_crypto::Keyring;
use memvox_elevenlabs::{EventPayload, WebhookEvent};

use crate::audio_file::write_audio;
use crate::error::GatewayError;

/// Longest conversation id accepted as a file name.
const MAX_ID_LEN: usize = 128;

/// Takes the audio out of a `post_call_audio` body, saves it (encrypted with `keyring`) when
/// `audio_dir` is set, and returns the envelope to store (with `full_audio` empty).
///
/// # Errors
/// [`GatewayError::Payload`] if the body is not a valid audio event, [`GatewayError::Invalid`]
/// for a conversation id unfit as a file name, [`GatewayError::Audio`] if the file cannot be
/// written.
pub(crate) async fn strip_audio(
    body: &[u8],
    audio_dir: Option<&Path>,
    keyring: &Keyring,
) -> Result<String, GatewayError> {
    let mut event = WebhookEvent::parse(body).map_err(GatewayError::Payload)?;
    let EventPayload::Audio(data) = &mut event.payload else {
        return Err(GatewayError::Invalid {
            path: "type",
            rule: "expected post_call_audio",
        });
    };
    if !is_file_token(&data.conversation_id) {
        return Err(GatewayError::Invalid {
            path: "data.conversation_id",
            rule: "must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'",
        });
    }
    let audio = std::mem::take(&mut data.full_audio);
    if let Some(dir) = audio_dir {
        write_audio(dir, &data.conversation_id, audio, keyring)
            .await
            .map_err(GatewayError::Audio)?;
    }
    serde_json::to_string(&event).map_err(|error| GatewayError::Audio(error.into()))
}

fn is_file_token(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

#[cfg(test)]
mod tests {
    use memvox_crypto::KeySet;

    use super::*;
    use crate::audio_file::{audio_path, read_audio};

    const BODY: &str = r#"{"type":"post_call_audio","event_timestamp":5,"data":{"agent_id":"a","conversation_id":"conv_1","full_audio":"SUQz"}}"#;

    #[tokio::test]
    async fn audio_is_saved_and_removed_from_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Keyring::from_key_set(KeySet::generate());
        let row = strip_audio(BODY.as_bytes(), Some(dir.path()), &keyring)
            .await
            .unwrap();
        assert!(!row.contains("SUQz"), "{row}");
        assert!(WebhookEvent::parse(row.as_bytes()).is_ok());
        let on_disk = std::fs::read_to_string(audio_path(dir.path(), "conv_1")).unwrap();
        assert!(!on_disk.contains("SUQz"), "encrypted on disk: {on_disk}");
        let saved = read_audio(dir.path(), "conv_1", &keyring).await.unwrap();
        assert_eq!(saved, "SUQz");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn path_like_ids_are_refused() {
        let body = BODY.replace("conv_1", "../etc/passwd");
        let error = strip_audio(body.as_bytes(), None, &Keyring::disabled())
            .await
            .unwrap_err();
        assert!(matches!(error, GatewayError::Invalid { .. }), "{error}");
    }

    #[test]
    fn file_tokens_are_plain() {
        assert!(is_file_token("conv_5201kf3r7e9yq2m8vx4pn0td6h"));
        assert!(!is_file_token(""));
        assert!(!is_file_token("a/b"));
        assert!(!is_file_token(&"a".repeat(129)));
    }
}
