//! The bodies of memvox's fuzz targets: one function per kind of untrusted input, each calling
//! the product's real parser and asserting what must hold of its answer (beyond not panicking).
//!
//! Two harnesses run them: `fuzz/` (cargo-fuzz, libFuzzer with AddressSanitizer on nightly;
//! `scripts/fuzz.sh`) and this crate's `tests/replay.rs` (stable `cargo test`: every file of
//! `fuzz/corpus/<target>/` plus a bounded number of deterministic mutations of each). A target
//! panics exactly when it found a bug; any input at all is acceptable to it.
//!
//! [`seeds`] builds the seed corpora from `fixtures/elevenlabs/`.

mod envelope;
#[cfg(feature = "extractor")]
mod extractor;
mod redaction;
mod requests;
pub mod seeds;
mod signature;

pub use envelope::{envelope_head, webhook_event};
#[cfg(feature = "extractor")]
pub use extractor::extractor;
pub use redaction::redaction;
pub use requests::{init_request, tool_request};
pub use signature::signature;

/// A fuzz target's body: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its cargo-fuzz binary and of its corpus directory);
/// `extractor` with feature `extractor` (on by default).
pub const TARGETS: &[(&str, Target)] = &[
    ("signature", signature),
    ("envelope_head", envelope_head),
    ("webhook_event", webhook_event),
    ("init_request", init_request),
    ("tool_request", tool_request),
    #[cfg(feature = "extractor")]
    ("extractor", extractor),
    ("redaction", redaction),
];

/// The clock every target verifies at: the instant of `fixtures/elevenlabs/signature_vectors.json`.
pub const NOW_UNIX_SECS: u64 = 1_767_225_705;

/// Whether two JSON values are equal, floating-point numbers within an ulp or two: serde_json
/// (without its `float_roundtrip` feature, as memvox builds it) may read a float's shortest
/// representation back one ulp away, so a float cannot be asked to survive a round trip exactly.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_json(vx, vy))
        }
        _ => a == b,
    }
}

/// Splits `data` at its first newline: the part before and the part after (empty without one).
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&byte| byte == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}
