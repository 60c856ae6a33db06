//! Credentials: bearer tokens with roles and the initiation webhook's shared secret.
//!
//! Three roles, each with its own token list: a *tool* token (what ElevenLabs presents on
//! `POST /tools/memory-query`) may only query, for the identity the call carries; an *LLM*
//! token (the API key of an agent's Custom LLM settings) may only use the custom-LLM proxy, for
//! the identity the conversation carries; an *admin* token opens the `/v1` REST API. Each route
//! accepts its role only: a token of another role gets 403, so an agent's secret leaked from a
//! workspace cannot export or erase anyone.
//! Tokens are configured as SHA-256 hex digests only, several at once so a token can be rotated
//! without downtime. A presented token is hashed and compared with every configured digest in
//! constant time (`subtle`), without stopping at the first match, so timing reveals neither
//! which digest matched nor how much of one did. The initiation secret is compared the same way
//! (both sides hashed first, so lengths do not leak either). Each token has its own rate limit
//! (GCRA, `governor`); over it the answer is 429 with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{ApiError, QueryState};

/// SHA-256 hex of a token: what to put in `query.tool_token_sha256`,
/// `query.admin_token_sha256` or `query.llm_proxy.token_sha256`.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A configured token digest is not 64 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("{}[{index}] is not a SHA-256 hex digest (64 hex digits)", role.setting())]
pub struct BadTokenDigest {
    /// The list's role.
    pub role: Role,
    /// Position in the configured list.
    pub index: usize,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Query memories through the tool, for the identity the call carries.
    Tool,
    /// Everything under `/v1`.
    Admin,
    /// The custom-LLM proxy, for the identity the conversation carries.
    Llm,
}

impl Role {
    /// The setting listing this role's token digests.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Tool => "query.tool_token_sha256",
            Self::Admin => "query.admin_token_sha256",
            Self::Llm => "query.llm_proxy.token_sha256",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tool => "tool",
            Self::Admin => "admin",
            Self::Llm => "llm",
        })
    }
}

/// Accepted token digests of one role and the per-token rate limiter.
#[derive(Debug)]
pub struct TokenAuth {
    role: Role,
    digests: Vec<[u8; 32]>,
    limiter: Option<DefaultKeyedRateLimiter<usize>>,
}

impl TokenAuth {
    /// Parses the configured digests of `role`; a rate of 0 disables limiting.
    ///
    /// # Errors
    /// [`BadTokenDigest`] for a digest that is not 64 hex digits.
    pub fn new(
        role: Role,
        digests: &[String],
        per_second: u32,
        burst: u32,
    ) -> Result<Self, BadTokenDigest> {
        let digests = digests
            .iter()
            .enumerate()
            .map(|(index, digest)| {
                let bad = || BadTokenDigest { role, index };
                let bytes = hex::decode(digest.trim()).map_err(|_| bad())?;
                <[u8; 32]>::try_from(bytes).map_err(|_| bad())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Ok(Self {
            role,
            digests,
            limiter,
        })
    }

    /// The index of the configured digest matching the `Authorization: Bearer` header.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] when the header is absent, malformed or matches no digest.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<usize, ApiError> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        self.authenticate_token(token)
    }

    /// The index of the configured digest matching `token` itself (the inspector's sign-in
    /// form), compared as [`TokenAuth::authenticate`] compares a bearer header.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] when `token` is empty or matches no digest.
    pub fn authenticate_token(&self, token: &str) -> Result<usize, ApiError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(ApiError::Unauthorized);
        }
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut matched = None;
        for (index, digest) in self.digests.iter().enumerate() {
            if bool::from(presented.ct_eq(digest)) {
                matched = Some(index);
            }
        }
        matched.ok_or(ApiError::Unauthorized)
    }

    /// The configured digests, in order: what an inspector session is bound to, so removing a
    /// token from the configuration ends its sessions too.
    pub fn digests(&self) -> &[[u8; 32]] {
        &self.digests
    }

    /// Takes one request from the token's bucket.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when the bucket is empty.
    pub fn admit(&self, token: usize) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&token).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }
}

/// Middleware for the tool route: a tool token within its rate, or 401/403/429.
pub async fn require_tool_token(
    State(state): State<QueryState>,
    request: Request,
    next: Next,
) -> Response {
    let others = [&*state.admin_tokens, &*state.llm_tokens];
    guard(&state.tool_tokens, &others, request, next).await
}

