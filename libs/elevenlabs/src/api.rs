//! A client of the ElevenLabs Conversations API (feature `api`): list conversations a page at a
//! time, read one conversation's details. The only I/O in this crate.
//!
//! Every request carries the key in `xi-api-key` (marked sensitive, so it never shows in a
//! `Debug`), is retried as [`RetryPolicy`] says (429 honouring `Retry-After`, 5xx, no answer),
//! and reads at most `max_response_bytes` of the answer. Whoever wants to know about retries
//! (logs, metrics, a test) passes an observer.

mod error;
mod retry;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Response, StatusCode};
use url::Url;

pub use error::{ApiError, Detail};
pub use retry::{RetryNotice, RetryPolicy, RetryReason, retry_after};

use crate::conversations::{ConversationsPage, LIST_PATH, MAX_PAGE_SIZE};

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "xi-api-key";

/// The public API (other regions and data residency have their own, e.g.
/// `https://api.eu.residency.elevenlabs.io`).
pub const DEFAULT_BASE_URL: &str = "https://api.elevenlabs.io";

/// Called before each retry.
pub type RetryObserver = Arc<dyn Fn(&RetryNotice) + Send + Sync>;

/// How the client talks to the API.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Scheme, host and optional path prefix of the API.
    pub base_url: Url,
    /// Longest time one attempt may take, answer included.
    pub timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Largest answer read, in bytes.
    pub max_response_bytes: usize,
}

/// One `GET /v1/convai/conversations` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery<'a> {
    /// Only this agent's conversations.
    pub agent_id: Option<&'a str>,
    /// `call_start_after_unix`.
    pub after_unix: Option<u64>,
    /// `call_start_before_unix`.
    pub before_unix: Option<u64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<&'a str>,
    /// Conversations per page (1 to 100).
    pub page_size: u32,
}

/// The client. Cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    key: HeaderValue,
    options: ClientOptions,
    observer: Option<RetryObserver>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.options.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client sending `api_key`.
    ///
    /// # Errors
    /// [`ApiError::Client`] for a key that cannot be a header value or a client that cannot be
    /// built.
    pub fn new(api_key: &str, options: ClientOptions) -> Result<Self, ApiError> {
        let mut key = HeaderValue::from_str(api_key)
            .map_err(|_| ApiError::Client("the API key holds characters a header cannot".into()))?;
        key.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("memvox/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Client(e.to_string()))?;
        Ok(Self {
            http,
            key,
            options,
            observer: None,
        })
    }

    /// This client, telling `observer` about every retry before waiting for it.
    pub fn with_retry_observer(mut self, observer: RetryObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// One page of conversations.
    ///
    /// # Errors
    /// [`ApiError`]: refused, given up, too large, or not a page.
    pub async fn list(&self, query: &ListQuery<'_>) -> Result<ConversationsPage, ApiError> {
        let mut url = self.url(&[])?;
        {
            let mut pairs = url.query_pairs_mut();
            let page_size = query.page_size.clamp(1, MAX_PAGE_SIZE);
            pairs.append_pair("page_size", &page_size.to_string());
            if let Some(agent) = query.agent_id {
                pairs.append_pair("agent_id", agent);
            }
            if let Some(after) = query.after_unix {
                pairs.append_pair("call_start_after_unix", &after.to_string());
            }
            if let Some(before) = query.before_unix {
                pairs.append_pair("call_start_before_unix", &before.to_string());
            }
            if let Some(cursor) = query.cursor {
                pairs.append_pair("cursor", cursor);
            }
        }
        Ok(ConversationsPage::parse(&self.get(url).await?)?)
    }

    /// The body of one conversation's details (the post-call webhook's `data`), as sent.
    ///
    /// # Errors
    /// [`ApiError::InvalidId`] for an id that is not one, else as [`ApiClient::list`].
    pub async fn details(&self, conversation_id: &str) -> Result<Vec<u8>, ApiError> {
        let valid = !conversation_id.is_empty()
            && conversation_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(ApiError::InvalidId(conversation_id.to_owned()));
        }
        let url = self.url(&[conversation_id])?;
        self.get(url).await
    }

    /// The list endpoint's URL under the base, with `more` segments after it.
    fn url(&self, more: &[&str]) -> Result<Url, ApiError> {
        let mut url = self.options.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| ApiError::Client("the base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(LIST_PATH.split('/').filter(|s| !s.is_empty()))
            .extend(more);
        Ok(url)
    }

    /// GETs `url`, retrying as the policy says; the successful answer's body.
    async fn get(&self, url: Url) -> Result<Vec<u8>, ApiError> {
        let policy = self.options.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .http
                .get(url.clone())
                .header(HeaderName::from_static(API_KEY_HEADER), self.key.clone())
                .send()
                .await;
            let (reason, retry_after, last) = match sent {
                Ok(response) if response.status().is_success() => {
                    match read_limited(response, self.options.max_response_bytes).await {
                        Ok(body) => return Ok(body),
                        Err(Unread::TooLarge(limit)) => return Err(ApiError::TooLarge { limit }),
                        Err(Unread::BrokeOff(error)) => (
                            RetryReason::NoAnswer,
                            None,
                            format!("the answer broke off: {error}"),
                        ),
                    }
                }
                Ok(response) => {
                    let status = response.status();
                    let Some(reason) = RetryReason::of_status(status) else {
                        return Err(refused(status, response).await);
                    };
                    let wait = retry_after(response.headers(), SystemTime::now());
                    (reason, wait, format!("HTTP {status}"))
                }
                Err(error) => (RetryReason::NoAnswer, None, error.to_string()),
            };
            if attempt >= policy.max_attempts.max(1) {
                return Err(ApiError::GaveUp {
                    attempts: attempt,
                    last,
                });
            }
            let delay = policy.delay(attempt, retry_after);
            if let Some(observer) = &self.observer {
                observer(&RetryNotice {
                    reason,
                    attempt,
                    delay,
                });
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// The error for an answer that retrying cannot change.
async fn refused(status: StatusCode, response: Response) -> ApiError {
    let body = read_limited(response, 64 * 1024).await.unwrap_or_default();
    let detail = Detail::of_body(&body);
    match status {
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(detail),
        StatusCode::FORBIDDEN => ApiError::Forbidden(detail),
        StatusCode::NOT_FOUND => ApiError::NotFound(detail),
        _ => ApiError::Refused {
            status: status.as_u16(),
            detail,
        },
    }
}

/// Why an answer's body was not read.
#[derive(Debug)]
enum Unread {
    /// It is larger than the limit (bytes).
    TooLarge(usize),
    /// The connection failed while it arrived.
    BrokeOff(reqwest::Error),
}

/// The body of `response`, refused once it grows past `limit` bytes.
async fn read_limited(mut response: Response, limit: usize) -> Result<Vec<u8>, Unread> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(Unread::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Unread::BrokeOff)? {
        if body.len() + chunk.len() > limit {
            return Err(Unread::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
