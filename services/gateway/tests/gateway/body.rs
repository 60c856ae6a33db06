//! How the gateway reads bodies under hostile or heavy load: the signature header is judged
//! before a byte of the body is pulled, a stalled body times out with 408, and large bodies
//! beyond the configured number of slots get 503 with `Retry-After`. Bodies are streams that
//! count what the gateway pulled from them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use futures::{Stream, StreamExt as _, stream};
use memvox_elevenlabs::{SIGNATURE_HEADER, sign};
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::{Backend, BusKind, Gateway, NOW, SECRET, signed, transcription};

type Chunk = Result<Bytes, std::io::Error>;

/// A request whose body is `chunks`, with the number of bytes pulled from it.
fn streamed(
    signature: Option<&str>,
    chunks: impl Stream<Item = Chunk> + Send + 'static,
) -> (Request<Body>, Arc<AtomicUsize>) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let chunks = chunks.inspect(move |chunk| {
        if let Ok(bytes) = chunk {
            counter.fetch_add(bytes.len(), Ordering::SeqCst);
        }
    });
    let mut request =
        Request::post("/webhook/post-call").header(header::CONTENT_TYPE, "application/json");
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    (request.body(Body::from_stream(chunks)).unwrap(), pulled)
}

/// `body` in chunks of `size` bytes.
fn chunked(body: &[u8], size: usize) -> impl Stream<Item = Chunk> + Send + 'static {
    let chunks: Vec<Chunk> = body
        .chunks(size)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    stream::iter(chunks)
}

async fn send(gateway: &Gateway, request: Request<Body>) -> Response {
    gateway.router.clone().oneshot(request).await.unwrap()
}

async fn error_code(response: Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["error"]["code"].clone()
}

#[tokio::test]
async fn unsigned_malformed_and_stale_64_mib_bodies_are_refused_unread() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    let stale = sign(SECRET.as_bytes(), NOW - 1801, b"whatever");
    let headers = [None, Some("t=abc,v0=00"), Some(stale.as_str())];
    for signature in headers {
        let mebibyte = Bytes::from(vec![b'x'; 1024 * 1024]);
        let body = stream::repeat_with(move || Ok(mebibyte.clone())).take(64);
        let (request, pulled) = streamed(signature, body);
        let response = send(&gateway, request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{signature:?}");
        assert_eq!(error_code(response).await, json!("invalid_signature"));
        assert_eq!(
            pulled.load(Ordering::SeqCst),
            0,
            "{signature:?}: body unread"
        );
    }
    let metrics = gateway.metrics_text();
    for reason in ["missing", "malformed", "stale"] {
        let line = format!(r#"memvox_webhook_signature_rejections_total{{reason="{reason}"}} 1"#);
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    assert!(gateway.events().await.is_empty());
}

#[tokio::test]
async fn the_answer_comes_while_an_unsigned_body_is_still_pending() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    let (request, pulled) = streamed(None, stream::pending::<Chunk>());
    let response = send(&gateway, request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(pulled.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_chunked_body_is_verified_as_it_streams_in() {
    let gateway = Gateway::start(Backend::Sqlite, BusKind::InProcess).await;
    let body = transcription("conv_chunked");
    let (request, pulled) = streamed(Some(&signed(&body)), chunked(&body, 7));
    let response = send(&gateway, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(pulled.load(Ordering::SeqCst), body.len());
    assert_eq!(gateway.events().await.len(), 1);

    let other = transcription("conv_tampered");
    let (request, _) = streamed(Some(&signed(&body)), chunked(&other, 7));
    let response = send(&gateway, request).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "tampered");
    assert!(
        gateway
            .metrics_text()
            .contains(r#"memvox_webhook_signature_rejections_total{reason="mismatch"} 1"#)
    );
    assert_eq!(gateway.events().await.len(), 1, "nothing more stored");
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_changes_nothing() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.body_read_timeout_ms = 200;
    })
    .await;
    let body = transcription("conv_stalled");
    let half = Bytes::copy_from_slice(&body[..body.len() / 2]);
    let stalls = stream::iter([Ok(half)]).chain(stream::pending());
    let (request, pulled) = streamed(Some(&signed(&body)), stalls);
    let response = send(&gateway, request).await;
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(error_code(response).await, json!("body_timeout"));
    assert_eq!(pulled.load(Ordering::SeqCst), body.len() / 2);
    assert!(gateway.events().await.is_empty(), "nothing stored");
    assert!(gateway.published().await.is_empty(), "nothing published");
}

#[tokio::test]
async fn large_bodies_beyond_the_slots_get_503_with_retry_after() {
    let gateway = Gateway::start_with(Backend::Sqlite, BusKind::InProcess, |settings| {
        settings.large_body_bytes = 200;
        settings.max_concurrent_large_bodies = 1;
    })
    .await;
    let first = transcription("conv_first");
    let second = transcription("conv_second");
    assert!(first.len() > 200 && second.len() > 200, "both are large");

    // The first large body holds the only slot while its rest is still on the way.
    let (sender, receiver) = futures::channel::mpsc::unbounded::<Chunk>();
    sender
        .unbounded_send(Ok(Bytes::copy_from_slice(&first[..300])))
        .unwrap();
    let (request, pulled) = streamed(Some(&signed(&first)), receiver);
    let router = gateway.router.clone();
    let pending = tokio::spawn(async move { router.oneshot(request).await.unwrap() });
    let deadline = Instant::now() + Duration::from_secs(10);
    while pulled.load(Ordering::SeqCst) < 300 {
        assert!(Instant::now() < deadline, "the first body was never read");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let (request, _) = streamed(Some(&signed(&second)), chunked(&second, 64));
    let response = send(&gateway, request).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    assert_eq!(error_code(response).await, json!("busy"));

    let small = br#"{"type":"post_call_other","event_timestamp":1,"data":{}}"#;
    let (status, ack) = gateway.post_signed(small).await;
    assert_eq!(status, StatusCode::OK, "small bodies need no slot: {ack}");

    sender
        .unbounded_send(Ok(Bytes::copy_from_slice(&first[300..])))
        .unwrap();
    drop(sender);
    assert_eq!(pending.await.unwrap().status(), StatusCode::OK);
    let (status, _) = gateway.post_signed(&second).await;
    assert_eq!(status, StatusCode::OK, "the slot is free again");
    assert_eq!(gateway.events().await.len(), 2);
}
