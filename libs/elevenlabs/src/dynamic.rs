//! Dynamic variables we send to ElevenLabs: validated names and scalar values.
//!
//! ElevenLabs documents no name grammar; we restrict our own names to `^[a-z][a-z0-9_]*$` and
//! forbid the reserved `system__` prefix (ElevenLabs ignores or rejects client-sent system
//! variables). `secret__` names stay allowed: they are how a value reaches tool headers without
//! being shown to the LLM. Values are string, number or boolean only (spec §5).
//!
//! Invariant: a [`DynamicVariableName`] always satisfies these rules, however it was built
//! (constructor, `const` constructor or deserialisation).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix ElevenLabs reserves for its own variables (`system__caller_id`, ...).
pub const SYSTEM_PREFIX: &str = "system__";

/// Why a dynamic-variable name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidVariableName {
    /// The name is empty.
    #[error("dynamic variable name is empty")]
    Empty,
    /// The first character is not `a`–`z`.
    #[error("dynamic variable name must start with a lower-case letter")]
    BadStart,
    /// A later character is not `a`–`z`, `0`–`9` or `_`; `index` is its byte offset.
    #[error("dynamic variable name has a character other than a-z, 0-9, _ at byte {index}")]
    BadCharacter {
        /// Byte offset of the first offending character.
        index: usize,
    },
    /// The name starts with the reserved `system__` prefix.
    #[error("dynamic variable names starting with system__ are reserved by ElevenLabs")]
    Reserved,
}

const fn check(name: &str) -> Result<(), InvalidVariableName> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(InvalidVariableName::Empty);
    }
    if !bytes[0].is_ascii_lowercase() {
        return Err(InvalidVariableName::BadStart);
    }
    let mut index = 1;
    while index < bytes.len() {
        let byte = bytes[index];
        if !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_') {
            return Err(InvalidVariableName::BadCharacter { index });
        }
        index += 1;
    }
    let prefix = SYSTEM_PREFIX.as_bytes();
    if bytes.len() >= prefix.len() {
        let mut same = true;
        let mut i = 0;
        while i < prefix.len() {
            same &= bytes[i] == prefix[i];
            i += 1;
        }
        if same {
            return Err(InvalidVariableName::Reserved);
        }
    }
    Ok(())
}

/// A dynamic-variable name we may set: `^[a-z][a-z0-9_]*$` without the `system__` prefix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DynamicVariableName(Cow<'static, str>);

impl DynamicVariableName {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`InvalidVariableName`] if `name` breaks the rules in the module docs.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Result<Self, InvalidVariableName> {
        let name = name.into();
        check(&name)?;
        Ok(Self(name))
    }

    /// Builds a name from a literal; meant for `const` items, where an invalid name fails the build:
    /// `const CALLER_NAME: DynamicVariableName = DynamicVariableName::from_static("caller_name");`
    ///
    /// # Panics
    /// If `name` is invalid (at compile time when evaluated in a `const` context).
    pub const fn from_static(name: &'static str) -> Self {
        match check(name) {
            Ok(()) => Self(Cow::Borrowed(name)),
            Err(_) => panic!("invalid dynamic variable name"),
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DynamicVariableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for DynamicVariableName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DynamicVariableName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::new(name).map_err(serde::de::Error::custom)
    }
}

/// A dynamic-variable value: ElevenLabs accepts strings, numbers and booleans only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DynamicValue {
    /// A string (use `""` for "unknown": every variable the agent uses must be present).
    String(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

impl From<String> for DynamicValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<&str> for DynamicValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<bool> for DynamicValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i64> for DynamicValue {
    fn from(value: i64) -> Self {
        Self::Number(value.into())
    }
}

impl From<u64> for DynamicValue {
    fn from(value: u64) -> Self {
        Self::Number(value.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER_NAME: DynamicVariableName = DynamicVariableName::from_static("caller_name");

    #[test]
    fn accepts_lower_snake_case_and_secret_names() {
        for name in [
            "a",
            "caller_name",
            "memory_summary_2",
            "secret__memvox_token",
            "x_",
        ] {
            assert_eq!(DynamicVariableName::new(name).unwrap().as_str(), name);
        }
        assert_eq!(CALLER_NAME.as_str(), "caller_name");
    }

    #[test]
    fn refuses_names_outside_the_grammar() {
        use InvalidVariableName::*;
        let cases = [
            ("", Empty),
            ("_x", BadStart),
            ("9lives", BadStart),
            ("Caller", BadStart),
            ("callerName", BadCharacter { index: 6 }),
            ("caller-name", BadCharacter { index: 6 }),
            ("caller name", BadCharacter { index: 6 }),
            ("café", BadCharacter { index: 3 }),
            ("system__caller_id", Reserved),
            ("system__", Reserved),
        ];
        for (name, expected) in cases {
            assert_eq!(DynamicVariableName::new(name), Err(expected), "{name:?}");
        }
        assert!(DynamicVariableName::new("system_caller").is_ok());
    }

    #[test]
    fn deserialising_a_name_validates_it() {
        assert!(serde_json::from_str::<DynamicVariableName>("\"memory_user_id\"").is_ok());
        assert!(serde_json::from_str::<DynamicVariableName>("\"system__time\"").is_err());
    }

    #[test]
    fn values_serialise_as_plain_json_scalars() {
        let values = [
            DynamicValue::from("Dana"),
            DynamicValue::from(3_u64),
            DynamicValue::from(-2_i64),
            DynamicValue::from(true),
        ];
        assert_eq!(
            serde_json::to_string(&values).unwrap(),
            r#"["Dana",3,-2,true]"#
        );
        assert!(serde_json::from_str::<DynamicValue>("[1]").is_err());
        assert!(serde_json::from_str::<DynamicValue>("null").is_err());
    }
}
