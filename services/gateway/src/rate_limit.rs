//! Per-client rate limiting of failures: a token bucket per client IP address (GCRA,
//! `governor`) that only refused requests spend (see [`limit`]): verify first, then limit.
//!
//! The client is the peer address of the TCP connection (`ConnectInfo`), unless that peer is a
//! configured trusted proxy (`gateway.trusted_proxies`, e.g. the ingress): then it is the
//! nearest address in the `Forwarded` (or, without one, `X-Forwarded-For`) chain that is not a
//! trusted proxy, read from the right, since only the proxies' own appends can be believed. A
//! peer that is not trusted is limited by its own address whatever headers it sends, so a
//! spoofed `X-Forwarded-For` cannot borrow someone else's budget or escape its own. Requests
//! without a peer address (in-process tests, `oneshot`) share a single bucket. Over the limit
//! a refused request's answer is 429 with `Retry-After`. A rate of 0 disables limiting.
//!
//! Buckets of clients not seen for a while are dropped once the table grows past
//! [`MAX_TRACKED_CLIENTS`], so a scan from many addresses cannot grow memory without bound.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use crate::error::GatewayError;

/// Size of the bucket table above which idle buckets are pruned.
pub const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Shared limiter state: the buckets and the proxies whose forwarding headers are believed.
#[derive(Clone)]
pub(crate) struct Limiter {
    buckets: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    trusted: Arc<[IpNet]>,
}

/// A limiter allowing `per_second` requests per client with bursts of `burst` (at least
/// `per_second`), believing the forwarding headers of `trusted` peers; `None` when
/// `per_second` is 0.
pub(crate) fn limiter(per_second: u32, burst: u32, trusted: &[IpNet]) -> Option<Limiter> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
    Some(Limiter {
        buckets: Arc::new(RateLimiter::keyed(
            Quota::per_second(rate).allow_burst(burst),
        )),
        trusted: trusted.into(),
    })
}

/// Middleware: verify first, then limit. The request is handled (the signature checked, a
/// valid delivery recorded); only a request that fails — not proven signed, or refused — spends
/// its client's budget, and past the budget its answer becomes 429 with `Retry-After`. A signed
/// delivery is never limited, so unsigned traffic from the same address (an untrusted ingress,
/// a neighbour behind one NAT) cannot starve it; ElevenLabs' retries are off by default, so a
/// 429 would lose a call.
pub(crate) async fn limit(
    State(limiter): State<Limiter>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let client = client_of(peer, request.headers(), &limiter.trusted);
    let response = next.run(request).await;
    if !spends_budget(response.status()) {
        return response;
    }
    let buckets = &limiter.buckets;
    if buckets.len() > MAX_TRACKED_CLIENTS {
        buckets.retain_recent();
    }
    match buckets.check_key(&client) {
        Ok(()) => response,
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

/// Whether an answer spends its client's budget: every refusal of the request (4xx), but not
/// an acknowledgement, and not our own failure (5xx: a store outage is not the client's doing).
fn spends_budget(status: StatusCode) -> bool {
    status.is_client_error()
}

/// The client a request from `peer` is from (see the module documentation).
pub(crate) fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    chain
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or_else(|| chain.first())
        .copied()
        .unwrap_or(peer)
}

/// The addresses a request passed through, first hop first: the `for=` values of `Forwarded`
/// if it is present, else `X-Forwarded-For`. A value that is not an address (`unknown`, an
/// obfuscated name, garbage) ends the chain there, as nothing before it can be placed.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .collect()
    };
    let forwarded = values("forwarded");
    let hops: Vec<String> = if forwarded.is_empty() {
        values("x-forwarded-for")
    } else {
        forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .map(str::trim)
                    .find_map(|pair| {
                        let (key, value) = pair.split_once('=')?;
                        key.trim()
                            .eq_ignore_ascii_case("for")
                            .then(|| value.trim().trim_matches('"').to_owned())
                    })
                    .unwrap_or_default()
            })
            .collect()
    };
    let mut chain = Vec::with_capacity(hops.len());
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => chain.push(ip),
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(address) = hop.parse::<SocketAddr>() {
        return Some(address.ip());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests;
