//! The `memvox` binary end to end: help, `serve` on a fresh directory with no configuration,
//! `migrate` on both backends, a SIGKILL during group commits, and one clear error line with a
//! non-zero exit for bad configuration.

use std::{
    net::TcpListener,
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use memvox_core::{NewMemory, Sector};
use memvox_store::{EmbeddingSpace, MemoryEdits, Search, SqliteStore, StoreSettings};

use crate::support::{
    FIXTURE, Running, assert_one_line_error, free_port, memvox, seed_embedded_store, stderr_of,
    stdout_of, unix_now_secs, wait_until_ready,
};

/// Encryption keys given inline, as a secret gives them to containers.
fn inline_keys() -> [(&'static str, String); 3] {
    let key = memvox_crypto::Key::generate().to_base64();
    [
        ("MEMVOX_ENCRYPTION__KEYS", format!("k1:{key}")),
        ("MEMVOX_ENCRYPTION__ACTIVE_KEY", "k1".to_owned()),
        (
            "MEMVOX_ENCRYPTION__INDEX_KEY",
            memvox_crypto::Key::generate().to_base64(),
        ),
    ]
}

#[test]
fn help_explains_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    assert!(
        help.contains("serve") && help.contains("Run memvox in one process"),
        "{help}"
    );
    assert!(help.contains("migrate") && help.contains("Apply pending database migrations"));
    assert!(help.contains("MEMVOX_STORE__URL"));
}

#[test]
fn serve_starts_on_a_fresh_directory_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = runtime.block_on(async {
        loop {
            if let Ok(response) = reqwest::get(&url).await {
                break response.status().as_u16();
            }
            assert!(Instant::now() < deadline, "memvox serve never answered");
            assert!(
                running.0.try_wait().unwrap().is_none(),
                "memvox serve exited early"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert_eq!(status, 200);
    assert!(
        dir.path().join("data/memvox.db").exists(),
        "the embedded store is created"
    );
    let metrics = runtime
        .block_on(async {
            reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
                .await?
                .text()
                .await
        })
        .unwrap();
    assert!(metrics.contains("memvox_http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("memvox_stream_length{stream=\"events\"}"),
        "queue depth is exported: {metrics}"
    );

    running.terminate();
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = running.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "memvox did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful stop exits 0: {exit:?}");
}

/// How many migrations the store ships for `backend`.
fn migrations(backend: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../libs/store/migrations")
        .join(backend);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count()
}

#[test]
fn migrate_works_on_sqlite_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let first = memvox(dir.path()).arg("migrate").output().unwrap();
    assert!(first.status.success(), "{}", stderr_of(&first));
    let applied = format!("{} migration(s) applied", migrations("sqlite"));
    assert!(String::from_utf8_lossy(&first.stdout).contains(&applied));
    let second = memvox(dir.path()).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 migration(s) applied"));
}

#[test]
fn migrate_works_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    // Dropped with the guard at the end, or when an assertion fails.
    let schema = memvox_testkit::Schema::new("test_cli_");
    let run = || {
        memvox(dir.path())
            .arg("migrate")
            .env("MEMVOX_STORE__URL", memvox_testkit::postgres_url())
            .env("MEMVOX_STORE__SCHEMA", schema.name())
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr_of(&first));
    let applied = format!("{} migration(s) applied", migrations("postgres"));
    assert!(String::from_utf8_lossy(&first.stdout).contains(&applied));
    assert!(String::from_utf8_lossy(&run().stdout).contains("0 migration(s) applied"));
}

#[test]
fn unknown_backend_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_STORE__URL", "mysql://db/memvox")
        .output()
        .unwrap();
    assert_one_line_error(&output, "unknown store backend `mysql`");
}

#[test]
fn an_empty_init_secret_stops_serve_with_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_QUERY__INIT_SECRETS", "[\"\"]")
        .output()
        .unwrap();
    assert_one_line_error(&output, "query.init_secrets[0] is empty");
    assert!(!dir.path().join("data").exists(), "nothing was started");
}

