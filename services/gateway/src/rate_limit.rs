//! Per-client rate limiting: a token bucket per client IP address (GCRA, `governor`).
//!
//! The client is the peer address of the TCP connection (`ConnectInfo`); requests without one
//! (in-process tests, `oneshot`) share a single bucket. Behind an ingress every request comes
//! from the ingress, so the limit there bounds the whole gateway replica. Over the limit the
//! answer is 429 with `Retry-After`, which ElevenLabs retries. A rate of 0 disables limiting.
//!
//! Buckets of clients not seen for a while are dropped once the table grows past
//! [`MAX_TRACKED_CLIENTS`], so a scan from many addresses cannot grow memory without bound.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::GatewayError;

/// Size of the bucket table above which idle buckets are pruned.
pub const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Shared limiter state.
pub(crate) type Limiter = Arc<DefaultKeyedRateLimiter<IpAddr>>;

/// A limiter allowing `per_second` requests per client with bursts of `burst` (at least
/// `per_second`); `None` when `per_second` is 0.
pub(crate) fn limiter(per_second: u32, burst: u32) -> Option<Limiter> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
    Some(Arc::new(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    )))
}

/// Middleware: lets the request through or answers 429.
pub(crate) async fn limit(
    State(limiter): State<Limiter>,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    if limiter.len() > MAX_TRACKED_CLIENTS {
        limiter.retain_recent();
    }
    match limiter.check_key(&client) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            tracing::debug!(%client, "rate limited");
            GatewayError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rate_disables_limiting() {
        assert!(limiter(0, 10).is_none());
    }

    #[test]
    fn burst_is_allowed_then_refused_per_client() {
        let limiter = limiter(1, 3).unwrap();
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        for _ in 0..3 {
            assert!(limiter.check_key(&a).is_ok());
        }
        assert!(limiter.check_key(&a).is_err());
        assert!(limiter.check_key(&b).is_ok());
    }
}
