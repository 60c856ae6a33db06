use crate::*;

const CONTENT: Context<'static> = Context {
    column: "memories.content",
    owner: "alice",
};

fn keyring() -> Keyring {
    Keyring::from_key_set(KeySet::generate())
}

#[test]
fn round_trips_and_hides_the_plaintext() {
    let keyring = keyring();
    let sealed = keyring.encrypt("allergic to peanuts", CONTENT).unwrap();
    let id = keyring.active_key_id().unwrap();
    assert!(sealed.starts_with(&format!("mvx1:{id}:")), "{sealed}");
    assert!(!sealed.contains("peanuts"));
    assert_eq!(
        keyring.decrypt(&sealed, CONTENT).unwrap(),
        "allergic to peanuts"
    );
    assert_ne!(
        sealed,
        keyring.encrypt("allergic to peanuts", CONTENT).unwrap(),
        "every value gets its own nonce"
    );
    assert_eq!(key_id_of(&sealed), Some(id.as_str()));
}

#[test]
fn plaintext_reads_back_as_is() {
    assert_eq!(
        keyring().decrypt("legacy text", CONTENT).unwrap(),
        "legacy text"
    );
    assert_eq!(key_id_of("legacy text"), None);
}

#[test]
fn tampering_is_an_authentication_error() {
    let keyring = keyring();
    let sealed = keyring.encrypt("allergic to peanuts", CONTENT).unwrap();
    let (head, body) = sealed.rsplit_once(':').unwrap();
    let mut bytes =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap();
    bytes[20] ^= 1;
    let tampered = format!(
        "{head}:{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
    );
    assert!(matches!(
        keyring.decrypt(&tampered, CONTENT),
        Err(CryptoError::Authentication { .. })
    ));
    let truncated = &sealed[..sealed.len() - 30];
    assert!(keyring.decrypt(truncated, CONTENT).is_err());
}

#[test]
fn another_column_or_owner_cannot_read_the_value() {
    let keyring = keyring();
    let sealed = keyring.encrypt("allergic to peanuts", CONTENT).unwrap();
    for context in [
        Context {
            column: "memories.content",
            owner: "bob",
        },
        Context {
            column: "users.summary",
            owner: "alice",
        },
    ] {
        assert!(matches!(
            keyring.decrypt(&sealed, context),
            Err(CryptoError::Authentication { .. })
        ));
    }
}

#[test]
fn an_unknown_key_id_is_a_typed_error() {
    let sealed = keyring().encrypt("x", CONTENT).unwrap();
    let other = keyring();
    assert!(matches!(
        other.decrypt(&sealed, CONTENT),
        Err(CryptoError::UnknownKey(_))
    ));
    assert!(matches!(
        Keyring::disabled().decrypt(&sealed, CONTENT),
        Err(CryptoError::Disabled)
    ));
}

#[test]
fn a_key_file_is_reloaded_when_an_unknown_key_is_met() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    let settings = EncryptionSettings {
        key_file: Some(path.clone()),
        ..EncryptionSettings::default()
    };
    let reader = Keyring::open(&settings, Some(&path)).unwrap();
    let mut keys = key_file::load(&path).unwrap();
    keys.add_active("k2", Key::generate()).unwrap();
    key_file::save(&path, &keys, false).unwrap();
    let writer = Keyring::open(&settings, None).unwrap();
    assert_eq!(writer.active_key_id().as_deref(), Some("k2"));
    let sealed = writer.encrypt("new value", CONTENT).unwrap();
    assert_eq!(reader.decrypt(&sealed, CONTENT).unwrap(), "new value");
    assert_eq!(reader.active_key_id().as_deref(), Some("k2"));
}

#[test]
fn without_a_key_postgres_style_opening_fails_with_one_sentence() {
    let err = Keyring::open(&EncryptionSettings::default(), None).unwrap_err();
    assert!(
        err.to_string()
            .contains("encryption is on but no key is configured"),
        "{err}"
    );
    let off = EncryptionSettings {
        enabled: false,
        ..EncryptionSettings::default()
    };
    assert!(!Keyring::open(&off, None).unwrap().is_enabled());
}

#[test]
fn fingerprints_are_keyed_and_normalised() {
    let keyring = keyring();
    assert_eq!(
        keyring.fingerprint("Allergic to peanuts."),
        keyring.fingerprint("allergic to   PEANUTS")
    );
    assert_ne!(
        keyring.fingerprint("allergic to peanuts"),
        memvox_core::text::content_fingerprint("allergic to peanuts"),
        "a keyed fingerprint is not the public hash"
    );
    assert_ne!(
        keyring.fingerprint("allergic to peanuts"),
        self::keyring().fingerprint("allergic to peanuts")
    );
    assert_eq!(
        Keyring::disabled().fingerprint("allergic to peanuts"),
        memvox_core::text::content_fingerprint("allergic to peanuts")
    );
}

#[test]
fn term_tokens_are_short_deterministic_and_identity_when_off() {
    let keyring = keyring();
    let token = keyring.term_token("peanuts");
    assert_eq!(token.len(), 16);
    assert_eq!(token, keyring.term_token("peanuts"));
    assert_ne!(token, keyring.term_token("peanut"));
    assert_eq!(Keyring::disabled().term_token("peanuts"), "peanuts");
}

#[test]
fn number_indexes_are_keyed_and_survive_rotation() {
    let mut keys = KeySet::generate();
    let keyring = Keyring::from_key_set(keys.clone());
    let index = keyring.number_index("+14155550199");
    assert_eq!(index.len(), 32);
    assert!(!index.contains("4155550199"));
    assert_eq!(index, keyring.number_index("+14155550199"));
    assert_ne!(index, keyring.number_index("+14155550100"));
    assert_ne!(
        index,
        self::keyring().number_index("+14155550199"),
        "another index key"
    );
    assert_ne!(
        index,
        Keyring::disabled().number_index("+14155550199"),
        "not the public hash"
    );
    keys.add_active("k2", Key::generate()).unwrap();
    assert_eq!(
        Keyring::from_key_set(keys).number_index("+14155550199"),
        index,
        "a new data key leaves the index key, and so the index, as it was"
    );
}

#[test]
fn key_checks_verify_only_the_same_key() {
    let keyring = keyring();
    let id = keyring.active_key_id().unwrap();
    let check = keyring.key_check(&id).unwrap();
    keyring.verify_key_check(&id, &check).unwrap();
    let mut impostor = KeySet::generate();
    impostor.add_active(&id, Key::generate()).unwrap();
    assert!(
        Keyring::from_key_set(impostor)
            .verify_key_check(&id, &check)
            .is_err()
    );
}

#[test]
fn with_active_switches_the_encrypting_key() {
    let mut keys = KeySet::generate();
    let first = keys.active().to_owned();
    keys.add_active("k2", Key::generate()).unwrap();
    let keyring = Keyring::from_key_set(keys).with_active(&first).unwrap();
    let sealed = keyring.encrypt("x", CONTENT).unwrap();
    assert_eq!(key_id_of(&sealed), Some(first.as_str()));
    assert!(keyring.needs_reencryption("plain"));
    assert!(!keyring.needs_reencryption(&sealed));
    assert!(keyring.with_active("missing").is_err());
}
