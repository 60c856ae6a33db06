//! Where the keys of a backup are, said in words: a backup never holds key material, so the
//! operator must keep the keys apart from it, and bring them back for a restore.

use std::path::PathBuf;

use memvox_config::SharedConfig;

/// Where the configured keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `encryption.enabled = false`: values are stored in plaintext.
    Off,
    /// `encryption.keys`, `active_key`, `index_key` (a secret, the environment).
    Inline,
    /// A key file.
    File(PathBuf),
}

impl KeySource {
    /// The key source of `config` (for SQLite, the key file beside its database unless
    /// `encryption.key_file` names another). Reads no key.
    pub fn of(config: &SharedConfig) -> Self {
        let encryption = &config.encryption;
        if !encryption.enabled {
            return Self::Off;
        }
        if encryption.has_inline_keys() {
            return Self::Inline;
        }
        match encryption
            .key_file
            .clone()
            .or_else(|| config.store.default_key_file())
        {
            Some(path) => Self::File(path),
            // PostgreSQL has no default key file: its keys come from the configuration.
            None => Self::Inline,
        }
    }

    /// What a backup of a database with this key source, needing `key_ids`, leaves the
    /// operator to do.
    pub fn backup_notice(&self, key_ids: &[String]) -> String {
        let ids = key_ids.join(", ");
        match self {
            Self::Off => "encryption is off: the backup holds transcripts and memories in \
                 plaintext; keep it as safe as the database itself"
                .to_owned(),
            Self::Inline => format!(
                "keys: NOT in the backup. They come from the configuration (encryption.keys, \
                 MEMVOX_ENCRYPTION__KEYS, ..._ACTIVE_KEY, ..._INDEX_KEY): keep that secret apart \
                 from the backups. Without keys {ids} (and the index key) the backup cannot be \
                 read; whoever holds both can read it all."
            ),
            Self::File(path) => format!(
                "keys: NOT in the backup. They are in {}: keep a copy of that file apart from \
                 the backups (a secrets manager, another medium), never beside them. Without \
                 keys {ids} the backup cannot be read; whoever holds both can read it all. To \
                 restore, put the file beside the restored database as <database>.keys.json \
                 (or name it with encryption.key_file).",
                path.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> SharedConfig {
        let mut config = SharedConfig::default();
        config.store.url = url.into();
        config
    }

    #[test]
    fn the_key_file_defaults_to_beside_the_database_and_the_notice_names_it() {
        let mut config = config("sqlite:///srv/data/memvox.db");
        let source = KeySource::of(&config);
        assert_eq!(
            source,
            KeySource::File("/srv/data/memvox.db.keys.json".into())
        );
        let notice = source.backup_notice(&["k1".into()]);
        assert!(notice.contains("/srv/data/memvox.db.keys.json"), "{notice}");
        assert!(notice.contains("NOT in the backup") && notice.contains("k1"));

        config.encryption.key_file = Some("/secrets/keys.json".into());
        assert_eq!(
            KeySource::of(&config),
            KeySource::File("/secrets/keys.json".into())
        );
        config.encryption.enabled = false;
        let off = KeySource::of(&config);
        assert_eq!(off, KeySource::Off);
        assert!(off.backup_notice(&[]).contains("plaintext"));
    }
}
