//! `memvox backup` and `memvox restore` end to end: a backup taken while `memvox serve` takes
//! deliveries restores, into a new place, every delivery acknowledged before it started and
//! opens with its keys; no key travels with the archive; a damaged archive, wrong or missing
//! keys and an existing or open target are refused with nothing written.

use std::{
    path::Path,
    process::Output,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use memvox_store::{Events, SqliteStore, StoreSettings};

use crate::support::{
    FIXTURE, assert_one_line_error, bundled_space, free_port, memvox, seed_embedded_store,
    stderr_of, stdout_of, unix_now_secs, wait_until_ready,
};

/// The key file `memvox` generates beside the embedded store of a directory.
const KEY_FILE: &str = "data/memvox.db.keys.json";

/// Runs `memvox` in `dir` with `args`.
fn run(dir: &Path, args: &[&str]) -> Output {
    memvox(dir).args(args).output().unwrap()
}

/// Backs up the store of `dir` to `dest`, which must succeed.
fn backup(dir: &Path, dest: &str) -> Output {
    let output = run(dir, &["backup", dest]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    output
}

/// The names of the files in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The length of an archive's head: its two lines (magic, manifest).
fn head_len(archive: &[u8]) -> usize {
    let first = archive.iter().position(|b| *b == b'\n').unwrap();
    first
        + 2
        + archive[first + 1..]
            .iter()
            .position(|b| *b == b'\n')
            .unwrap()
}

/// The database bytes of an archive: what follows its head, decompressed.
fn database_in(archive: &[u8]) -> Vec<u8> {
    zstd::decode_all(&archive[head_len(archive)..]).unwrap()
}

/// Every key (base64) in a key file.
fn key_material(key_file: &Path) -> Vec<String> {
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(key_file).unwrap()).unwrap();
    let mut material = vec![keys["index_key"].as_str().unwrap().to_owned()];
    for key in keys["keys"].as_object().unwrap().values() {
        material.push(key.as_str().unwrap().to_owned());
    }
    material
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_backup_while_serving_restores_every_earlier_delivery_elsewhere_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _running = crate::support::serve_quietly(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (before, during, output) = runtime.block_on(async {
        wait_until_ready(&base).await;
        let acknowledged = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..4 {
            let (acknowledged, stop, base) = (acknowledged.clone(), stop.clone(), base.clone());
            writers.spawn(async move {
                let client = reqwest::Client::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let conversation = format!("conv_backup_{writer}_{n:05}");
                    let body = FIXTURE.replace("conv_5201kf3r7e9yq2m8vx4pn0td6h", &conversation);
                    let signature = memvox_elevenlabs::sign(
                        b"wsec_test_secret",
                        unix_now_secs(),
                        body.as_bytes(),
                    );
                    let response = client
                        .post(format!("{base}/webhook/post-call"))
                        .header("content-type", "application/json")
                        .header("ElevenLabs-Signature", signature)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 200);
                    acknowledged
                        .lock()
                        .unwrap()
                        .push((Instant::now(), conversation));
                }
            });
        }
        while acknowledged.lock().unwrap().len() < 100 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let started = Instant::now();
        let before: Vec<String> = acknowledged
            .lock()
            .unwrap()
            .iter()
            .map(|(_, c)| c.clone())
            .collect();
        let backup_dir = dir.path().to_path_buf();
        let output = tokio::task::spawn_blocking(move || {
            run(&backup_dir, &["backup", "backups/memvox.mvxbak"])
        })
        .await
        .unwrap();
        let finished = Instant::now();
        stop.store(true, Ordering::Relaxed);
        while let Some(done) = writers.join_next().await {
            done.unwrap();
        }
        let during = acknowledged
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| *at > started && *at < finished)
            .count();
        (before, during, output)
    });
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        during > 0,
        "deliveries went on being acknowledged during the backup"
    );
    let said = stdout_of(&output);
    assert!(
        said.contains("NOT in the backup") && said.contains(KEY_FILE),
        "the backup says where the keys are: {said}"
    );
    let backups = dir.path().join("backups");
    assert_eq!(
        files_in(&backups),
        vec!["memvox.mvxbak"],
        "no key file beside it"
    );
    let archive = std::fs::read(backups.join("memvox.mvxbak")).unwrap();
    let database = database_in(&archive);
    for key in key_material(&dir.path().join(KEY_FILE)) {
        assert!(!contains(&archive, key.as_bytes()), "a key in the archive");
        assert!(
            !contains(&database, key.as_bytes()),
            "a key in the database"
        );
    }
    assert!(
        !contains(&database, b"Elm Street"),
        "transcripts are sealed in the backup too"
    );

    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(
        dir.path().join(KEY_FILE),
        restored.join("memvox.db.keys.json"),
    )
    .unwrap();
    let output = run(
        dir.path(),
        &[
            "restore",
            "backups/memvox.mvxbak",
            "--to",
            "restored/memvox.db",
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout_of(&output).contains("opens with the configured keys"));

    let path = restored.join("memvox.db");
    let settings = StoreSettings {
        url: format!("sqlite://{}", path.display()),
        ..StoreSettings::default()
    };
    let keyring = memvox_crypto::Keyring::open(
        &memvox_crypto::EncryptionSettings::default(),
        settings.default_key_file().as_deref(),
    )
    .unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(&path, &settings, bundled_space(), keyring)
            .await
            .unwrap();
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, conversation_id FROM webhook_events")
                .fetch_all(store.pool())
                .await
                .unwrap();
        let missing: Vec<&String> = before
            .iter()
            .filter(|c| !rows.iter().any(|(_, stored)| stored == *c))
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} deliveries acknowledged before the backup are missing: {missing:?}",
            missing.len(),
            before.len()
        );
        let (id, conversation) = &rows[0];
        let event = store.get_event(*id).await.unwrap().unwrap();
        assert!(
            event.payload.contains(conversation.as_str()),
            "decrypted with the keys"
        );
        store.close().await;
        eprintln!(
            "{} deliveries acknowledged before the backup, {during} during it, {} rows restored",
            before.len(),
            rows.len()
        );
    });
}

