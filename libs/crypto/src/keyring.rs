//! The [`Keyring`]: encrypts and decrypts stored values, computes keyed blind indexes, and
//! reloads its key source when it meets a key id it does not know.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use aes_gcm::{
    Aes256Gcm,
    aead::{Aead, Nonce, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::{CryptoError, CryptoResult, EncryptionSettings, KeySet, Sealer, key_file};

/// Prefix of every encrypted value: format version 1.
pub const ENVELOPE_PREFIX: &str = "mvx1:";

/// Bytes of an AES-GCM nonce.
const NONCE_BYTES: usize = 12;

/// Plaintext of the per-key check values recorded in the database.
const KEY_CHECK_PLAINTEXT: &str = "memvox key check";

/// Where a value lives, bound into its ciphertext as associated data: a value moved to another
/// column or another owner fails to decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context<'a> {
    /// `table.column`, e.g. `memories.content`.
    pub column: &'a str,
    /// The owning row's stable owner: user id, or conversation id for call data.
    pub owner: &'a str,
}

impl Context<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("memvox|{}|{}", self.column, self.owner).into_bytes()
    }
}

/// Where the keys came from, so they can be read again.
#[derive(Debug, Clone)]
enum Source {
    /// A key file, re-read on reload.
    File(PathBuf),
    /// Inline settings (a process's environment does not change: reload is a no-op).
    Inline,
}

#[derive(Debug)]
struct Enabled {
    source: Source,
    keys: RwLock<Arc<KeySet>>,
}

/// Keys and the operations on stored values. With encryption off every operation is the
/// identity (values stay plaintext, fingerprints are plain hashes, terms are themselves).
#[derive(Debug, Clone)]
pub struct Keyring {
    enabled: Option<Arc<Enabled>>,
}

impl Keyring {
    /// A keyring that stores plaintext.
    pub fn disabled() -> Self {
        Self { enabled: None }
    }

    /// A keyring over a fixed key set (tests, tools).
    pub fn from_key_set(keys: KeySet) -> Self {
        Self::with_source(keys, Source::Inline)
    }

    fn with_source(keys: KeySet, source: Source) -> Self {
        Self {
            enabled: Some(Arc::new(Enabled {
                source,
                keys: RwLock::new(Arc::new(keys)),
            })),
        }
    }

    /// Builds the keyring the settings describe. `default_key_file` is where the embedded
    /// (SQLite) store keeps its keys when `key_file` is unset; when it is `Some`, a missing key
    /// file is generated (mode 0600) and its location logged. Without it (PostgreSQL) keys must
    /// be configured.
    pub fn open(
        settings: &EncryptionSettings,
        default_key_file: Option<&Path>,
    ) -> CryptoResult<Self> {
        settings.validate()?;
        if !settings.enabled {
            tracing::warn!(
                "encryption at rest is OFF (encryption.enabled = false): transcripts and memories are stored in plaintext"
            );
            return Ok(Self::disabled());
        }
        if settings.has_inline_keys() {
            return Ok(Self::with_source(
                settings.inline_key_set()?,
                Source::Inline,
            ));
        }
        let may_generate = default_key_file.is_some();
        let Some(path) = settings.key_file.as_deref().or(default_key_file) else {
            return Err(CryptoError::KeySource(
                "encryption is on but no key is configured: set encryption.key_file, or encryption.keys, active_key and index_key (MEMVOX_ENCRYPTION__KEYS, __ACTIVE_KEY, __INDEX_KEY from a secret), or set encryption.enabled = false to store plaintext".into(),
            ));
        };
        if !path.exists() {
            if !may_generate {
                return Err(CryptoError::KeySource(format!(
                    "encryption.key_file {} does not exist",
                    path.display()
                )));
            }
            key_file::save(path, &KeySet::generate(), true)?;
            tracing::warn!(
                key_file = %path.display(),
                "generated a new encryption key file (mode 0600): back it up and keep it apart from database backups; losing it loses the data it protects"
            );
        }
        Ok(Self::with_source(
            key_file::load(path)?,
            Source::File(path.to_path_buf()),
        ))
    }

    /// Whether values are encrypted.
    pub fn is_enabled(&self) -> bool {
        self.enabled.is_some()
    }

    /// The key file the keys come from, if any.
    pub fn key_file(&self) -> Option<&Path> {
        match &self.enabled.as_ref()?.source {
            Source::File(path) => Some(path),
            Source::Inline => None,
        }
    }

    /// Id of the key new values are encrypted with (`None` when encryption is off).
    pub fn active_key_id(&self) -> Option<String> {
        Some(self.current()?.active().to_owned())
    }

    /// Every data key id (empty when encryption is off).
    pub fn key_ids(&self) -> Vec<String> {
        self.current().map(|k| k.ids()).unwrap_or_default()
    }

