//! Encryption settings (`[encryption]` in the configuration file, `MEMVOX_ENCRYPTION__*` in the
//! environment).

use std::{fmt, path::PathBuf};

use serde::{Deserialize, Serialize};

use crate::{CryptoError, CryptoResult, KeySet, key::Key};

/// Encryption at rest. On by default; keys come from `key_file`, or from `keys`,
/// `active_key` and `index_key` (for containers, from a secret).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptionSettings {
    /// Encrypt transcripts and memories at rest. Turning it off stores plaintext and logs a
    /// warning at start.
    pub enabled: bool,
    /// JSON key file holding the keys, the active key id and the index key. With SQLite a
    /// missing file is generated (mode 0600); the default is `<database file>.keys.json`.
    pub key_file: Option<PathBuf>,
    /// Data keys as `id:base64,id:base64` (32-byte keys), instead of a key file.
    pub keys: Option<String>,
    /// Id of the key in `keys` that encrypts new values.
    pub active_key: Option<String>,
    /// Base64 32-byte key of the keyed blind index (duplicate fingerprints, search terms).
    pub index_key: Option<String>,
}

impl Default for EncryptionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            key_file: None,
            keys: None,
            active_key: None,
            index_key: None,
        }
    }
}

impl fmt::Debug for EncryptionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("EncryptionSettings")
            .field("enabled", &self.enabled)
            .field("key_file", &self.key_file)
            .field("keys", &hidden(&self.keys))
            .field("active_key", &self.active_key)
            .field("index_key", &hidden(&self.index_key))
            .finish()
    }
}

impl EncryptionSettings {
    /// Whether keys are given inline (`keys`, `active_key`, `index_key`); blank values (an
    /// unset variable passed through by a container runtime) count as unset.
    pub fn has_inline_keys(&self) -> bool {
        [&self.keys, &self.active_key, &self.index_key]
            .into_iter()
            .any(|v| given(v).is_some())
    }

    /// Checks the settings are coherent (without reading any file).
    pub fn validate(&self) -> CryptoResult<()> {
        if self.enabled && self.has_inline_keys() {
            if self.key_file.is_some() {
                return Err(CryptoError::KeySource(
                    "set either encryption.key_file or encryption.keys/active_key/index_key, not both"
                        .into(),
                ));
            }
            self.inline_key_set()?;
        }
        Ok(())
    }

    /// The key set given inline.
    pub fn inline_key_set(&self) -> CryptoResult<KeySet> {
        let (Some(keys), Some(active), Some(index)) = (
            given(&self.keys),
            given(&self.active_key),
            given(&self.index_key),
        ) else {
            return Err(CryptoError::KeySource(
                "encryption.keys, encryption.active_key and encryption.index_key must be set together"
                    .into(),
            ));
        };
        let parsed = keys
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| {
                let (id, b64) = entry.trim().split_once(':').ok_or_else(|| {
                    CryptoError::KeySource(
                        "encryption.keys must be `id:base64` entries separated by commas".into(),
                    )
                })?;
                Ok((
                    id.to_owned(),
                    Key::from_base64(b64, &format!("encryption.keys `{id}`"))?,
                ))
            })
            .collect::<CryptoResult<Vec<_>>>()?;
        KeySet::new(
            active,
            parsed,
            Key::from_base64(index, "encryption.index_key")?,
        )
    }
}

/// A setting's value unless it is missing or blank.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_by_default() {
        assert!(EncryptionSettings::default().enabled);
    }

    #[test]
    fn inline_keys_parse_and_debug_hides_them() {
        let a = Key::generate().to_base64();
        let b = Key::generate().to_base64();
        let settings = EncryptionSettings {
            keys: Some(format!("k1:{a}, k2:{b}")),
            active_key: Some("k2".into()),
            index_key: Some(Key::generate().to_base64()),
            ..EncryptionSettings::default()
        };
        settings.validate().unwrap();
        let set = settings.inline_key_set().unwrap();
        assert_eq!(set.ids(), ["k1", "k2"]);
        assert_eq!(set.active(), "k2");
        let debug = format!("{settings:?}");
        assert!(!debug.contains(&a) && !debug.contains(&b), "{debug}");
    }

    #[test]
    fn blank_inline_values_count_as_unset() {
        let blank = EncryptionSettings {
            keys: Some(String::new()),
            active_key: Some(" ".into()),
            index_key: Some(String::new()),
            ..EncryptionSettings::default()
        };
        assert!(!blank.has_inline_keys());
        assert!(blank.validate().is_ok());
    }

    #[test]
    fn incomplete_or_conflicting_inline_keys_are_rejected() {
        let partial = EncryptionSettings {
            keys: Some(format!("k1:{}", Key::generate().to_base64())),
            ..EncryptionSettings::default()
        };
        assert!(
            partial
                .validate()
                .unwrap_err()
                .to_string()
                .contains("must be set together")
        );
        let both = EncryptionSettings {
            key_file: Some("k.json".into()),
            ..partial
        };
        assert!(
            both.validate()
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
    }
}
