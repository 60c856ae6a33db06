//! A set of keys: the data keys by id, which one encrypts new values, and the index key.

use std::{collections::BTreeMap, fmt};

use aes_gcm::{Aes256Gcm, KeyInit};

use crate::{
    CryptoError, CryptoResult,
    key::{Key, validate_key_id},
};

/// Data keys by id (with their ready ciphers), the active id and the blind-index key.
#[derive(Clone)]
pub struct KeySet {
    active: String,
    keys: BTreeMap<String, (Key, Aes256Gcm)>,
    index_key: Key,
}

impl KeySet {
    /// Builds a key set; the active id must be one of `keys`, and every id must be valid.
    pub fn new(
        active: &str,
        keys: impl IntoIterator<Item = (String, Key)>,
        index_key: Key,
    ) -> CryptoResult<Self> {
        let mut map = BTreeMap::new();
        for (id, key) in keys {
            validate_key_id(&id)?;
            let cipher = Aes256Gcm::new_from_slice(key.bytes())
                .map_err(|_| CryptoError::KeySource(format!("key `{id}` has a bad length")))?;
            if map.insert(id.clone(), (key, cipher)).is_some() {
                return Err(CryptoError::KeySource(format!(
                    "key id `{id}` appears twice"
                )));
            }
        }
        if !map.contains_key(active) {
            return Err(CryptoError::KeySource(format!(
                "the active key `{active}` is not among the keys ({})",
                map.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(Self {
            active: active.to_owned(),
            keys: map,
            index_key,
        })
    }

    /// A new set with one generated data key (active) and a generated index key.
    pub fn generate() -> Self {
        let id = crate::key::new_key_id();
        let key = Key::generate();
        let cipher = Aes256Gcm::new_from_slice(key.bytes()).unwrap_or_else(|_| unreachable!());
        Self {
            active: id.clone(),
            keys: BTreeMap::from([(id, (key, cipher))]),
            index_key: Key::generate(),
        }
    }

    /// Id of the key new values are encrypted with.
    pub fn active(&self) -> &str {
        &self.active
    }

    /// Every data key id, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    /// Makes `id` (already in the set) the active key.
    pub fn set_active(&mut self, id: &str) -> CryptoResult<()> {
        if !self.keys.contains_key(id) {
            return Err(CryptoError::KeySource(format!(
                "key `{id}` is not in the key source: add it to the key file or secret first"
            )));
        }
        id.clone_into(&mut self.active);
        Ok(())
    }

    /// Adds a key and makes it active.
    pub fn add_active(&mut self, id: &str, key: Key) -> CryptoResult<()> {
        validate_key_id(id)?;
        if self.keys.contains_key(id) {
            return Err(CryptoError::KeySource(format!(
                "key id `{id}` already exists"
            )));
        }
        let cipher = Aes256Gcm::new_from_slice(key.bytes())
            .map_err(|_| CryptoError::KeySource(format!("key `{id}` has a bad length")))?;
        self.keys.insert(id.to_owned(), (key, cipher));
        id.clone_into(&mut self.active);
        Ok(())
    }

    /// The data key and cipher of an id.
    pub(crate) fn get(&self, id: &str) -> Option<&(Key, Aes256Gcm)> {
        self.keys.get(id)
    }

    /// The blind-index key.
    pub(crate) fn index_key(&self) -> &Key {
        &self.index_key
    }

    /// Data keys by id, for writing a key file.
    pub(crate) fn keys(&self) -> impl Iterator<Item = (&String, &Key)> {
        self.keys.iter().map(|(id, (key, _))| (id, key))
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("active", &self.active)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .field("index_key", &"***")
            .finish()
    }
}