/// Middleware for `/v1` routes: an admin token within its rate, or 401/403/429.
pub async fn require_admin_token(
    State(state): State<QueryState>,
    request: Request,
    next: Next,
) -> Response {
    let others = [&*state.tool_tokens, &*state.llm_tokens];
    guard(&state.admin_tokens, &others, request, next).await
}

/// Middleware for the custom-LLM proxy: an LLM token within its rate, or 401/403/429.
pub async fn require_llm_token(
    State(state): State<QueryState>,
    request: Request,
    next: Next,
) -> Response {
    let others = [&*state.tool_tokens, &*state.admin_tokens];
    guard(&state.llm_tokens, &others, request, next).await
}

/// Admits a token of `accepted`'s role; a token of one of `others`' roles is told it is the
/// wrong one.
async fn guard(
    accepted: &TokenAuth,
    others: &[&TokenAuth],
    request: Request,
    next: Next,
) -> Response {
    let admitted = match accepted.authenticate(request.headers()) {
        Ok(token) => accepted.admit(token),
        Err(error) => match others
            .iter()
            .find(|other| other.authenticate(request.headers()).is_ok())
        {
            Some(other) => Err(ApiError::Forbidden {
                presented: other.role,
            }),
            None => Err(error),
        },
    };
    match admitted {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// The initiation webhook's header name and accepted secrets (as SHA-256 digests).
#[derive(Debug, Clone)]
pub struct InitSecret {
    header: String,
    digests: Arc<Vec<[u8; 32]>>,
}

impl InitSecret {
    /// Accepts any of `secrets` in header `header`.
    pub fn new<'a>(header: &str, secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let digests = secrets
            .into_iter()
            .map(|secret| Sha256::digest(secret.as_bytes()).into())
            .collect();
        Self {
            header: header.to_ascii_lowercase(),
            digests: Arc::new(digests),
        }
    }

    /// Checks the header in constant time.
    ///
    /// # Errors
    /// [`ApiError::NotConfigured`] without secrets; [`ApiError::Unauthorized`] on a mismatch.
    pub fn verify(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if self.digests.is_empty() {
            return Err(ApiError::NotConfigured("query.init_secrets"));
        }
        let presented: [u8; 32] = match headers.get(self.header.as_str()) {
            Some(value) => Sha256::digest(value.as_bytes()).into(),
            None => return Err(ApiError::Unauthorized),
        };
        let mut matched = subtle::Choice::from(0);
        for digest in self.digests.iter() {
            matched |= presented.ct_eq(digest);
        }
        if bool::from(matched) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        headers.insert(axum::http::header::AUTHORIZATION, value);
        headers
    }

    #[test]
    fn any_configured_token_is_accepted_and_others_refused() {
        let auth =
            TokenAuth::new(Role::Tool, &[hash_token("old"), hash_token("new")], 0, 0).unwrap();
        assert_eq!(auth.authenticate(&bearer("old")).unwrap(), 0);
        assert_eq!(auth.authenticate(&bearer("new")).unwrap(), 1);
        assert!(auth.authenticate(&bearer("other")).is_err());
        assert!(auth.authenticate(&HeaderMap::new()).is_err());
    }

    #[test]
    fn malformed_digests_are_refused_at_start_up() {
        let error =
            TokenAuth::new(Role::Admin, &[hash_token("a"), "abc".into()], 0, 0).unwrap_err();
        assert_eq!(error.index, 1);
        assert!(error.to_string().starts_with("query.admin_token_sha256[1]"));
    }

    #[test]
    fn each_token_has_its_own_bucket() {
        let auth = TokenAuth::new(Role::Tool, &[hash_token("a"), hash_token("b")], 1, 2).unwrap();
        assert!(auth.admit(0).is_ok());
        assert!(auth.admit(0).is_ok());
        assert!(matches!(auth.admit(0), Err(ApiError::RateLimited { .. })));
        assert!(auth.admit(1).is_ok());
    }

    #[test]
    fn init_secret_is_checked_and_required() {
        let secret = InitSecret::new("X-Memvox-Secret", ["s1", "s2"]);
        let mut headers = HeaderMap::new();
        assert!(matches!(
            secret.verify(&headers),
            Err(ApiError::Unauthorized)
        ));
        headers.insert("x-memvox-secret", HeaderValue::from_static("s2"));
        assert!(secret.verify(&headers).is_ok());
        headers.insert("x-memvox-secret", HeaderValue::from_static("s3"));
        assert!(secret.verify(&headers).is_err());
        let none = InitSecret::new("x", std::iter::empty());
        assert!(matches!(
            none.verify(&headers),
            Err(ApiError::NotConfigured(_))
        ));
    }
}
