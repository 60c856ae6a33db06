//! cargo-fuzz target `tool_request`: the body is `memvox_fuzz_targets::tool_request` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| memvox_fuzz_targets::tool_request(data));
