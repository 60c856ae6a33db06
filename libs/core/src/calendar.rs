//! Calendar dates of unix milliseconds through the `time` crate: the UTC date and time of an
//! instant (or of an instant shifted by a UTC offset), RFC 3339 timestamps and `YYYY-MM-DD`
//! dates as memvox writes them on the wire. Total: an instant outside the years 0–9999 (which
//! RFC 3339 cannot write) is clamped to the nearest one inside.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::UnixMillis;

/// 0000-01-01T00:00:00Z, the first instant RFC 3339 writes.
const FIRST: UnixMillis = -62_167_219_200_000;

/// 9999-12-31T23:59:59.999Z, the last instant RFC 3339 writes.
const LAST: UnixMillis = 253_402_300_799_999;

/// The UTC date and time of `at` (clamped to the years 0–9999).
pub fn utc(at: UnixMillis) -> OffsetDateTime {
    let nanos = i128::from(at.clamp(FIRST, LAST)) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The wall-clock date and time of `at` at `offset_minutes` from UTC (any offset: the instant
/// is shifted, then read as UTC).
pub fn local(at: UnixMillis, offset_minutes: i32) -> OffsetDateTime {
    utc(at.saturating_add(i64::from(offset_minutes) * 60_000))
}

/// `at` as an RFC 3339 timestamp in UTC, to the second: `2025-12-15T16:20:00Z`.
pub fn rfc3339(at: UnixMillis) -> String {
    let whole_seconds = utc(at)
        .replace_millisecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    whole_seconds.format(&Rfc3339).unwrap_or_default()
}

/// The UTC date of `at` as `YYYY-MM-DD`.
pub fn date(at: UnixMillis) -> String {
    ymd(utc(at))
}

/// `YYYY-MM-DD` of a date and time.
pub fn ymd(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_765_815_600_000), "2025-12-15T16:20:00Z");
        assert_eq!(rfc3339(1_765_815_600_999), "2025-12-15T16:20:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1_000), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(date(1_765_815_600_000), "2025-12-15");
        assert_eq!(date(-1), "1969-12-31");
    }

    #[test]
    fn an_offset_moves_the_wall_clock() {
        let new_york = local(1_767_225_600_000, -300);
        assert_eq!((ymd(new_york), new_york.hour()), ("2025-12-31".into(), 19));
    }

    #[test]
    fn every_instant_has_a_date() {
        assert_eq!(rfc3339(i64::MIN), "0000-01-01T00:00:00Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(ymd(local(i64::MAX, i32::MAX)), "9999-12-31");
    }
}