#[test]
fn serve_exits_with_one_clear_error_when_its_port_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let child = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_HTTP__LISTEN", address.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while running.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "memvox serve kept running without its listener"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut running.0.stderr.take().unwrap(), &mut stderr).unwrap();
    let output = Output {
        status: running.0.wait().unwrap(),
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    };
    assert_one_line_error(&output, &format!("cannot listen on {address}"));
    drop(taken);
}

#[test]
fn unreachable_database_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .arg("serve")
        .env(
            "MEMVOX_STORE__URL",
            "postgres://memvox:secret@127.0.0.1:1/memvox",
        )
        .env("MEMVOX_STORE__ACQUIRE_TIMEOUT_MS", "2000")
        .envs(inline_keys())
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        "cannot connect to PostgreSQL at postgres://memvox:***@127.0.0.1:1/memvox",
    );
    assert!(
        !stderr_of(&output).contains("secret"),
        "the password is never printed"
    );
}

#[test]
fn missing_pgvector_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .arg("migrate")
        .env(
            "MEMVOX_STORE__URL",
            "postgres://memvox_plain:memvox@127.0.0.1:5432/memvox_novector",
        )
        .output()
        .unwrap();
    assert_one_line_error(&output, "has no pgvector extension");
}

#[test]
fn embedding_dimension_mismatch_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/memvox.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let space = EmbeddingSpace {
            model: "text-embedding-3-small".into(),
            dimension: 8,
        };
        let store_settings = StoreSettings {
            url: format!("sqlite://{}", path.display()),
            ..StoreSettings::default()
        };
        let keyring = memvox_crypto::Keyring::open(
            &memvox_crypto::EncryptionSettings::default(),
            store_settings.default_key_file().as_deref(),
        )
        .unwrap();
        let store = SqliteStore::open(&path, &store_settings, space, keyring)
            .await
            .unwrap();
        let memory = NewMemory {
            user_id: "u1".into(),
            content: "Prefers email".into(),
            sector: Sector::Procedural,
            salience: 0.5,
            provenance: None,
        };
        let memory = store.insert_memory(&memory, 0).await.unwrap();
        store
            .store_embeddings(&[(memory.id, vec![0.1; 8])], 0)
            .await
            .unwrap();
        store.pool().close().await;
    });
    let output = memvox(dir.path()).arg("serve").output().unwrap();
    assert_one_line_error(
        &output,
        "embedding mismatch: the store holds `text-embedding-3-small` vectors of dimension 8",
    );
}

#[test]
fn healthcheck_and_wait_for_probe_http_and_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let ready = format!("http://127.0.0.1:{port}/health/ready");
    let waited = memvox(dir.path())
        .args([
            "wait-for",
            "--timeout-secs",
            "60",
            &format!("tcp://127.0.0.1:{port}"),
            &ready,
        ])
        .output()
        .unwrap();
    assert!(waited.status.success(), "{}", stderr_of(&waited));
    let healthy = memvox(dir.path())
        .args(["healthcheck", &ready])
        .output()
        .unwrap();
    assert!(healthy.status.success(), "{}", stderr_of(&healthy));
    let missing = memvox(dir.path())
        .args([
            "healthcheck",
            &format!("http://127.0.0.1:{port}/no-such-page"),
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success(), "a 404 is not healthy");
    let closed = memvox(dir.path())
        .args([
            "wait-for",
            "--timeout-secs",
            "1",
            &format!("tcp://127.0.0.1:{}", free_port()),
        ])
        .output()
        .unwrap();
    assert!(!closed.status.success(), "a closed port times out");
}

#[test]
fn dlq_explains_that_the_in_process_bus_is_not_reachable() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path()).args(["dlq", "list"]).output().unwrap();
    assert_one_line_error(&output, "set bus.backend = \"redis\"");
}