    /// A keyring over the same keys with another active key (which must be among them).
    pub fn with_active(&self, id: &str) -> CryptoResult<Self> {
        let enabled = self.enabled.as_ref().ok_or(CryptoError::Disabled)?;
        let current = self.current().ok_or(CryptoError::Disabled)?;
        let mut keys = KeySet::clone(&current);
        keys.set_active(id)?;
        Ok(Self::with_source(keys, enabled.source.clone()))
    }

    /// Re-reads the key source (a key file may have gained keys or a new active key).
    pub fn reload(&self) -> CryptoResult<()> {
        let Some(enabled) = &self.enabled else {
            return Ok(());
        };
        if let Source::File(path) = &enabled.source {
            let fresh = Arc::new(key_file::load(path)?);
            tracing::info!(key_file = %path.display(), active = fresh.active(), "reloaded encryption keys");
            *enabled.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        Ok(())
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        let enabled = self.enabled.as_ref()?;
        Some(
            enabled
                .keys
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }

    /// Encrypts `plaintext` under the active key, bound to `context`:
    /// `mvx1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. Identity when encryption is off.
    pub fn encrypt(&self, plaintext: &str, context: Context<'_>) -> CryptoResult<String> {
        let Some(keys) = self.current() else {
            return Ok(plaintext.to_owned());
        };
        encrypt_with(&keys, keys.active(), plaintext, context)
    }

    /// Decrypts a stored value. A value without the envelope prefix is legacy plaintext and is
    /// returned as is. An unknown key id reloads the key source once before failing.
    pub fn decrypt(&self, stored: &str, context: Context<'_>) -> CryptoResult<String> {
        let Some((key_id, _)) = split_envelope(stored)? else {
            return Ok(stored.to_owned());
        };
        let keys = self.current().ok_or(CryptoError::Disabled)?;
        if keys.get(key_id).is_some() {
            return decrypt_with(&keys, stored, context);
        }
        self.reload()?;
        let keys = self.current().ok_or(CryptoError::Disabled)?;
        decrypt_with(&keys, stored, context)
    }

    /// Whether a stored value needs rewriting to be under the active key: it is plaintext or
    /// under another key. Always `false` when encryption is off.
    pub fn needs_reencryption(&self, stored: &str) -> bool {
        match self.current() {
            None => false,
            Some(keys) => key_id_of(stored) != Some(keys.active()),
        }
    }

    /// The per-user exact-duplicate key of a memory text: hex of a truncated HMAC-SHA256 of the
    /// normalised text under the index key (a plain SHA-256 when encryption is off, which a
    /// dictionary could reverse).
    pub fn fingerprint(&self, text: &str) -> String {
        match self.current() {
            None => memvox_core::text::content_fingerprint(text),
            Some(keys) => keyed_hex(
                &keys,
                b"fingerprint",
                memvox_core::text::normalize_for_dedupe(text).as_bytes(),
                16,
            ),
        }
    }

    /// The token a lexical (full-text) index stores for a normalised term: 16 hex digits of an
    /// HMAC-SHA256 of the term under the index key, deterministic so a query term maps to the
    /// same token; the term itself when encryption is off. The index then holds no plaintext
    /// terms, and only equality of whole terms can be searched.
    pub fn term_token(&self, term: &str) -> String {
        match self.current() {
            None => term.to_owned(),
            Some(keys) => keyed_hex(&keys, b"term", term.as_bytes(), 8),
        }
    }

    /// The tombstone an erasure leaves for `value` of `kind` (a user id, a phone number, a
    /// conversation id): hex of an HMAC-SHA256 under the index key, so it holds no personal data
    /// and only a holder of the keys can test a value against it; a plain SHA-256 when
    /// encryption is off.
    pub fn tombstone(&self, kind: &str, value: &str) -> String {
        let data = format!("{kind}\0{value}");
        match self.current() {
            None => hex::encode(<Sha256 as sha2::Digest>::digest(data.as_bytes())),
            Some(keys) => keyed_hex(&keys, b"tombstone", data.as_bytes(), 16),
        }
    }

    /// The blind index of a caller number (as normalised by the caller): hex of a 16-byte
    /// HMAC-SHA256 under the index key, so a number can be looked up and kept unique while
    /// stored only encrypted, and only a holder of the index key can test a guessed number
    /// against it; a plain SHA-256 when encryption is off (the number is in clear then anyway).
    pub fn number_index(&self, number: &str) -> String {
        let data = format!("caller number\0{number}");
        match self.current() {
            None => hex::encode(<Sha256 as sha2::Digest>::digest(data.as_bytes())),
            Some(keys) => keyed_hex(&keys, b"number-index", number.as_bytes(), 16),
        }
    }

    /// A value recorded in the database proving which key `id` is: a constant encrypted under
    /// it. `None` if the keyring lacks the key or encryption is off.
    pub fn key_check(&self, id: &str) -> Option<String> {
        let keys = self.current()?;
        keys.get(id)?;
        encrypt_with(&keys, id, KEY_CHECK_PLAINTEXT, key_check_context(id)).ok()
    }

    /// Checks a recorded [`Keyring::key_check`] value against the key of the same id.
    pub fn verify_key_check(&self, id: &str, check: &str) -> CryptoResult<()> {
        let plain = self.decrypt(check, key_check_context(id))?;
        if plain == KEY_CHECK_PLAINTEXT && key_id_of(check) == Some(id) {
            Ok(())
        } else {
            Err(CryptoError::Authentication { key_id: id.into() })
        }
    }

    /// A value recorded in the database proving which index key is in use.
    pub fn index_check(&self) -> Option<String> {
        let keys = self.current()?;
        Some(keyed_hex(&keys, b"index-check", b"memvox", 16))
    }

    /// A 32-byte key for `purpose` (e.g. signing identity tokens), derived from the index key
    /// under its own domain, so it is shared by every process holding the keys and never
    /// equals a fingerprint or term token. `None` when encryption is off.
    pub fn derive_key(&self, purpose: &str) -> Option<Vec<u8>> {
        let keys = self.current()?;
        hex::decode(keyed_hex(&keys, b"derive", purpose.as_bytes(), 32)).ok()
    }

    /// A [`Sealer`] for `purpose` (e.g. the shared cache): its encryption and name keys are
    /// derived like [`Keyring::derive_key`], under `<purpose> seal` and `<purpose> names`, so
    /// every process holding the keys derives the same one. `None` when encryption is off.
    pub fn sealer(&self, purpose: &str) -> Option<Sealer> {
        let seal = self.derive_key(&format!("{purpose} seal"))?;
        let names = self.derive_key(&format!("{purpose} names"))?;
        Sealer::new(&seal, &names).ok()
    }
}

fn key_check_context(id: &str) -> Context<'_> {
    Context {
        column: "store_meta.key_check",
        owner: id,
    }
}

fn encrypt_with(
    keys: &KeySet,
    key_id: &str,
    plaintext: &str,
    context: Context<'_>,
) -> CryptoResult<String> {
    let (_, cipher) = keys
        .get(key_id)
        .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
    let mut nonce_bytes = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce_bytes);
    let nonce = Nonce::<Aes256Gcm>::from(nonce_bytes);
    let aad = context.aad();
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Malformed("value too long to encrypt".into()))?;
    let mut body = Vec::with_capacity(NONCE_BYTES + sealed.len());
    body.extend_from_slice(&nonce_bytes);
    body.extend_from_slice(&sealed);
    Ok(format!(
        "{ENVELOPE_PREFIX}{key_id}:{}",
        STANDARD.encode(body)
    ))
}

