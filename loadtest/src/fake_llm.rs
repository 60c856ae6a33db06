//! A fake OpenAI-compatible LLM in this process: `POST /v1/chat/completions` answers a
//! server-sent event stream as OpenAI streams one — its first token after `first_token`, then
//! `chunks` more `chunk_interval` apart, then `data: [DONE]` — whatever it is asked. It counts
//! what reaches it: requests sent to it directly (marked with [`DIRECT_HEADER`]) and forwarded
//! ones (the proxy forwards no client header), and of those how many carried memvox's memory
//! block, so a run can say how many proxied turns got memories.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use memvox_query::llm_proxy::context::BLOCK_HEADER;

/// Marks a request the client sent to the fake LLM itself.
pub const DIRECT_HEADER: &str = "x-loadtest-direct";

/// How the fake LLM answers.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Before the first token.
    pub first_token: Duration,
    /// Tokens after the first.
    pub chunks: u32,
    /// Between two tokens.
    pub chunk_interval: Duration,
}

/// What reached the fake LLM.
#[derive(Debug, Default)]
pub struct Seen {
    /// Requests sent to it directly.
    pub direct: AtomicU64,
    /// Requests forwarded to it (by the proxy).
    pub forwarded: AtomicU64,
    /// Forwarded requests carrying memvox's memory block.
    pub with_memories: AtomicU64,
}

impl Seen {
    /// The three counts now: direct, forwarded, forwarded with memories.
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.direct.load(Ordering::Relaxed),
            self.forwarded.load(Ordering::Relaxed),
            self.with_memories.load(Ordering::Relaxed),
        )
    }
}

#[derive(Clone)]
struct FakeLlm {
    pace: Pace,
    seen: Arc<Seen>,
}

/// Serves the fake LLM on `listen` until the process ends; its base URL (`http://…/v1`) and
/// what it sees.
pub async fn start(listen: SocketAddr, pace: Pace) -> anyhow::Result<(String, Arc<Seen>)> {
    let seen = Arc::new(Seen::default());
    let state = FakeLlm {
        pace,
        seen: seen.clone(),
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(complete))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{address}/v1"), seen))
}

async fn complete(State(llm): State<FakeLlm>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.contains_key(DIRECT_HEADER) {
        llm.seen.direct.fetch_add(1, Ordering::Relaxed);
    } else {
        llm.seen.forwarded.fetch_add(1, Ordering::Relaxed);
        if contains(&body, BLOCK_HEADER.as_bytes()) {
            llm.seen.with_memories.fetch_add(1, Ordering::Relaxed);
        }
    }
    let pace = llm.pace;
    let events = futures::stream::unfold(0_u32, move |index| async move {
        if index > pace.chunks + 1 {
            return None;
        }
        let wait = if index == 0 {
            pace.first_token
        } else {
            pace.chunk_interval
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Some((Ok::<_, Infallible>(event(index, pace.chunks)), index + 1))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(events))
        .unwrap_or_default()
}

/// Event `index` of a stream of `chunks` tokens after the first: a token, or the end.
fn event(index: u32, chunks: u32) -> Bytes {
    if index > chunks {
        return Bytes::from_static(b"data: [DONE]\n\n");
    }
    let finish = if index == chunks { "\"stop\"" } else { "null" };
    Bytes::from(format!(
        "data: {{\"id\":\"chatcmpl-load\",\"object\":\"chat.completion.chunk\",\"created\":1767225645,\
         \"model\":\"fake\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{index} \"}},\
         \"finish_reason\":{finish}}}]}}\n\n"
    ))
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
