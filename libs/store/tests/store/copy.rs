//! Copying a whole store between backends (`memvox_store::copy_store`): a SQLite store copied
//! to PostgreSQL and back is equal to the original in every table (compared with plain SQL, the
//! original attached beside the copy) and answers memory queries identically on each side; an
//! interrupted copy resumes after its last batch; a non-empty destination is refused unless
//! forced; a destination changed before the verification fails it, naming the table.

use std::ops::ControlFlow;

use memvox_core::Sector;
use memvox_store::{
    CopyError, CopyEvent, CopyObserver, CopyOptions, Phase, copied_tables, copy_store,
};
use memvox_testkit::{Schema, TestStore, store::postgres_settings};

use crate::{
    contract::{NOW, memory},
    copy_seed::{answers, assert_same_tables, seed, sqlite},
};

/// Stops a copy at its `n`th event, or when verification starts.
struct StopAt {
    events: usize,
    at: Option<usize>,
    before_verify: bool,
}

impl CopyObserver for StopAt {
    fn on(&mut self, event: CopyEvent<'_>) -> ControlFlow<()> {
        self.events += 1;
        let verifying = matches!(
            event,
            CopyEvent::Started {
                phase: Phase::Verify,
                ..
            }
        );
        if Some(self.events) == self.at || (self.before_verify && verifying) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

#[tokio::test]
async fn sqlite_to_postgres_and_back_keeps_every_table_and_every_answer() {
    let (dir, back) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (original, returned) = (dir.path().join("memvox.db"), back.path().join("memvox.db"));
    let source = TestStore::in_dir(dir, memvox_testkit::test_keyring()).await;
    let keyring = source.keyring().clone();
    seed(&*source.store()).await;
    let expected = answers(&*source.store()).await;

    let schema = Schema::new("test_copy_");
    let postgres = postgres_settings(schema.name());
    let options = CopyOptions {
        batch_rows: 3,
        force: false,
    };
    let there = copy_store(
        &sqlite(&original),
        &postgres,
        keyring.clone(),
        options,
        &mut (),
    )
    .await
    .unwrap();
    let checks = there.verified.expect("verified");
    assert_eq!(checks.len(), copied_tables().len());
    assert!(!there.resumed);
    let from = postgres_settings(schema.name());
    let home = copy_store(&from, &sqlite(&returned), keyring.clone(), options, &mut ())
        .await
        .unwrap();
    assert_eq!(
        home.verified.unwrap(),
        checks,
        "the same checksums on every side"
    );
    assert_same_tables(&original, &returned).await;

    // Opened as the product opens them (which records its key checks anew), both answer as
    // the original did.
    let middle = TestStore::in_schema(schema, keyring.clone()).await;
    assert_eq!(
        answers(&*middle.store()).await,
        expected,
        "PostgreSQL answers as SQLite did"
    );
    assert_eq!(
        middle
            .integers("SELECT COUNT(*) FROM store_copy_progress")
            .await,
        [0]
    );
    let copy = TestStore::in_dir(back, keyring).await;
    assert_eq!(
        answers(&*copy.store()).await,
        expected,
        "the copy answers as the original"
    );
    let fresh = copy
        .store()
        .insert_memory(&memory("u1", "New", Sector::Semantic, 0.5), NOW)
        .await;
    let highest = source
        .integers("SELECT MAX(seq) FROM sqlite_sequence WHERE name = 'memories'")
        .await;
    assert!(
        fresh.unwrap().id > highest[0],
        "ids go on after the source's"
    );
}

#[tokio::test]
async fn an_interrupted_copy_resumes_after_its_last_committed_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memvox.db");
    let source = TestStore::in_dir(dir, memvox_testkit::test_keyring()).await;
    seed(&*source.store()).await;
    let schema = Schema::new("test_copy_");
    let postgres = postgres_settings(schema.name());
    let options = CopyOptions {
        batch_rows: 2,
        force: false,
    };
    let keyring = source.keyring().clone();
    let mut stop = StopAt {
        events: 0,
        at: Some(8),
        before_verify: false,
    };
    let first = copy_store(
        &sqlite(&path),
        &postgres,
        keyring.clone(),
        options,
        &mut stop,
    )
    .await
    .unwrap();
    assert!(first.verified.is_none(), "stopped");
    assert!(
        (7..=14).contains(&first.copied),
        "seven batches committed: {first:?}"
    );

    let mut rest = StopAt {
        events: 0,
        at: None,
        before_verify: false,
    };
    let second = copy_store(
        &sqlite(&path),
        &postgres,
        keyring.clone(),
        options,
        &mut rest,
    )
    .await
    .unwrap();
    assert!(second.resumed);
    assert!(second.verified.is_some(), "verified");
    let total: i64 = source.table_counts().await.values().sum();
    // Rows of the copied tables that hold no user data (not in `table_counts`).
    let other = source
        .integers(
            "SELECT (SELECT COUNT(*) FROM erasure_tombstones) \
             + (SELECT COUNT(*) FROM elevenlabs_imports) \
             + (SELECT COUNT(*) FROM elevenlabs_pending_conversations)",
        )
        .await[0];
    let passes = source
        .integers("SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM memories WHERE superseded_by IS NOT NULL)")
        .await[0];
    assert_eq!(
        first.copied + second.copied,
        u64::try_from(total + other + passes).unwrap(),
        "no row copied twice"
    );
    let copy = TestStore::in_schema(schema, keyring).await;
    assert_eq!(
        answers(&*copy.store()).await,
        answers(&*source.store()).await
    );
}

#[tokio::test]
async fn a_non_empty_destination_is_refused_unless_forced() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (from, to) = (a.path().join("memvox.db"), b.path().join("memvox.db"));
    let source = TestStore::in_dir(a, memvox_testkit::test_keyring()).await;
    seed(&*source.store()).await;
    let keyring = source.keyring().clone();
    let other = TestStore::in_dir(b, keyring.clone()).await;
    other
        .store()
        .insert_memory(
            &memory("someone", "Lives in Oslo", Sector::Semantic, 0.5),
            NOW,
        )
        .await
        .unwrap();
    let refused = copy_store(
        &sqlite(&from),
        &sqlite(&to),
        keyring.clone(),
        CopyOptions::default(),
        &mut (),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            refused,
            CopyError::NotEmpty {
                table: "users",
                rows: 1
            }
        ),
        "{refused}"
    );
    assert_eq!(
        other.integers("SELECT COUNT(*) FROM memories").await,
        [1],
        "nothing touched"
    );
    let same = copy_store(
        &sqlite(&from),
        &sqlite(&from),
        keyring.clone(),
        CopyOptions::default(),
        &mut (),
    )
    .await
    .unwrap_err();
    assert!(matches!(same, CopyError::SameDatabase), "{same}");

    let forced = CopyOptions {
        force: true,
        ..CopyOptions::default()
    };
    let report = copy_store(&sqlite(&from), &sqlite(&to), keyring, forced, &mut ())
        .await
        .unwrap();
    assert!(report.verified.is_some());
    assert_same_tables(&from, &to).await;
}

#[tokio::test]
async fn a_destination_changed_before_verification_fails_it_naming_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memvox.db");
    let source = TestStore::in_dir(dir, memvox_testkit::test_keyring()).await;
    seed(&*source.store()).await;
    let keyring = source.keyring().clone();
    let schema = Schema::new("test_copy_");
    let postgres = postgres_settings(schema.name());
    let mut stop = StopAt {
        events: 0,
        at: None,
        before_verify: true,
    };
    let copied = copy_store(
        &sqlite(&path),
        &postgres,
        keyring.clone(),
        CopyOptions::default(),
        &mut stop,
    )
    .await
    .unwrap();
    assert!(copied.verified.is_none(), "stopped before verifying");
    let pool = memvox_store::PostgresStore::connect(&postgres.url, Some(schema.name()), &postgres)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE memory_history SET salience = 0.123 WHERE id = (SELECT MIN(id) FROM memory_history)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let failed = copy_store(
        &sqlite(&path),
        &postgres,
        keyring,
        CopyOptions::default(),
        &mut (),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            failed,
            CopyError::Mismatch {
                table: "memory_history",
                source_rows: 1,
                destination_rows: 1
            }
        ),
        "{failed}"
    );
}