#[test]
fn models_check_loads_the_bundled_model_and_verifies_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .args(["models", "check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout.contains("checksum ok"), "{stdout}");
    assert!(
        stdout.contains("static-minilm-256: dimension 256"),
        "{stdout}"
    );
    let listed = memvox(dir.path())
        .args(["models", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("static   bundled model at"));
}

#[test]
fn a_signed_webhook_to_serve_becomes_memories_the_agent_can_query() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let token_hash = memvox_query::hash_token("agent-token");
    let child = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_HTTP__LISTEN", format!("127.0.0.1:{port}"))
        .env("MEMVOX_GATEWAY__WEBHOOK_SECRETS", "[\"wsec_test_secret\"]")
        .env(
            "MEMVOX_QUERY__TOOL_TOKEN_SHA256",
            format!("[\"{token_hash}\"]"),
        )
        .env("MEMVOX_QUERY__INIT_SECRETS", "[\"init-secret\"]")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let body = FIXTURE.as_bytes().to_vec();
    let signature = memvox_elevenlabs::sign(b"wsec_test_secret", unix_now_secs(), &body);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    runtime.block_on(async {
        wait_until_ready(&base).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let post = |signature: Option<&str>| {
            let mut request = client
                .post(format!("{base}/webhook/post-call"))
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(signature) = signature {
                request = request.header("ElevenLabs-Signature", signature);
            }
            request.send()
        };
        assert_eq!(
            post(None).await.unwrap().status().as_u16(),
            401,
            "unsigned is refused"
        );
        assert_eq!(post(Some(&signature)).await.unwrap().status().as_u16(), 200);

        let tool = serde_json::json!({
            "query": "when does she want a callback", "user_id": "", "limit": 3,
            "caller_id": "+14155550199"
        });
        let answer = loop {
            let response = client
                .post(format!("{base}/tools/memory-query"))
                .bearer_auth("agent-token")
                .json(&tool)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let answer: serde_json::Value = response.json().await.unwrap();
            if answer["memories"].as_array().is_some_and(|m| !m.is_empty()) {
                break answer;
            }
            assert!(
                Instant::now() < deadline,
                "no memory became queryable: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let contents: Vec<&str> = answer["memories"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect();
        assert!(
            contents.contains(&"Prefers mornings for callbacks"),
            "{answer}"
        );
        let wrong = client
            .post(format!("{base}/tools/memory-query"))
            .bearer_auth("not-the-token")
            .json(&tool)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 401);

        let init = client
            .post(format!("{base}/webhook/conversation-init"))
            .header("x-memvox-secret", "init-secret")
            .json(&serde_json::json!({
                "caller_id": "+14155550199", "agent_id": "agent_1",
                "called_number": "+14155550100", "call_sid": "CA1"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(init.status().as_u16(), 200);
        let init: serde_json::Value = init.json().await.unwrap();
        assert_eq!(init["type"], "conversation_initiation_client_data");
        let token = init["dynamic_variables"]["memory_user_id"]
            .as_str()
            .unwrap();
        assert!(token.starts_with("mvx1."), "an identity token: {init}");
        assert_ne!(
            init["dynamic_variables"]["memory_context"], "",
            "the returning caller is recognised by number: {init}"
        );
    });
}

#[test]
fn keys_status_and_rotate_reencrypt_the_embedded_store() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let keyring = seed_embedded_store(dir.path(), "allergic to peanuts");
    let key_file = dir.path().join("data/memvox.db.keys.json");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the generated key file is private");
    let old = keyring.active_key_id().unwrap();

    let status = memvox(dir.path())
        .args(["keys", "status"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", stderr_of(&status));
    assert!(
        stdout_of(&status).contains(&format!("memories.content  {old}  1")),
        "{}",
        stdout_of(&status)
    );

    let rotate = memvox(dir.path())
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    assert!(rotate.status.success(), "{}", stderr_of(&rotate));
    let out = stdout_of(&rotate);
    assert!(out.contains("rotation complete"), "{out}");
    keyring.reload().unwrap();
    let new = keyring.active_key_id().unwrap();
    assert_ne!(new, old, "rotation made a new key active");
    assert!(
        out.contains(&format!("memories.content  {new}  1")),
        "{out}"
    );
    assert!(
        !out.contains(&format!("  {old}  ")),
        "nothing is left under {old}: {out}"
    );

    let raw: Vec<String> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = SqliteStore::connect(
            &dir.path().join("data/memvox.db"),
            &StoreSettings::default(),
        )
        .await
        .unwrap();
        sqlx::query_scalar("SELECT content FROM memories")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    assert!(raw[0].starts_with(&format!("mvx1:{new}:")), "{raw:?}");
    assert!(!raw[0].contains("peanuts"), "{raw:?}");
}

#[test]
fn an_encrypted_database_does_not_start_with_encryption_off() {
    let dir = tempfile::tempdir().unwrap();
    seed_embedded_store(dir.path(), "allergic to peanuts");
    let output = memvox(dir.path())
        .args(["keys", "status"])
        .env("MEMVOX_ENCRYPTION__ENABLED", "false")
        .output()
        .unwrap();
    assert_one_line_error(&output, "this database holds encrypted data");
    let output = memvox(dir.path())
        .args(["keys", "status"])
        .envs(inline_keys())
        .output()
        .unwrap();
    assert_one_line_error(&output, "this database needs encryption key");
}

#[test]
fn postgres_without_a_key_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .arg("serve")
        .env("MEMVOX_STORE__URL", memvox_testkit::postgres_url())
        .output()
        .unwrap();
    assert_one_line_error(&output, "encryption is on but no key is configured");
}

/// Starts `memvox serve` on the data in `dir` again, waits until it is ready, and stops it.
fn restart_and_stop(dir: &std::path::Path, runtime: &tokio::runtime::Runtime) {
    let port = free_port();
    let mut running = crate::support::serve_quietly(dir, port);
    runtime.block_on(wait_until_ready(&format!("http://127.0.0.1:{port}")));
    running.terminate();
    assert!(running.0.wait().unwrap().success());
}

/// `memvox serve` killed with SIGKILL while hundreds of deliveries are being stored together
/// (the gateway's group commit): every delivery it answered 200 has its row in the events
/// table once memvox has started again (it moves what the killed process left in the ingest
/// file). An acknowledgement is never sent before its transaction commits.
#[test]
fn a_sigkill_during_group_commits_loses_no_acknowledged_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut running = crate::support::serve_quietly(dir.path(), port);
    let now = unix_now_secs();
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pid = running.0.id().to_string();
    let acknowledged: Vec<String> = runtime.block_on(async {
        wait_until_ready(&base).await;
        let client = reqwest::Client::new();
        let (answered, mut answers) = tokio::sync::mpsc::channel::<()>(1_000);
        let mut deliveries = tokio::task::JoinSet::new();
        for n in 0..400 {
            let conversation = format!("conv_kill_{n:04}");
            let body = FIXTURE.replace("conv_5201kf3r7e9yq2m8vx4pn0td6h", &conversation);
            let signature = memvox_elevenlabs::sign(b"wsec_test_secret", now, body.as_bytes());
            let request = client
                .post(format!("{base}/webhook/post-call"))
                .header("content-type", "application/json")
                .header("ElevenLabs-Signature", signature)
                .body(body);
            let answered = answered.clone();
            deliveries.spawn(async move {
                let ok = request
                    .send()
                    .await
                    .is_ok_and(|response| response.status().as_u16() == 200);
                let _ = answered.try_send(());
                ok.then_some(conversation)
            });
        }
        // Killed once a quarter of them are answered, while the rest are being stored.
        for _ in 0..100 {
            answers.recv().await;
        }
        let killed = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(killed.success());
        let mut acknowledged = Vec::new();
        while let Some(outcome) = deliveries.join_next().await {
            acknowledged.extend(outcome.unwrap());
        }
        acknowledged
    });
    assert!(running.0.wait().is_ok());
    assert!(
        acknowledged.len() >= 90,
        "most of the first 100 answers were 200s"
    );
    restart_and_stop(dir.path(), &runtime);
    let stored: Vec<String> = runtime.block_on(async {
        let url = format!(
            "sqlite://{}?mode=ro",
            dir.path().join("data/memvox.db").display()
        );
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT conversation_id FROM webhook_events")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|conversation| !stored.contains(conversation))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged deliveries lost: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
    eprintln!(
        "{} of 400 deliveries acknowledged before the kill, {} rows stored",
        acknowledged.len(),
        stored.len()
    );
}
