//! cargo-fuzz target `redaction`: the body is `memvox_fuzz_targets::redaction` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| memvox_fuzz_targets::redaction(data));
