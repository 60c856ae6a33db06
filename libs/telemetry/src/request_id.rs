//! Request ids that are cheap to make and unique across processes: a random 64-bit prefix chosen
//! once per generator, then a counter (`3f9a0c…e1-2a`).
//!
//! Uniqueness within a generator comes from the counter; across processes and restarts, from the
//! random prefix. No UUID formatting or per-request randomness is needed on the hot path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

/// Generates `x-request-id` values for requests that arrive without one.
#[derive(Debug, Clone)]
pub struct FastRequestId {
    prefix: u64,
    counter: Arc<AtomicU64>,
}

impl FastRequestId {
    /// A generator with a fresh random prefix. Clones share its counter.
    pub fn new() -> Self {
        Self {
            prefix: rand::random(),
            counter: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The next id, as it appears in the header.
    pub fn next_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}-{n:x}", self.prefix)
    }
}

impl Default for FastRequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl MakeRequestId for FastRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        // Hex digits and '-' are always a valid header value.
        HeaderValue::from_str(&self.next_id())
            .ok()
            .map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_from_one_generator_and_its_clones_are_distinct() {
        let ids = FastRequestId::new();
        let clone = ids.clone();
        let seen: HashSet<String> = (0..100)
            .flat_map(|_| [ids.next_id(), clone.next_id()])
            .collect();
        assert_eq!(seen.len(), 200);
    }

    #[test]
    fn separate_generators_use_different_prefixes() {
        let a = FastRequestId::new().next_id();
        let b = FastRequestId::new().next_id();
        assert_ne!(a, b);
        assert!(a.ends_with("-0") && b.ends_with("-0"), "{a} {b}");
    }

    #[test]
    fn makes_a_valid_header_value() {
        let mut ids = FastRequestId::new();
        let request = Request::new(());
        let id = ids.make_request_id(&request).unwrap();
        let text = id.header_value().to_str().unwrap();
        assert_eq!(text.len(), 16 + 1 + 1, "{text}");
    }
}
