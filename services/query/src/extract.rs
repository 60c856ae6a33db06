//! Request extractors whose rejections are [`ApiError`]s, so malformed JSON, a body over the
//! limit, a bad query string or a path segment that is not UTF-8 get the same
//! `{"error": {...}}` body as every other failure.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// `Json<T>` with [`ApiError`] rejections.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(_) => ApiError::MalformedJson(rejection.body_text()),
        JsonRejection::JsonDataError(_) => ApiError::Invalid(rejection.body_text()),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::Invalid(rejection.body_text()),
    }
}

/// A JSON body read whatever its `Content-Type` says (or without one): for webhooks whose
/// sender does not document the header, where a 415 would cost a call.
pub struct AnyTypeJson<T>(pub T);

impl<S, T> FromRequest<S> for AnyTypeJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::Invalid(rejection.body_text()),
                })?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// An extractor of request parts wrapping axum's `$inner`, its rejection (`$rejection`, whose
/// plain-text body becomes the message) turned into [`ApiError::Invalid`].
macro_rules! api_parts_extractor {
    ($(#[$doc:meta])* $name:ident, $inner:ident, $rejection:ident) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<S, T> FromRequestParts<S> for $name<T>
        where
            T: DeserializeOwned + Send,
            S: Send + Sync,
        {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                axum::extract::$inner::<T>::from_request_parts(parts, state)
                    .await
                    .map(|axum::extract::$inner(value)| Self(value))
                    .map_err(|rejection: $rejection| ApiError::Invalid(rejection.body_text()))
            }
        }
    };
}

api_parts_extractor!(
    /// `Query<T>` with [`ApiError`] rejections.
    ApiQuery,
    Query,
    QueryRejection
);
api_parts_extractor!(
    /// `Path<T>` with [`ApiError`] rejections (a segment whose percent-encoding is not UTF-8 is
    /// `invalid_request`, not axum's plain-text 400).
    ApiPath,
    Path,
    PathRejection
);
