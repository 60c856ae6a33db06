//! Lenient field deserialisers for the places where ElevenLabs' documented and actual types differ.
//!
//! * [`null_as_default`]: a list or map that may be `null` as well as absent (pair it with
//!   `#[serde(default)]`).
//! * [`unix_secs`]: a unix timestamp that may arrive as an integer, an integral float or a numeric
//!   string (the docs disagree on `event_timestamp`'s type).
//! * [`opt_string_or_number`]: an optional phone number that may arrive as a string or a number.
//! * [`opt_whole_u32`]: an optional count that may arrive as an integral float (`3.0`), which JSON
//!   Schema counts as an integer and JSON encoders of LLM tool arguments may send.
//!
//! Invariant: none of these accept a value that changes meaning (no negative or fractional
//! timestamps, no floats as phone numbers).

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

/// Deserialises `null` as `T::default()`.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Deserialises unix seconds from a non-negative integer, an integral float or a string of digits.
pub(crate) fn unix_secs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(UnixSecsVisitor)
}

struct UnixSecsVisitor;

impl Visitor<'_> for UnixSecsVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unix seconds as a non-negative integer or a string of digits")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
        Ok(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
        u64::try_from(value).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<u64, E> {
        // 2^64: every integral f64 in [0, 2^64) converts to u64 exactly.
        const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
        if (0.0..TWO_POW_64).contains(&value) && value.fract() == 0.0 {
            Ok(value as u64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(value), &self))
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<u64, E> {
        parse_digits(value.as_bytes())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
    }
}

/// Parses a non-empty string of ASCII digits into a `u64`; `None` on any other byte or overflow.
pub(crate) fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &byte| {
        if byte.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
        } else {
            None
        }
    })
}

/// Deserialises an optional string that may also arrive as an integer (kept as its decimal text).
pub(crate) fn opt_string_or_number<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_any(StringOrNumberVisitor)
}

struct StringOrNumberVisitor;

impl<'de> Visitor<'de> for StringOrNumberVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, an integer or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Some(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(value.to_string()))
    }
}

/// Deserialises an optional `u32` from an integer or an integral float (`3.0`), or `null`.
///
/// # Errors
/// A negative, fractional or too large number, or anything that is not a number.
pub fn opt_whole_u32<'de, D>(deserializer: D) -> Result<Option<u32>, D::Error>
where
    D: Deserializer<'de>,
{
    // Every u32 is exact as an f64, and serde reads integers as f64 too.
    let Some(value) = Option::<f64>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if (0.0..=f64::from(u32::MAX)).contains(&value) && value.fract() == 0.0 {
        // Whole and in range: the conversion is exact.
        Ok(Some(value as u32))
    } else {
        Err(de::Error::invalid_value(
            de::Unexpected::Float(value),
            &"a whole number from 0 to 4294967295, or null",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Ts {
        #[serde(deserialize_with = "unix_secs")]
        t: u64,
    }

    #[derive(Deserialize)]
    struct Num {
        #[serde(default, deserialize_with = "opt_string_or_number")]
        n: Option<String>,
    }

    fn ts(json: &str) -> Result<u64, serde_json::Error> {
        serde_json::from_str::<Ts>(json).map(|ts| ts.t)
    }

    #[test]
    fn unix_secs_accepts_integer_string_and_integral_float() {
        assert_eq!(ts(r#"{"t":1767225645}"#).unwrap(), 1_767_225_645);
        assert_eq!(ts(r#"{"t":"1767225645"}"#).unwrap(), 1_767_225_645);
        assert_eq!(ts(r#"{"t":1767225645.0}"#).unwrap(), 1_767_225_645);
    }

    #[test]
    fn unix_secs_rejects_negative_fractional_and_non_numeric() {
        for bad in [
            r#"{"t":-1}"#,
            r#"{"t":1.5}"#,
            r#"{"t":"17x"}"#,
            r#"{"t":""}"#,
            r#"{"t":"-5"}"#,
            r#"{"t":"99999999999999999999999"}"#,
            r#"{"t":true}"#,
        ] {
            assert!(ts(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn string_or_number_keeps_both_shapes_and_null() {
        let parse = |json: &str| serde_json::from_str::<Num>(json).unwrap().n;
        assert_eq!(
            parse(r#"{"n":"+14155550199"}"#).as_deref(),
            Some("+14155550199")
        );
        assert_eq!(
            parse(r#"{"n":14155550199}"#).as_deref(),
            Some("14155550199")
        );
        assert_eq!(parse(r#"{"n":null}"#), None);
        assert_eq!(parse(r#"{}"#), None);
        assert!(serde_json::from_str::<Num>(r#"{"n":1.5}"#).is_err());
    }

    #[test]
    fn whole_u32_takes_integral_floats_and_refuses_the_rest() {
        #[derive(Deserialize)]
        struct Limit {
            #[serde(default, deserialize_with = "opt_whole_u32")]
            limit: Option<u32>,
        }
        let parse = |json: &str| serde_json::from_str::<Limit>(json).map(|l| l.limit);
        assert_eq!(parse(r#"{"limit":3}"#).unwrap(), Some(3));
        assert_eq!(parse(r#"{"limit":3270.0}"#).unwrap(), Some(3270));
        assert_eq!(parse(r#"{"limit":4294967295}"#).unwrap(), Some(u32::MAX));
        assert_eq!(parse(r#"{"limit":null}"#).unwrap(), None);
        assert_eq!(parse(r#"{}"#).unwrap(), None);
        for bad in [
            r#"{"limit":1.5}"#,
            r#"{"limit":-1}"#,
            r#"{"limit":-1.0}"#,
            r#"{"limit":4294967296}"#,
            r#"{"limit":4294967296.0}"#,
            r#"{"limit":"3"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
