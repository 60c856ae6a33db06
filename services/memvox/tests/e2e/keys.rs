//! `memvox keys` with the keys in the configuration (a secret's environment, as containers get
//! them): what `keys generate` prints configures a deployment as it is, and a rotation to a
//! named key says to make it active everywhere; a rotation without a target key, or with
//! encryption off, is one clear error.

use std::path::Path;

use crate::support::{assert_one_line_error, memvox, stderr_of, stdout_of};

/// The `NAME=VALUE` lines `memvox keys generate` prints, comments dropped.
fn generated(dir: &Path) -> Vec<(String, String)> {
    let output = memvox(dir).args(["keys", "generate"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    stdout_of(&output)
        .lines()
        .map(|line| {
            let setting = line.split("  #").next().unwrap();
            let (name, value) = setting.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn value<'a>(settings: &'a [(String, String)], name: &str) -> &'a str {
    &settings.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn generated_keys_configure_a_deployment_and_rotate_to_a_named_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = generated(dir.path());
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "MEMVOX_ENCRYPTION__KEYS",
            "MEMVOX_ENCRYPTION__ACTIVE_KEY",
            "MEMVOX_ENCRYPTION__INDEX_KEY"
        ]
    );
    let status = memvox(dir.path())
        .args(["keys", "status"])
        .envs(first.clone())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", stderr_of(&status));
    assert!(
        stdout_of(&status).contains("no encrypted columns hold values yet"),
        "{}",
        stdout_of(&status)
    );

    let without_target = memvox(dir.path())
        .args(["keys", "rotate"])
        .envs(first.clone())
        .output()
        .unwrap();
    assert_one_line_error(&without_target, "memvox keys rotate --to <its id>");

    let second = generated(dir.path());
    let new_id = value(&second, "MEMVOX_ENCRYPTION__ACTIVE_KEY");
    assert_ne!(new_id, value(&first, "MEMVOX_ENCRYPTION__ACTIVE_KEY"));
    let both = format!(
        "{},{}",
        value(&first, "MEMVOX_ENCRYPTION__KEYS"),
        value(&second, "MEMVOX_ENCRYPTION__KEYS")
    );
    let rotate = memvox(dir.path())
        .args(["keys", "rotate", "--to", new_id])
        .envs(first)
        .env("MEMVOX_ENCRYPTION__KEYS", both)
        .output()
        .unwrap();
    assert!(rotate.status.success(), "{}", stderr_of(&rotate));
    let out = stdout_of(&rotate);
    assert!(
        out.contains(&format!(
            "key {new_id} is active for this rotation; set encryption.active_key = {new_id}"
        )),
        "{out}"
    );
    assert!(out.contains("rotation complete"), "{out}");
}

#[test]
fn a_rotation_with_encryption_off_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = memvox(dir.path())
        .args(["keys", "rotate"])
        .env("MEMVOX_ENCRYPTION__ENABLED", "false")
        .output()
        .unwrap();
    assert_one_line_error(&output, "there is no key to rotate to");
}
