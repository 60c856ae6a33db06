//! cargo-fuzz target `webhook_event`: the body is `memvox_fuzz_targets::webhook_event` (see its docs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| memvox_fuzz_targets::webhook_event(data));
