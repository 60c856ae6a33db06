//! cargo-fuzz target `init_request`: the body is `memvox_fuzz_targets::init_request` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| memvox_fuzz_targets::init_request(data));
