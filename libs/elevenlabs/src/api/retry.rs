//! When a request to the ElevenLabs API is tried again, and after how long.
//!
//! Retried: 429 (rate limited: ElevenLabs answers `too_many_concurrent_requests` or
//! `system_busy`), 5xx, 408, and requests that got no answer (connection refused or reset, time
//! out). Not retried: every other status, which retrying cannot change (401 and 403 are the key's,
//! 404 the conversation's).
//!
//! The wait before attempt `n + 1` is the answer's `Retry-After` when it has one (seconds or an
//! HTTP date), else `base_delay × 2^(n-1)`; either is capped at `max_delay`, so one answer cannot
//! stall an import for hours. Attempts are bounded by `max_attempts`.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How often and how patiently requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt when the answer names none; doubled for each further one.
    pub base_delay: Duration,
    /// Longest wait, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based): `retry_after` if the answer gave one,
    /// else the exponential backoff; at most `max_delay`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = || {
            let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
            self.base_delay.saturating_mul(factor)
        };
        retry_after.unwrap_or_else(backoff).min(self.max_delay)
    }
}

/// Why a request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// 429.
    RateLimited,
    /// 5xx or 408, with the status.
    ServerError(u16),
    /// No answer: connection failed or timed out.
    NoAnswer,
}

impl RetryReason {
    /// A short label (`rate_limited`, `server_error`, `no_answer`), e.g. for a metric.
    pub fn label(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::ServerError(_) => "server_error",
            Self::NoAnswer => "no_answer",
        }
    }

    /// The reason an answer of `status` is retried for, if it is.
    pub fn of_status(status: StatusCode) -> Option<Self> {
        if status == StatusCode::TOO_MANY_REQUESTS {
            Some(Self::RateLimited)
        } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            Some(Self::ServerError(status.as_u16()))
        } else {
            None
        }
    }
}

/// A retry about to happen: what failed, which attempt it was, how long until the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryNotice {
    /// Why.
    pub reason: RetryReason,
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// The wait before the next attempt.
    pub delay: Duration,
}

/// The wait an answer's `Retry-After` header asks for: delay-seconds, or an HTTP date (a date
/// already past asks for none). `None` without a readable header.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let delays: Vec<u128> = (1..=5).map(|n| policy.delay(n, None).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
    }

    #[test]
    fn retry_after_wins_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3_600))),
            policy.max_delay
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        assert_eq!(
            retry_after(&headers("3"), now),
            Some(Duration::from_secs(3))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(20));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(20))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(20));
        assert_eq!(retry_after(&headers(&past), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn only_rate_limits_timeouts_and_server_errors_are_retried() {
        let reason = |code: u16| RetryReason::of_status(StatusCode::from_u16(code).unwrap());
        assert_eq!(reason(429), Some(RetryReason::RateLimited));
        assert_eq!(reason(503), Some(RetryReason::ServerError(503)));
        assert_eq!(reason(408), Some(RetryReason::ServerError(408)));
        for code in [400, 401, 403, 404, 422] {
            assert_eq!(reason(code), None, "{code}");
        }
    }
}
