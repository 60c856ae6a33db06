//! The OpenAI-compatible server the proxy forwards to, and what its answers become.
//!
//! A response the upstream gives is passed back as it came: status, `Content-Type` and body
//! bytes, streamed chunk by chunk as they arrive (an SSE stream is never parsed or buffered, so
//! tool calls and anything else in it pass unchanged). A streamed answer also gets
//! `Cache-Control: no-cache` and `X-Accel-Buffering: no`, so an nginx ingress does not hold it
//! back. When the client goes away, the response body is dropped, which drops the upstream
//! response and closes its connection: the upstream stops generating.
//!
//! Failures ([`UpstreamError`], mapped to HTTP by [`crate::ApiError`]): unreachable → 502,
//! no response headers within the timeouts → 504, the upstream refusing memvox's own key
//! (401/403) → 502 (the caller's credentials were fine; the operator's are not), a 5xx → 502.
//! A 429 (with its `Retry-After`) and every other 4xx are passed back as they came: they
//! describe the request, which is the caller's.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt as _;
use memvox_config::{ExposeSecret as _, Secret};

use crate::llm_proxy::metrics::ProxyMetrics;
use crate::llm_proxy::settings::LlmProxySettings;

/// How much of an upstream's error body is logged.
const LOGGED_BODY_CHARS: usize = 300;

/// Why the upstream gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// It could not be reached.
    #[error("the upstream LLM could not be reached")]
    Unavailable(#[source] reqwest::Error),
    /// It did not answer within `connect_timeout_ms` / `read_timeout_ms`.
    #[error("the upstream LLM did not answer in time")]
    Timeout(#[source] reqwest::Error),
    /// It refused memvox's key (`query.llm_proxy.upstream_api_key`).
    #[error("the upstream LLM refused memvox's credentials ({0})")]
    Credentials(StatusCode),
    /// It failed (5xx).
    #[error("the upstream LLM failed ({0})")]
    Failed(StatusCode),
}

impl UpstreamError {
    /// Its `memvox_llm_proxy_upstream_errors_total` reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "unavailable",
            Self::Timeout(_) => "timeout",
            Self::Credentials(_) => "credentials",
            Self::Failed(_) => "server_error",
        }
    }
}

/// The upstream: its chat-completions URL, key and HTTP client (pooled connections).
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
    url: reqwest::Url,
    api_key: Option<Secret>,
}

impl Upstream {
    /// The upstream of validated `settings`.
    ///
    /// # Errors
    /// Why the settings or the HTTP client are unusable.
    pub fn new(settings: &LlmProxySettings) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .read_timeout(Duration::from_millis(settings.read_timeout_ms))
            .tcp_nodelay(true)
            .build()
            .map_err(|error| format!("cannot build the upstream HTTP client: {error}"))?;
        Ok(Self {
            client,
            url: settings.upstream()?,
            api_key: settings.upstream_key().cloned(),
        })
    }

    /// Sends `body` and passes the answer back (streamed when `stream`).
    ///
    /// # Errors
    /// [`UpstreamError`] when there is no answer to pass back.
    pub async fn forward(
        &self,
        body: Vec<u8>,
        stream: bool,
        metrics: &ProxyMetrics,
    ) -> Result<Response, UpstreamError> {
        let mut request = self
            .client
            .post(self.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let started = Instant::now();
        let sent = request.send().await;
        metrics.upstream.observe(started.elapsed().as_secs_f64());
        let response = sent.map_err(|error| {
            let error = if error.is_timeout() {
                UpstreamError::Timeout(error)
            } else {
                UpstreamError::Unavailable(error)
            };
            metrics.upstream_failed(error.reason());
            error
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(pass_back(response, stream, metrics));
        }
        let refused = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => UpstreamError::Credentials(status),
            _ if status.is_server_error() => UpstreamError::Failed(status),
            _ => {
                let reason = if status == StatusCode::TOO_MANY_REQUESTS {
                    "rate_limited"
                } else {
                    "client_error"
                };
                metrics.upstream_failed(reason);
                return Ok(pass_back(response, false, metrics));
            }
        };
        metrics.upstream_failed(refused.reason());
        let excerpt: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(LOGGED_BODY_CHARS)
            .collect();
        tracing::error!(%status, body = %excerpt, "the upstream LLM refused a request");
        Err(refused)
    }
}

/// The upstream's response as ours: status, content type, `Retry-After`, body streamed.
fn pass_back(upstream: reqwest::Response, stream: bool, metrics: &ProxyMetrics) -> Response {
    let status = upstream.status();
    let copied = [header::CONTENT_TYPE, header::RETRY_AFTER];
    let headers: Vec<(header::HeaderName, HeaderValue)> = copied
        .into_iter()
        .filter_map(|name| {
            let value = upstream.headers().get(&name)?.clone();
            Some((name, value))
        })
        .collect();
    let errors = metrics.clone();
    let body = upstream.bytes_stream().inspect_err(move |error| {
        errors.upstream_failed("stream");
        tracing::warn!(%error, "the upstream LLM's response broke off");
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.extend(headers);
    if stream {
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        out.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    response
}
