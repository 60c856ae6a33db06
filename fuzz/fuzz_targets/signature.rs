//! cargo-fuzz target `signature`: the body is `memvox_fuzz_targets::signature` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| memvox_fuzz_targets::signature(data));
