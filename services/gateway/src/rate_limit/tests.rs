use axum::http::HeaderValue;

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn ingress() -> Vec<IpNet> {
    vec!["10.0.0.0/8".parse().unwrap()]
}

#[test]
fn zero_rate_disables_limiting() {
    assert!(limiter(0, 10, &[]).is_none());
}

#[test]
fn burst_is_allowed_then_refused_per_client() {
    let limiter = limiter(1, 3, &[]).unwrap();
    let a = ip("10.0.0.1");
    let b = ip("10.0.0.2");
    for _ in 0..3 {
        assert!(limiter.buckets.check_key(&a).is_ok());
    }
    assert!(limiter.buckets.check_key(&a).is_err());
    assert!(limiter.buckets.check_key(&b).is_ok());
}

#[test]
fn an_untrusted_peer_is_its_own_client_whatever_it_forwards() {
    let spoofed = headers(&[
        ("x-forwarded-for", "198.51.100.7"),
        ("forwarded", "for=198.51.100.8"),
    ]);
    let peer = ip("203.0.113.9");
    assert_eq!(client_of(peer, &spoofed, &ingress()), peer);
    assert_eq!(client_of(peer, &spoofed, &[]), peer, "no proxy trusted");
}

#[test]
fn behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
    let peer = ip("10.1.2.3");
    // The caller prepended a fake address; the ingress appended the real one.
    let forwarded = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.9.9.9")]);
    assert_eq!(client_of(peer, &forwarded, &ingress()), ip("198.51.100.7"));
    let split = headers(&[
        ("x-forwarded-for", "1.2.3.4"),
        ("x-forwarded-for", "198.51.100.7"),
    ]);
    assert_eq!(client_of(peer, &split, &ingress()), ip("198.51.100.7"));
    let standard = headers(&[(
        "forwarded",
        "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https, for=10.9.9.9",
    )]);
    assert_eq!(client_of(peer, &standard, &ingress()), ip("2001:db8::7"));
    let with_port = headers(&[("x-forwarded-for", "198.51.100.7:5555")]);
    assert_eq!(client_of(peer, &with_port, &ingress()), ip("198.51.100.7"));
}

#[test]
fn unreadable_or_missing_chains_fall_back_safely() {
    let peer = ip("10.1.2.3");
    assert_eq!(
        client_of(peer, &HeaderMap::new(), &ingress()),
        peer,
        "no header"
    );
    let garbage = headers(&[("x-forwarded-for", "198.51.100.7, not-an-ip")]);
    assert_eq!(
        client_of(peer, &garbage, &ingress()),
        peer,
        "nothing after an unreadable hop can be placed"
    );
    let all_proxies = headers(&[("x-forwarded-for", "10.4.4.4, 10.5.5.5")]);
    assert_eq!(client_of(peer, &all_proxies, &ingress()), ip("10.4.4.4"));
}
