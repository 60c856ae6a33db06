//! Request-body handling before any parsing: the content type and the size limit.
//!
//! The body is read whole (audio deliveries arrive chunked, with no `Content-Length`) because the
//! signature covers the exact bytes. Reading stops as soon as the limit is passed, so an
//! oversized body never sits in memory whole; a declared `Content-Length` over the limit is
//! refused before a byte is read.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use futures::StreamExt as _;

use crate::error::GatewayError;

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

/// Reads the whole body, failing once it exceeds `limit` bytes.
///
/// # Errors
/// [`GatewayError::PayloadTooLarge`] past the limit, [`GatewayError::BodyRead`] if the connection
/// fails mid-body.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, GatewayError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
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
    // A body in one frame (the common case) is returned without copying.
    let Some(second) = stream
        .next()
        .await
        .transpose()
        .map_err(GatewayError::BodyRead)?
    else {
        return Ok(first);
    };
    let mut collected = Vec::with_capacity(declared.unwrap_or(0).max(first.len() + second.len()));
    for chunk in [first, second] {
        append(&mut collected, &chunk, limit)?;
    }
    while let Some(chunk) = stream
        .next()
        .await
        .transpose()
        .map_err(GatewayError::BodyRead)?
    {
        append(&mut collected, &chunk, limit)?;
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
        let read = read_limited(&HeaderMap::new(), body, 7).await.unwrap();
        assert_eq!(&read[..], b"{\"a\":1}");

        let chunks = ["{\"a\":", "12", "}"].map(|part| Ok::<_, std::io::Error>(Bytes::from(part)));
        let body = Body::from_stream(futures::stream::iter(chunks));
        let error = read_limited(&HeaderMap::new(), body, 7).await.unwrap_err();
        assert!(matches!(error, GatewayError::PayloadTooLarge { limit: 7 }));
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_is_refused_unread() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(100));
        let error = read_limited(&headers, Body::from("x"), 10)
            .await
            .unwrap_err();
        assert!(matches!(error, GatewayError::PayloadTooLarge { limit: 10 }));
    }
}
