//! The key file: JSON with the data keys by id (base64), the active key id and the index key,
//! readable by its owner only (mode 0600).
//!
//! ```json
//! {"active_key": "k1", "index_key": "<base64>", "keys": {"k1": "<base64>"}}
//! ```

use std::{
    collections::BTreeMap,
    fs,
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
};

use serde::{Deserialize, Serialize};

use crate::{CryptoError, CryptoResult, KeySet, key::Key};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileBody {
    active_key: String,
    index_key: String,
    keys: BTreeMap<String, String>,
}

/// Reads a key file; refuses one that its group or other users can read.
pub fn load(path: &Path) -> CryptoResult<KeySet> {
    let unreadable = |e: std::io::Error| {
        CryptoError::KeySource(format!("cannot read key file {}: {e}", path.display()))
    };
    let mode = fs::metadata(path).map_err(unreadable)?.permissions().mode();
    if mode & 0o044 != 0 {
        return Err(CryptoError::KeySource(format!(
            "key file {} is readable by its group or other users (mode {:o}): whoever reads it \
             can decrypt every transcript and memory; run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    let text = fs::read_to_string(path).map_err(unreadable)?;
    let body: KeyFileBody = serde_json::from_str(&text).map_err(|e| {
        CryptoError::KeySource(format!(
            "key file {} is not a memvox key file: {e}",
            path.display()
        ))
    })?;
    let index_key = Key::from_base64(&body.index_key, "the key file's index_key")?;
    let keys = body
        .keys
        .iter()
        .map(|(id, b64)| Ok((id.clone(), Key::from_base64(b64, &format!("key `{id}`"))?)))
        .collect::<CryptoResult<Vec<_>>>()?;
    KeySet::new(&body.active_key, keys, index_key)
        .map_err(|e| CryptoError::KeySource(format!("key file {}: {e}", path.display())))
}

/// Writes a key file atomically (a 0600 temporary file renamed over it); `create_new` refuses
/// to replace an existing file.
pub fn save(path: &Path, keys: &KeySet, create_new: bool) -> CryptoResult<()> {
    let io = |e: std::io::Error| {
        CryptoError::KeySource(format!("cannot write key file {}: {e}", path.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let body = KeyFileBody {
        active_key: keys.active().to_owned(),
        index_key: keys.index_key().to_base64(),
        keys: keys
            .keys()
            .map(|(id, key)| (id.clone(), key.to_base64()))
            .collect(),
    };
    let text =
        serde_json::to_string_pretty(&body).map_err(|e| CryptoError::KeySource(e.to_string()))?;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(tmp)
        .map_err(io)?;
    fs::set_permissions(tmp, fs::Permissions::from_mode(0o600)).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    if create_new && path.exists() {
        let _ = fs::remove_file(tmp);
        return Err(CryptoError::KeySource(format!(
            "key file {} already exists",
            path.display()
        )));
    }
    fs::rename(tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_file_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = KeySet::generate();
        save(&path, &keys, true).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.active(), keys.active());
        assert_eq!(loaded.ids(), keys.ids());
        assert!(
            save(&path, &keys, true).is_err(),
            "create_new must not overwrite"
        );
    }

    #[test]
    fn a_file_whose_active_key_is_missing_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let key = Key::generate().to_base64();
        fs::write(
            &path,
            format!(r#"{{"active_key":"b","index_key":"{key}","keys":{{"a":"{key}"}}}}"#),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = load(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("active key `b` is not among the keys (a)"),
            "{err}"
        );
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        save(&path, &KeySet::generate(), true).unwrap();
        for mode in [0o640, 0o604, 0o644] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = load(&path).unwrap_err().to_string();
            assert!(
                err.contains("readable by its group or other users"),
                "{err}"
            );
            assert!(err.contains("chmod 600"), "{err}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(load(&path).is_ok(), "owner-only modes are fine");
    }
}
