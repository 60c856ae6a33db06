//! Text normalisation for exact-duplicate detection.
//!
//! Two memory texts are exact duplicates when they are equal after lower-casing, dropping
//! punctuation and folding white space. This catches a fact repeated verbatim across calls and
//! nothing else: near-duplicates are never merged on similarity alone.

use sha2::{Digest, Sha256};

/// Lower-cases, keeps letters and digits, and folds every other run of characters into one space.
pub fn normalize_for_dedupe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Hex SHA-256 (first 16 bytes) of the normalised text: the per-user exact-duplicate key.
pub fn content_fingerprint(text: &str) -> String {
    let digest = Sha256::digest(normalize_for_dedupe(text).as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_case_punctuation_and_spacing() {
        assert_eq!(
            normalize_for_dedupe("  Prefers EMAIL,   not phone! "),
            "prefers email not phone"
        );
        assert_eq!(
            content_fingerprint("Allergic to peanuts."),
            content_fingerprint("allergic to   PEANUTS")
        );
    }

    #[test]
    fn different_facts_have_different_fingerprints() {
        assert_ne!(
            content_fingerprint("Allergic to peanuts"),
            content_fingerprint("Allergic to shellfish")
        );
        assert_eq!(content_fingerprint("x").len(), 32);
    }
}
