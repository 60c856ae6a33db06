//! Request-body handling before any parsing: the content type, the size limit, the read
//! timeout and the large-body slots.
//!
//! The body is read whole (audio deliveries arrive chunked, with no `Content-Length`) because the
//! signature covers the exact bytes; each chunk is fed to the signature check as it arrives.
//! Reading stops as soon as the limit is passed, so an oversized body never sits in memory whole;
//! a declared `Content-Length` over the limit is refused before a byte is read. The whole read
//! has `gateway.body_read_timeout_ms` (408 after it), and a large body needs a slot (see
//! `large_bodies`).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use futures::StreamExt as _;
use memvox_elevenlabs::SignatureCheck;

use crate::GatewayState;
use crate::error::GatewayError;
use crate::large_bodies::Slot;

/// Checks that `headers` declare a JSON body (`application/json`, any parameters).
///
/// # Errors
/// [`GatewayError::UnsupportedMediaType`] when the content type is absent or not JSON.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), GatewayError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match essence {
        Some(mime) if mime.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(GatewayError::UnsupportedMediaType),
    }
}

/// Reads the body of a delivery whose signature header passed, feeding it to `check`, within
/// the larger of the two size limits and the read timeout; returns it with the large-body slot
/// it holds (keep it until the answer is ready).
///
/// # Errors
/// As [`read_limited`], plus [`GatewayError::BodyTimeout`] and [`GatewayError::Busy`].
pub(crate) async fn read_signed(
    state: &GatewayState,
    headers: &HeaderMap,
    body: Body,
    check: &mut SignatureCheck<'_>,
) -> Result<(Bytes, Slot), GatewayError> {
    let settings = &state.settings;
    let limit = settings.max_body_bytes.max(settings.max_audio_body_bytes);
    let mut slot = Slot::default();
    if let Some(declared) = declared_length(headers).filter(|&length| length <= limit) {
        state.large_bodies.reserve(&mut slot, declared)?;
    }
    let read = read_limited(headers, body, limit, |chunk, received| {
        check.update(chunk);
        state.large_bodies.reserve(&mut slot, received)
    });
    let timeout_ms = settings.body_read_timeout_ms;
    let body = tokio::time::timeout(Duration::from_millis(timeout_ms), read)
        .await
        .map_err(|_| GatewayError::BodyTimeout { timeout_ms })??;
    Ok((body, slot))
}

/// The `Content-Length` the request declares, if any.
fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok())
}

/// Reads the whole body, failing once it exceeds `limit` bytes; `on_chunk` sees each chunk with
/// the number of bytes received so far, and may stop the read with an error.
///
/// # Errors
/// [`GatewayError::PayloadTooLarge`] past the limit, [`GatewayError::BodyRead`] if the connection
/// fails mid-body, or the error of `on_chunk`.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    mut on_chunk: impl FnMut(&[u8], usize) -> Result<(), GatewayError>,
) -> Result<Bytes, GatewayError> {
    let declared = declared_length(headers);
    if declared.is_some_and(|length| length > limit) {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    let mut stream = body.into_data_stream();
    let Some(first) = stream
        .next()
        .await
        .transpose()
        .map_err(GatewayError::BodyRead)?
    else {
        return Ok(Bytes::new());
    };
    if first.len() > limit {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    on_chunk(&first, first.len())?;
    // A body in one frame (the common case) is returned without copying.
    let Some(second) = stream
        .next()
        .await
        .transpose()
        .map_err(GatewayError::BodyRead)?
    else {
        return Ok(first);
    };
    let mut collected = Vec::with_capacity(declared.unwrap_or(0).max(first.len()));
    collected.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        append(&mut collected, &chunk, limit)?;
        on_chunk(&chunk, collected.len())?;
        next = stream
            .next()
            .await
            .transpose()
            .map_err(GatewayError::BodyRead)?;
    }
    Ok(Bytes::from(collected))
}

fn append(collected: &mut Vec<u8>, chunk: &[u8], limit: usize) -> Result<(), GatewayError> {
    if collected.len() + chunk.len() > limit {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    collected.extend_from_slice(chunk);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        headers
    }

    #[test]
    fn json_content_types_pass_with_parameters_and_any_case() {
        assert!(require_json(&headers("application/json")).is_ok());
        assert!(require_json(&headers("Application/JSON; charset=utf-8")).is_ok());
        assert!(require_json(&headers("text/plain")).is_err());
        assert!(require_json(&headers("application/jsonp")).is_err());
        assert!(require_json(&HeaderMap::new()).is_err());
    }

    #[tokio::test]
    async fn chunked_body_is_collected_and_limited() {
        let chunks = ["{\"a\":", "1", "}"].map(|part| Ok::<_, std::io::Error>(Bytes::from(part)));
        let body = Body::from_stream(futures::stream::iter(chunks));
        let mut seen = Vec::new();
        let read = read_limited(&HeaderMap::new(), body, 7, |chunk, received| {
            seen.push((chunk.len(), received));
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(&read[..], b"{\"a\":1}");
        assert_eq!(
            seen,
            [(5, 5), (1, 6), (1, 7)],
            "every chunk, with the running total"
        );

        let chunks = ["{\"a\":", "12", "}"].map(|part| Ok::<_, std::io::Error>(Bytes::from(part)));
        let body = Body::from_stream(futures::stream::iter(chunks));
        let error = read_limited(&HeaderMap::new(), body, 7, |_, _| Ok(()))
            .await
            .unwrap_err();
        assert!(matches!(error, GatewayError::PayloadTooLarge { limit: 7 }));
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_is_refused_unread() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(100));
        let error = read_limited(&headers, Body::from("x"), 10, |_, _| Ok(()))
            .await
            .unwrap_err();
        assert!(matches!(error, GatewayError::PayloadTooLarge { limit: 10 }));
    }
}
