//! Parsing JSON bodies into this crate's types with errors that name the offending field.
//!
//! A webhook that does not parse gets a 400 naming the field path (`data.transcript[3].role`), so
//! whoever configured it can see what is wrong. Path tracking costs time on every field, so the
//! happy path parses plainly and only a failed parse is repeated with tracking to find the path
//! (the two parses see the same bytes, so they fail at the same place).
//!
//! Invariant: [`PayloadError::path`] is `.` for the document root, otherwise dot-separated keys
//! with array indexes in brackets (`data.transcript[3].role`).

use serde::Deserialize;

/// A body did not match the expected shape.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON at {path}: {source}")]
pub struct PayloadError {
    path: String,
    #[source]
    source: serde_json::Error,
}

impl PayloadError {
    /// Where the problem is: `.` for the root, else e.g. `data.transcript[3].role`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the body is not JSON at all (or truncated), as opposed to JSON of the wrong shape.
    pub fn is_syntax(&self) -> bool {
        matches!(
            self.source.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        )
    }

    /// An error for a field that the schema allows to be absent but this context requires.
    pub(crate) fn missing(path: &str, field: &'static str) -> Self {
        Self {
            path: path.to_owned(),
            source: serde::de::Error::missing_field(field),
        }
    }

    /// An error for a value that parsed but breaks a rule of this crate.
    pub(crate) fn invalid(path: &str, rule: &'static str) -> Self {
        Self {
            path: path.to_owned(),
            source: serde::de::Error::custom(rule),
        }
    }
}

/// Parses `bytes` as a `T`; on failure the error carries the field path.
///
/// # Errors
/// [`PayloadError`] if `bytes` is not JSON or not shaped like a `T`.
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, PayloadError> {
    parse_within(bytes, None)
}

/// Like [`from_slice`], for a value found at `prefix` inside a larger document.
pub(crate) fn parse_within<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    prefix: Option<&str>,
) -> Result<T, PayloadError> {
    serde_json::from_slice(bytes).map_err(|_| {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
            Err(error) => {
                let inner = error.path().to_string();
                let path = match prefix {
                    None => inner,
                    Some(prefix) if inner == "." => prefix.to_owned(),
                    Some(prefix) if inner.starts_with('[') => format!("{prefix}{inner}"),
                    Some(prefix) => format!("{prefix}.{inner}"),
                };
                PayloadError {
                    path,
                    source: error.into_inner(),
                }
            }
            // The plain parse failed, so this one cannot succeed; should it ever, report the root.
            Ok(_) => PayloadError {
                path: prefix.unwrap_or(".").to_owned(),
                source: serde::de::Error::custom("inconsistent parse"),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Outer {
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn valid_input_parses() {
        let outer = from_slice::<Outer>(br#"{"items":[{"n":7}]}"#).unwrap();
        assert_eq!(outer.items[0].n, 7);
    }

    #[test]
    fn errors_name_the_nested_field() {
        let error = from_slice::<Outer>(br#"{"items":[{"n":1},{"n":"x"}]}"#).unwrap_err();
        assert_eq!(error.path(), "items[1].n");
        assert!(!error.is_syntax());
    }

    #[test]
    fn prefix_is_prepended_and_root_becomes_the_prefix() {
        let nested = parse_within::<Outer>(br#"{"items":[{}]}"#, Some("data")).unwrap_err();
        assert_eq!(nested.path(), "data.items[0]");
        let root = parse_within::<Outer>(b"[]", Some("data")).unwrap_err();
        assert_eq!(root.path(), "data");
        let array = parse_within::<Vec<Inner>>(br#"[{"n":true}]"#, Some("data")).unwrap_err();
        assert_eq!(array.path(), "data[0].n");
    }

    #[test]
    fn truncated_json_is_a_syntax_error() {
        let error = from_slice::<Outer>(br#"{"items":["#).unwrap_err();
        assert!(error.is_syntax());
    }
}