#[test]
fn a_damaged_archive_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    seed_embedded_store(dir.path(), "allergic to peanuts");
    backup(dir.path(), "good.mvxbak");
    let good = std::fs::read(dir.path().join("good.mvxbak")).unwrap();
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(
        dir.path().join(KEY_FILE),
        restored.join("memvox.db.keys.json"),
    )
    .unwrap();

    let head = head_len(&good);
    let mut flipped = good.clone();
    flipped[head + (good.len() - head) / 2] ^= 0x40;
    let manifest = String::from_utf8(good[..head].to_vec()).unwrap();
    let sha = manifest.split("\"database_sha256\":\"").nth(1).unwrap()[..64].to_owned();
    let other_sha = format!(
        "{}{}",
        if sha.starts_with('0') { '1' } else { '0' },
        &sha[1..]
    );
    let mut wrong_sum = manifest.replace(&sha, &other_sha).into_bytes();
    wrong_sum.extend_from_slice(&good[head..]);
    let cut = good[..good.len() - 10].to_vec();

    for (name, bytes, expected) in [
        ("flipped.mvxbak", flipped, "the archive is damaged"),
        ("wrong-sum.mvxbak", wrong_sum, "SHA-256"),
        ("cut.mvxbak", cut, "the archive is damaged"),
        (
            "other.mvxbak",
            b"SQLite format 3\0".to_vec(),
            "not a memvox backup",
        ),
    ] {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let output = run(dir.path(), &["restore", name, "--to", "restored/memvox.db"]);
        assert_one_line_error(&output, expected);
        assert_eq!(
            files_in(&restored),
            vec!["memvox.db.keys.json"],
            "{name}: nothing written"
        );
    }
    let output = run(
        dir.path(),
        &["restore", "good.mvxbak", "--to", "restored/memvox.db"],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
}

#[test]
fn wrong_or_missing_keys_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    seed_embedded_store(dir.path(), "allergic to peanuts");
    backup(dir.path(), "memvox.mvxbak");

    let output = run(
        dir.path(),
        &["restore", "memvox.mvxbak", "--to", "elsewhere/memvox.db"],
    );
    assert_one_line_error(&output, "no key file at elsewhere/memvox.db.keys.json");
    assert!(!dir.path().join("elsewhere").exists(), "nothing written");

    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    memvox_crypto::Keyring::open(
        &memvox_crypto::EncryptionSettings::default(),
        Some(&other.join("memvox.db.keys.json")),
    )
    .unwrap();
    let output = run(
        dir.path(),
        &["restore", "memvox.mvxbak", "--to", "other/memvox.db"],
    );
    assert_one_line_error(&output, "does not open with the configured keys");
    assert!(stderr_of(&output).contains("this database needs encryption key"));
    assert_eq!(
        files_in(&other),
        vec!["memvox.db.keys.json"],
        "nothing written"
    );
}

#[test]
fn existing_files_are_replaced_only_when_told_and_never_while_open() {
    let dir = tempfile::tempdir().unwrap();
    seed_embedded_store(dir.path(), "allergic to peanuts");
    std::fs::write(dir.path().join("taken.mvxbak"), "precious").unwrap();
    let output = run(dir.path(), &["backup", "taken.mvxbak"]);
    assert_one_line_error(&output, "already exists");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken.mvxbak")).unwrap(),
        "precious"
    );
    let output = run(dir.path(), &["backup", "data/memvox.db", "--force"]);
    assert_one_line_error(&output, "one of the store's own files");
    let output = run(dir.path(), &["backup", "taken.mvxbak", "--force"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        std::fs::read(dir.path().join("taken.mvxbak"))
            .unwrap()
            .starts_with(b"memvox-backup\n")
    );

    let output = run(dir.path(), &["restore", "taken.mvxbak"]);
    assert_one_line_error(&output, "already holds a database");
    let path = dir.path().join("data/memvox.db");
    let settings = StoreSettings {
        url: format!("sqlite://{}", path.display()),
        ..StoreSettings::default()
    };
    let keyring = memvox_crypto::Keyring::open(
        &memvox_crypto::EncryptionSettings::default(),
        settings.default_key_file().as_deref(),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let open = runtime
        .block_on(SqliteStore::open(
            &path,
            &settings,
            bundled_space(),
            keyring,
        ))
        .unwrap();
    let output = run(dir.path(), &["restore", "taken.mvxbak", "--force"]);
    assert_one_line_error(&output, "is open in another process");
    runtime.block_on(async {
        open.close().await;
        drop(open);
        // The closed store's last connections end in the background.
        while !SqliteStore::settle(&path).await.unwrap() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    let output = run(dir.path(), &["restore", "taken.mvxbak", "--force"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
}

#[test]
fn postgres_is_pointed_to_its_own_tools() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .args(["backup", "pg.mvxbak"])
        .env("MEMVOX_STORE__URL", memvox_testkit::postgres_url())
        .output()
        .unwrap();
    assert_one_line_error(&output, "pg_dump");
    assert!(!dir.path().join("pg.mvxbak").exists());
}
