//! cargo-fuzz target `extractor`: the body is `memvox_fuzz_targets::extractor` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| memvox_fuzz_targets::extractor(data));
