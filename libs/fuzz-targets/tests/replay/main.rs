//! The fuzz targets on stable: every file of `fuzz/corpus/<target>/` (the seeds built from the
//! fixtures, and inputs that once crashed) and a bounded number of deterministic mutations of
//! them go through each target body, as cargo-fuzz would run them; and the committed seeds are
//! the ones `memvox_fuzz_targets::seeds` builds from today's fixtures.
//!
//! A failing input is written to `target/fuzz-replay/<target>` so it can be run again with
//! `scripts/fuzz.sh <target> --input FILE`, or added to the corpus with a regression test.

mod mutate;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use memvox_fuzz_targets::{TARGETS, Target, seeds::seeds};
use mutate::{Rng, dictionary, mutate};

/// Mutants run per target, spread over its corpus files: a few seconds in all in a debug
/// build (the rule extractor and redaction are the slow ones there; libFuzzer runs millions).
/// `MEMVOX_REPLAY_MUTANTS=N` runs N per target instead (a longer search without nightly).
fn mutants(target: &str) -> usize {
    if let Some(n) = std::env::var("MEMVOX_REPLAY_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        return n;
    }
    match target {
        "extractor" => 400,
        "redaction" => 1000,
        _ => 3000,
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files of `dir`, sorted by name, with their names.
fn corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("a corpus file"))
        })
        .collect();
    files.sort();
    files
}

/// Runs `target` on `input`; on a panic, saves the input and fails naming it.
fn run(name: &str, target: Target, label: &str, input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let dir = root().join("target/fuzz-replay");
        std::fs::create_dir_all(&dir).expect("target/fuzz-replay");
        let path = dir.join(name);
        std::fs::write(&path, input).expect("the failing input");
        panic!(
            "target {name} failed on {label}; input saved to {}",
            path.display()
        );
    }
}

#[test]
fn every_target_survives_its_corpus_and_mutations_of_it() {
    for &(name, target) in TARGETS {
        let files = corpus(&root().join("fuzz/corpus").join(name));
        assert!(!files.is_empty(), "no corpus for {name}");
        let dict_path = root().join(format!("fuzz/dict/{name}.dict"));
        let tokens = std::fs::read_to_string(&dict_path)
            .map(|text| dictionary(&text))
            .unwrap_or_default();
        let others: Vec<Vec<u8>> = files.iter().map(|(_, bytes)| bytes.clone()).collect();
        for (file, bytes) in &files {
            run(name, target, file, bytes);
            let mut rng = Rng::new(file);
            for n in 0..mutants(name).div_ceil(files.len()) {
                let mutant = mutate(bytes, &mut rng, &tokens, &others);
                run(name, target, &format!("mutant {n} of {file}"), &mutant);
            }
        }
    }
}

#[test]
fn committed_seeds_are_built_from_the_current_fixtures() {
    let seeds = seeds(&root().join("fixtures/elevenlabs")).expect("the fixtures");
    for seed in seeds {
        let path = root()
            .join("fuzz/corpus")
            .join(seed.target)
            .join(&seed.file);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == seed.bytes,
            "{} is stale: cargo run --locked -p memvox-fuzz-targets --example seed_corpus",
            path.display()
        );
    }
}

#[test]
fn dictionaries_parse_with_escapes() {
    let tokens = dictionary("# comment\nkw=\"t=\"\n\"\\x00\\\"a\\\\\"\n");
    assert_eq!(tokens, [b"t=".to_vec(), b"\0\"a\\".to_vec()]);
}
