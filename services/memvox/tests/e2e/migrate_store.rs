//! `memvox migrate-store` end to end: an embedded store filled through the product path (signed
//! fixture calls through both workers) is copied to PostgreSQL and back with the command, and
//! the copy holds every value of every table the original does; a second copy into the same
//! PostgreSQL schema is refused without `--force`.

use std::path::Path;

use crate::support::{
    Deployment, Pipeline, accept, app, call_payload, database_text, memvox, stderr_of, stdout_of,
};

/// Tables whose values legitimately differ: migration times, the version clock (moved past the
/// source's), and `store_meta`, whose key checks are sealed anew when the command opens the copy.
const DIFFERING: [&str; 3] = ["_sqlx_migrations", "vectors_clock", "store_meta"];

/// Runs `memvox migrate-store` in `dir` with `args` and the key file `keys`.
fn migrate_store(dir: &Path, keys: &Path, args: &[&str]) -> std::process::Output {
    memvox(dir)
        .arg("migrate-store")
        .args(args)
        .env("MEMVOX_ENCRYPTION__KEY_FILE", keys)
        .output()
        .unwrap()
}

/// The values of a database's compared tables, sorted.
fn compared(mut values: Vec<(String, String)>) -> Vec<(String, String)> {
    values.retain(|(table, _)| !DIFFERING.contains(&table.as_str()));
    values.sort();
    values
}

#[tokio::test(flavor = "multi_thread")]
async fn an_embedded_store_copied_to_postgres_and_back_holds_every_value() {
    let (dir, back) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = app(Deployment::Embedded, dir.path()).await;
    let pipeline = Pipeline::new(&app);
    for i in 0..4 {
        let conversation = format!("conv_copy_{i}");
        let words = format!("my locker code is {i}{i}{i} and I moved to Oslo");
        accept(
            &app,
            &conversation,
            call_payload(&conversation, Some(&words)),
        )
        .await;
    }
    pipeline.run().await;
    let before = compared(database_text(&app.config).await);
    let keys = dir.path().join("memvox.db.keys.json");
    let original = format!("sqlite://{}/memvox.db", dir.path().display());
    let returned = format!("sqlite://{}/memvox.db", back.path().display());
    let schema = memvox_testkit::Schema::new("test_copy_cli_");
    let postgres = memvox_testkit::postgres_url();

    let there = migrate_store(
        dir.path(),
        &keys,
        &[
            "--from",
            &original,
            "--to",
            &postgres,
            "--to-schema",
            schema.name(),
        ],
    );
    assert!(there.status.success(), "{}", stderr_of(&there));
    assert!(
        stdout_of(&there).contains("verified"),
        "{}",
        stdout_of(&there)
    );
    let home = migrate_store(
        dir.path(),
        &keys,
        &[
            "--from",
            &postgres,
            "--from-schema",
            schema.name(),
            "--to",
            &returned,
            "--batch-rows",
            "7",
        ],
    );
    assert!(home.status.success(), "{}", stderr_of(&home));
    let sums = |output: &std::process::Output| {
        stdout_of(output)
            .lines()
            .filter(|line| line.contains("sha256") && !line.contains("store_meta"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sums(&there),
        sums(&home),
        "the same rows and checksums both ways"
    );
    let mut config = (*app.config).clone();
    config.shared.store.url = returned;
    assert_eq!(compared(database_text(&config).await), before);

    let again = migrate_store(
        dir.path(),
        &keys,
        &[
            "--from",
            &original,
            "--to",
            &postgres,
            "--to-schema",
            schema.name(),
        ],
    );
    assert!(!again.status.success());
    let refused = stderr_of(&again);
    assert!(
        refused.contains("not empty") && refused.contains("--force"),
        "{refused}"
    );
}
