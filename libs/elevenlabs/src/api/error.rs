//! [`ApiError`]: why a request to the ElevenLabs API came to nothing, in words an operator can
//! act on, with what ElevenLabs said (`{"detail":{"status":…,"message":…}}`, or the start of the
//! body) where it said something.

use serde::Deserialize;

use crate::payload::PayloadError;

/// Longest excerpt of an answer quoted in an error.
const EXCERPT_CHARS: usize = 200;

/// A request to the ElevenLabs API that failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: the key is missing, wrong or revoked.
    #[error(
        "the ElevenLabs API refused the API key (401{0}): set elevenlabs.api_key \
         (MEMVOX_ELEVENLABS__API_KEY, or ELEVENLABS_API_KEY) to a valid key"
    )]
    Unauthorized(Detail),
    /// 403: the key lacks a permission.
    #[error(
        "the ElevenLabs API key lacks a permission reading conversations needs (403{0}): give \
         it access to ElevenAgents conversation history"
    )]
    Forbidden(Detail),
    /// 404: no such conversation (deleted, or of another workspace).
    #[error("the ElevenLabs API knows no such conversation (404{0})")]
    NotFound(Detail),
    /// Another answer that retrying cannot change (400, 422, …).
    #[error("the ElevenLabs API refused the request with {status}{detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// What it said.
        detail: Detail,
    },
    /// Rate limits, server errors or no answer, every attempt.
    #[error("the ElevenLabs API did not answer successfully in {attempts} attempts; last: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The answer was larger than the limit.
    #[error("the ElevenLabs API's answer is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The answer is not of the documented shape.
    #[error("the ElevenLabs API's answer does not fit its documented shape: {0}")]
    Payload(#[from] PayloadError),
    /// A conversation id that cannot be part of a URL path as it is.
    #[error("`{0}` is not a conversation id (letters, digits, `_` and `-` only)")]
    InvalidId(String),
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client for the ElevenLabs API: {0}")]
    Client(String),
}

impl ApiError {
    /// Whether this failure is the key's (401, 403): every further request would fail too.
    pub fn is_credentials(&self) -> bool {
        matches!(self, Self::Unauthorized(_) | Self::Forbidden(_))
    }
}

/// What an error answer said, rendered as `: <status>: <message>` (empty when it said nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail(String);

impl Detail {
    /// The detail of an error answer's body.
    pub fn of_body(body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Wire {
            detail: DetailWire,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum DetailWire {
            Structured {
                status: Option<String>,
                message: Option<String>,
            },
            Text(String),
        }
        let text = match serde_json::from_slice::<Wire>(body).map(|w| w.detail) {
            Ok(DetailWire::Structured { status, message }) => [status, message]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
            Ok(DetailWire::Text(text)) => text,
            Err(_) => String::from_utf8_lossy(body).into_owned(),
        };
        Self(text.trim().chars().take(EXCERPT_CHARS).collect())
    }

    /// The text, possibly empty.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_read_from_every_shape() {
        let structured = br#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#;
        assert_eq!(
            Detail::of_body(structured).text(),
            "invalid_api_key: Invalid API key"
        );
        assert_eq!(
            Detail::of_body(br#"{"detail":"Not Found"}"#).text(),
            "Not Found"
        );
        assert_eq!(Detail::of_body(b" upstream gone ").text(), "upstream gone");
        assert_eq!(Detail::of_body(&[b'x'; 500]).text().len(), EXCERPT_CHARS);
        assert_eq!(Detail::of_body(b"").to_string(), "");
    }

    #[test]
    fn the_401_error_says_where_the_key_is_set() {
        let error = ApiError::Unauthorized(Detail::of_body(
            br#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#,
        ));
        let text = error.to_string();
        assert!(text.contains("401: invalid_api_key"), "{text}");
        assert!(text.contains("MEMVOX_ELEVENLABS__API_KEY"), "{text}");
        assert!(error.is_credentials());
    }
}
