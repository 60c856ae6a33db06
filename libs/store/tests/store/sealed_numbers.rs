//! Caller numbers sealed, on both backends: what a copy of the database shows of a binding,
//! look-ups and first-binding-wins through the blind index, bindings from before the seal
//! completed on open (idempotently), encryption turned on later, and erasure.

use memvox_crypto::Keyring;
use memvox_store::Erased;
use memvox_testkit::{Backend, TestStore, space, test_keyring};

use crate::support::{upgraded, with_harness};

const NOW: i64 = 1_767_225_645_000;
const ALICE: &str = "+14155550199";
const CAROL: &str = "+14155550100";

/// The digits every form of the numbers shares: never in a raw table.
const DIGITS: [&str; 2] = ["4155550199", "4155550100"];

/// Every stored value of the binding table, read with plain SQL.
async fn raw_bindings(harness: &TestStore) -> Vec<String> {
    let mut raw = harness
        .raw_column("caller_identities", "number_index")
        .await;
    raw.extend(
        harness
            .raw_column("caller_identities", "phone_number")
            .await,
    );
    raw
}

fn assert_sealed(raw: &[String]) {
    assert!(!raw.is_empty());
    for value in raw {
        for digits in DIGITS {
            assert!(!value.contains(digits), "a number in clear: {value}");
        }
    }
}

async fn numbers_are_sealed_and_found_by_their_blind_index(harness: &TestStore) {
    let store = harness.store();
    store.ensure_user("alice", NOW).await.unwrap();
    let bound = store.bind_caller(ALICE, "alice", NOW).await.unwrap();
    assert_eq!(
        (bound.phone_number.as_str(), bound.user_id.as_str()),
        (ALICE, "alice")
    );
    store
        .bind_caller(&format!("agent_1:{ALICE}"), "agent_1:bob", NOW)
        .await
        .unwrap();
    assert_sealed(&raw_bindings(harness).await);
    for value in harness
        .raw_column("caller_identities", "phone_number")
        .await
    {
        assert!(value.starts_with(memvox_crypto::ENVELOPE_PREFIX), "{value}");
    }

    assert_eq!(
        store.user_for_caller("+1 (415) 555-0199").await.unwrap(),
        Some("alice".to_owned()),
        "the index is of the normalised number"
    );
    assert_eq!(
        store
            .user_for_caller(&format!("agent_1:{ALICE}"))
            .await
            .unwrap(),
        Some("agent_1:bob".to_owned()),
        "scopes stay apart"
    );
    let again = store
        .bind_caller("+1 415 555 0199", "mallory", NOW + 1)
        .await
        .unwrap();
    assert_eq!(
        (again.phone_number.as_str(), again.user_id.as_str()),
        (ALICE, "alice"),
        "the first binding wins"
    );
    assert_eq!(store.caller_numbers("alice").await.unwrap(), [ALICE]);

    store.erase_user("alice", NOW + 2).await.unwrap();
    assert_eq!(store.user_for_caller(ALICE).await.unwrap(), None);
    assert!(store.caller_numbers("alice").await.unwrap().is_empty());
    assert!(
        store
            .is_erased(&[Erased::Number(ALICE)], NOW + 3)
            .await
            .unwrap(),
        "the erased binding's number is tombstoned"
    );
}

/// Rows as they were before numbers were sealed (schema version 8): plaintext, keyed on the
/// number; Carol's number twice, in two forms, the first bound first.
const BEFORE_THE_SEAL: [&str; 5] = [
    "INSERT INTO users (user_id, created_at) VALUES ('alice', 1), ('carol', 1), ('dave', 2)",
    "INSERT INTO caller_identities (phone_number, user_id, created_at) \
     VALUES ('+14155550199', 'alice', 1)",
    "INSERT INTO caller_identities (phone_number, user_id, created_at) \
     VALUES ('agent_1:+14155550100', 'carol', 1)",
    "INSERT INTO caller_identities (phone_number, user_id, created_at) \
     VALUES ('agent_1:+1 415 555 0100', 'dave', 2)",
    "INSERT INTO store_meta (key, value) VALUES ('unrelated', 'kept')",
];

async fn bindings_from_before_the_seal_are_sealed_on_open(harness: &TestStore) {
    let store = harness.store();
    let raw = raw_bindings(harness).await;
    assert_sealed(&raw);
    assert_eq!(raw.len(), 4, "two bindings, the duplicate form dropped");
    assert_eq!(
        store.user_for_caller(ALICE).await.unwrap(),
        Some("alice".to_owned())
    );
    assert_eq!(
        store
            .user_for_caller(&format!("agent_1:{CAROL}"))
            .await
            .unwrap(),
        Some("carol".to_owned())
    );
    assert!(store.caller_numbers("dave").await.unwrap().is_empty());

    // Opening again changes nothing (the same ciphertexts: nothing was rewritten).
    let reopened = harness.reopen(space()).await.unwrap();
    assert_eq!(raw_bindings(harness).await, raw);
    assert_eq!(
        reopened.caller_numbers("carol").await.unwrap(),
        [format!("agent_1:{CAROL}")]
    );
}

async fn turning_encryption_on_seals_the_numbers(harness: &TestStore) {
    let store = harness.store();
    store.bind_caller(ALICE, "alice", NOW).await.unwrap();
    assert_eq!(
        harness
            .raw_column("caller_identities", "phone_number")
            .await,
        [ALICE],
        "in clear while encryption is off"
    );
    let keyring = test_keyring();
    let sealed = harness.reopen_with(space(), keyring.clone()).await.unwrap();
    assert_sealed(&raw_bindings(harness).await);
    assert_eq!(
        sealed.user_for_caller(ALICE).await.unwrap(),
        Some("alice".to_owned())
    );
    assert_eq!(
        harness
            .raw_column("caller_identities", "number_index")
            .await,
        [keyring.number_index(ALICE)],
        "the keyed index replaced the plain hash"
    );
}

/// Runs `test` on a store migrated to version 8 with [`BEFORE_THE_SEAL`] planted, then opened.
async fn before_the_seal(backend: Backend, test: impl AsyncFnOnce(&TestStore)) {
    test(&upgraded(backend, test_keyring(), 8, &BEFORE_THE_SEAL).await).await;
}

/// Runs `test` on a store migrated to version 9 with encryption off, then opened.
async fn encryption_off_before(backend: Backend, test: impl AsyncFnOnce(&TestStore)) {
    test(&upgraded(backend, Keyring::disabled(), 9, &[]).await).await;
}

memvox_testkit::both_backends!(
    with_harness => numbers_are_sealed_and_found_by_their_blind_index;
    before_the_seal => bindings_from_before_the_seal_are_sealed_on_open;
    encryption_off_before => turning_encryption_on_seals_the_numbers,
);
