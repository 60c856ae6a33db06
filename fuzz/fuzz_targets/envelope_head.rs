//! cargo-fuzz target `envelope_head`: the body is `memvox_fuzz_targets::envelope_head` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| memvox_fuzz_targets::envelope_head(data));
