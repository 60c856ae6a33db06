//! The Redis key space of the bus: every key the bus touches is built here.
//!
//! Owns [`KeySpace`]. Invariants: every key starts with `<prefix>:` (so a prefix isolates a
//! deployment or a test, and `<prefix>:*` finds everything to clean up), and a stream and its
//! dead-letter stream share one Redis Cluster hash tag (`{<stream>}`), so the scripts that move an
//! entry between them touch a single slot while different streams spread over the cluster.

/// Builds the Redis keys of the bus from a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpace {
    prefix: String,
}

impl KeySpace {
    /// A key space whose keys all start with `<prefix>:`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix this key space was built with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Key of a logical stream: `<prefix>:stream:{<stream>}`.
    pub fn stream(&self, stream: &str) -> String {
        format!("{}:stream:{{{stream}}}", self.prefix)
    }

    /// Key of a stream's dead-letter stream: `<prefix>:stream:{<stream>}:dlq`.
    pub fn dead_letters(&self, stream: &str) -> String {
        format!("{}:stream:{{{stream}}}:dlq", self.prefix)
    }

    /// A `SCAN MATCH` pattern covering every key of this key space.
    pub fn pattern(&self) -> String {
        format!("{}:*", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_and_dead_letters_share_a_hash_tag_under_the_prefix() {
        let keys = KeySpace::new("memvox");
        assert_eq!(keys.stream("events"), "memvox:stream:{events}");
        assert_eq!(keys.dead_letters("events"), "memvox:stream:{events}:dlq");
        assert_eq!(keys.pattern(), "memvox:*");
        assert!(keys.dead_letters("events").starts_with("memvox:"));
    }
}
