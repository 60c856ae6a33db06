//! The bus error type shared by every implementation.
//!
//! Owns [`BusError`] and the mapping from Redis and pool errors into it. Invariant: callers only
//! branch on the variants and on [`BusError::retryable`]; backend error types never leak through
//! the [`crate::Bus`] trait.

/// What went wrong talking to the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The backend could not be reached or did not answer in time (connection refused or dropped,
    /// timeout, pool exhausted). Worth retrying.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// The consumer group does not exist on the stream (never created, or the stream was deleted).
    /// The worker recreates it with [`crate::Bus::ensure_group`].
    #[error("no consumer group `{group}` on stream `{stream}`")]
    NoGroup {
        /// Logical stream name.
        stream: String,
        /// Consumer group name.
        group: String,
    },
    /// The named dead letter or entry does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// An argument was rejected (e.g. an entry id that is not a stream id).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// An envelope could not be encoded.
    #[error("could not encode envelope")]
    Encode(#[from] serde_json::Error),
    /// The backend answered something this code does not understand, or rejected a command.
    #[error("backend error: {0}")]
    Backend(String),
}

impl BusError {
    /// Whether the same call may succeed if tried again later.
    pub fn retryable(&self) -> bool {
        matches!(self, BusError::Unavailable(_))
    }
}

impl From<redis::RedisError> for BusError {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.code() == Some("LOADING")
            || e.code() == Some("BUSY")
        {
            BusError::Unavailable(e.to_string())
        } else {
            BusError::Backend(e.to_string())
        }
    }
}

impl From<deadpool_redis::PoolError> for BusError {
    fn from(e: deadpool_redis::PoolError) -> Self {
        match e {
            deadpool_redis::PoolError::Backend(e) => e.into(),
            other => BusError::Unavailable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailability_is_retryable() {
        assert!(BusError::Unavailable("down".into()).retryable());
        assert!(!BusError::NotFound("x".into()).retryable());
        let no_group = BusError::NoGroup {
            stream: "events".into(),
            group: "g".into(),
        };
        assert!(!no_group.retryable());
        assert!(!BusError::Backend("WRONGTYPE".into()).retryable());
    }
}
