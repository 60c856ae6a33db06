//! Calendar arithmetic on unix milliseconds, without a date library.
//!
//! Owns the conversion of a [`UnixMillis`] (plus an optional UTC offset) to a civil date, an
//! hour of the day and a weekday, using Howard Hinnant's `civil_from_days`. Invariant: pure and
//! total: every `i64` maps to a date, negative times included.

use memvox_core::UnixMillis;

const MILLIS_PER_DAY: i64 = 86_400_000;

/// A local date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour of the day, 0–23.
    pub hour: u32,
    /// Day of the week, 0 = Sunday.
    pub weekday: u32,
}

impl LocalTime {
    /// The local time of `at`, shifted by `offset_minutes` from UTC.
    pub fn of(at: UnixMillis, offset_minutes: i32) -> Self {
        let local = at.saturating_add(i64::from(offset_minutes) * 60_000);
        let days = local.div_euclid(MILLIS_PER_DAY);
        let millis_of_day = local.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            // In 0..24 because millis_of_day is in 0..MILLIS_PER_DAY.
            hour: (millis_of_day / 3_600_000) as u32,
            // 1970-01-01 was a Thursday (4).
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// English name of weekday `weekday` (0 = Sunday).
pub(crate) fn weekday_name(weekday: u32) -> &'static str {
    const NAMES: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    NAMES[(weekday % 7) as usize]
}

/// Proleptic Gregorian (year, month, day) of the day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_and_weekdays() {
        // 2026-01-01T00:00:00Z, a Thursday.
        let t = LocalTime::of(1_767_225_600_000, 0);
        assert_eq!((t.date().as_str(), t.hour, t.weekday), ("2026-01-01", 0, 4));
        // Same instant in New York (UTC-5) is the evening before, a Wednesday.
        let ny = LocalTime::of(1_767_225_600_000, -300);
        assert_eq!(
            (ny.date().as_str(), ny.hour, ny.weekday),
            ("2025-12-31", 19, 3)
        );
        assert_eq!(LocalTime::of(0, 0).date(), "1970-01-01");
        assert_eq!(LocalTime::of(951_782_400_000, 0).date(), "2000-02-29");
        assert_eq!(LocalTime::of(-1, 0).date(), "1969-12-31");
        assert_eq!(weekday_name(1), "Monday");
    }
}
