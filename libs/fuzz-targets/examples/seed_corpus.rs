//! Writes the seed corpora built from `fixtures/elevenlabs/` to `fuzz/corpus/<target>/`:
//! `cargo run --locked -p memvox-fuzz-targets --example seed_corpus`. Files of other names
//! (inputs the fuzzer found, crash reproducers) are left alone.

use std::path::Path;

fn main() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let seeds = memvox_fuzz_targets::seeds::seeds(&root.join("fixtures/elevenlabs"))?;
    for seed in &seeds {
        let dir = root.join("fuzz/corpus").join(seed.target);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(&seed.file);
        std::fs::write(&path, &seed.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!("{} seeds written under fuzz/corpus/", seeds.len());
    Ok(())
}