fn decrypt_with(keys: &KeySet, stored: &str, context: Context<'_>) -> CryptoResult<String> {
    let Some((key_id, body)) = split_envelope(stored)? else {
        return Ok(stored.to_owned());
    };
    let (_, cipher) = keys
        .get(key_id)
        .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
    let bytes = STANDARD.decode(body).map_err(|_| {
        CryptoError::Malformed(format!("the body under key `{key_id}` is not base64"))
    })?;
    if bytes.len() < NONCE_BYTES + 16 {
        return Err(CryptoError::Malformed(format!(
            "the body under key `{key_id}` is too short"
        )));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    let nonce = Nonce::<Aes256Gcm>::try_from(nonce)
        .map_err(|_| CryptoError::Malformed("bad nonce".into()))?;
    let aad = context.aad();
    let plain = cipher
        .decrypt(
            &nonce,
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Authentication {
            key_id: key_id.to_owned(),
        })?;
    String::from_utf8(plain).map_err(|_| CryptoError::Malformed("plaintext is not UTF-8".into()))
}

/// `Some((key id, body))` for an envelope, `None` for plaintext.
fn split_envelope(stored: &str) -> CryptoResult<Option<(&str, &str)>> {
    let Some(rest) = stored.strip_prefix(ENVELOPE_PREFIX) else {
        return Ok(None);
    };
    let (key_id, body) = rest
        .split_once(':')
        .ok_or_else(|| CryptoError::Malformed("no key id".into()))?;
    Ok(Some((key_id, body)))
}

/// The key id of an encrypted value; `None` for plaintext (or a malformed envelope).
pub fn key_id_of(stored: &str) -> Option<&str> {
    split_envelope(stored).ok().flatten().map(|(id, _)| id)
}

fn keyed_hex(keys: &KeySet, domain: &[u8], data: &[u8], bytes: usize) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(keys.index_key().bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(domain);
    mac.update(&[0]);
    mac.update(data);
    hex::encode(&mac.finalize().into_bytes()[..bytes])
}
