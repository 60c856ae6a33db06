//! Inspector sessions: what the cookie a browser signs in with holds, and how it is checked.
//!
//! A browser cannot send the admin token as a bearer header when it follows a link, so the
//! sign-in form posts the token once and gets a cookie holding a signed session, never the
//! token: `v1.<expires ms>.<token tag>.<nonce>.<HMAC-SHA256 of the rest>`. The tag is an HMAC
//! of the admin token's configured digest, so removing a token from `query.admin_token_sha256`
//! ends its sessions, and the session is rate limited as that token. The key is derived from
//! the keyring (the same in every replica holding the keys: any replica accepts a session
//! another issued), or random per process when encryption is off. Every form that changes
//! something carries the session's CSRF token, an HMAC of its signature under another label.
//!
//! The cookie is `HttpOnly`, `SameSite=Strict`, scoped to `/ui`, and `Secure` unless the page
//! was asked for by a loopback name (a browser drops a `Secure` cookie set over plain HTTP
//! elsewhere: behind TLS it is kept, and `localhost` works without).

use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{Hmac, KeyInit as _, Mac as _};
use memvox_core::UnixMillis;
use rand::RngCore as _;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// Name of the session cookie.
pub const COOKIE: &str = "memvox_ui";
/// Format version leading every session.
const VERSION: &str = "v1";

/// A checked session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Index of the admin token (in `query.admin_token_sha256`) it was signed in with.
    pub token: usize,
    /// The token every form that changes something must carry.
    pub csrf: String,
}

/// The key sessions are signed with. `Debug` prints no key material.
#[derive(Clone)]
pub struct SessionKeys {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(***)")
    }
}

impl SessionKeys {
    /// Keys from `key` (the keyring's key for this purpose).
    pub fn new(key: &[u8]) -> Self {
        // HMAC takes a key of any length.
        let mac = <Hmac<Sha256>>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Self { mac }
    }

    /// Keys of this process alone: sessions end with it and no other replica accepts them.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self::new(&key)
    }

    fn tag(&self, label: &str, data: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(label.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// What names an admin token in a session: 128 bits of an HMAC of its digest.
    fn token_tag(&self, digest: &[u8; 32]) -> String {
        let mut tag = self.tag("token", digest);
        tag.truncate(32);
        tag
    }

    /// A new session for the admin token whose configured digest is `digest`, lasting until
    /// `expires_at`: the cookie's value.
    pub fn issue(&self, digest: &[u8; 32], expires_at: UnixMillis) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let payload = format!(
            "{VERSION}.{expires_at}.{}.{}",
            self.token_tag(digest),
            hex::encode(nonce)
        );
        let signature = self.tag("session", payload.as_bytes());
        format!("{payload}.{signature}")
    }

    /// The session `value` holds, if it is one of ours, unexpired at `now`, and its admin token
    /// is still one of `digests`.
    pub fn verify(&self, value: &str, digests: &[[u8; 32]], now: UnixMillis) -> Option<Session> {
        let (payload, signature) = value.rsplit_once('.')?;
        let expected = self.tag("session", payload.as_bytes());
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return None;
        }
        let mut parts = payload.split('.');
        let (version, expires_at, token_tag) = (parts.next()?, parts.next()?, parts.next()?);
        if version != VERSION || expires_at.parse::<UnixMillis>().ok()? <= now {
            return None;
        }
        let token = digests.iter().position(|digest| {
            bool::from(
                self.token_tag(digest)
                    .as_bytes()
                    .ct_eq(token_tag.as_bytes()),
            )
        })?;
        Some(Session {
            token,
            csrf: self.tag("csrf", signature.as_bytes()),
        })
    }
}

/// The session cookie's value in `headers`, if sent.
pub fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == COOKIE).then_some(value))
}

/// Whether the request named a loopback host (`localhost`, `127.x.x.x`, `[::1]`), where a
/// browser keeps a cookie set over plain HTTP only if it is not `Secure`.
pub fn loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `Set-Cookie` for `value` lasting `max_age_secs` (0: delete it), `Secure` unless the request
/// `headers` named a loopback host.
pub fn set_cookie(value: &str, max_age_secs: u64, headers: &HeaderMap) -> HeaderValue {
    let secure = if loopback(headers) { "" } else { "; Secure" };
    let cookie = format!(
        "{COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    );
    // Our value is hex digits and dots only.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMillis = 1_000_000;

    fn digests() -> Vec<[u8; 32]> {
        vec![[1; 32], [2; 32]]
    }

    #[test]
    fn a_session_holds_until_it_expires_or_its_token_goes() {
        let keys = SessionKeys::new(b"k");
        let value = keys.issue(&[2; 32], NOW + 10);
        let session = keys.verify(&value, &digests(), NOW).expect("valid");
        assert_eq!(session.token, 1);
        assert_eq!(session.csrf.len(), 64);
        assert!(
            keys.verify(&value, &digests(), NOW + 10).is_none(),
            "expired"
        );
        assert!(
            keys.verify(&value, &[[1; 32]], NOW).is_none(),
            "token removed"
        );
        assert!(
            !value.contains(&hex::encode([2u8; 32])),
            "no digest in the cookie"
        );
    }

    #[test]
    fn forged_or_altered_sessions_are_refused() {
        let keys = SessionKeys::new(b"k");
        let value = keys.issue(&[1; 32], NOW + 10);
        let later = value.replacen(&(NOW + 10).to_string(), &(NOW + 99_999).to_string(), 1);
        assert!(keys.verify(&later, &digests(), NOW).is_none());
        assert!(
            SessionKeys::new(b"other")
                .verify(&value, &digests(), NOW)
                .is_none()
        );
        assert!(keys.verify("v1.1.2.3", &digests(), NOW).is_none());
        assert!(keys.verify("", &digests(), NOW).is_none());
    }

    #[test]
    fn each_session_has_its_own_csrf_token() {
        let keys = SessionKeys::new(b"k");
        let one = keys.issue(&[1; 32], NOW + 10);
        let two = keys.issue(&[1; 32], NOW + 10);
        let csrf = |v: &str| keys.verify(v, &digests(), NOW).unwrap().csrf;
        assert_ne!(csrf(&one), csrf(&two));
    }

    #[test]
    fn the_cookie_is_secure_unless_asked_for_by_a_loopback_name() {
        let with_host = |host: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static(host));
            headers
        };
        for host in ["localhost:8080", "127.0.0.1:1", "[::1]:8080", "LOCALHOST"] {
            assert!(loopback(&with_host(host)), "{host}");
        }
        for host in [
            "memvox.example.com",
            "10.0.0.5:8080",
            "localhost.example.com",
        ] {
            assert!(!loopback(&with_host(host)), "{host}");
            let cookie = set_cookie("v", 60, &with_host(host));
            assert!(cookie.to_str().unwrap().ends_with("; Secure"), "{host}");
        }
        let local = set_cookie("v", 60, &with_host("localhost:8080"));
        assert_eq!(
            local.to_str().unwrap(),
            "memvox_ui=v; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=60"
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; memvox_ui=x.y; b=2"),
        );
        assert_eq!(cookie(&headers), Some("x.y"));
        assert_eq!(cookie(&HeaderMap::new()), None);
    }
}
