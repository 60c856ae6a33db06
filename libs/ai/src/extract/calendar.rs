//! The local date, hour and weekday of a call's times, as the extractors word them.
//!
//! Owns the conversion of a [`UnixMillis`] (plus an optional UTC offset) to a civil date, an
//! hour of the day and a weekday, through `memvox_core::calendar` (the `time` crate).
//! Invariant: pure and total: every `i64` maps to a date, negative times included.

use memvox_core::{UnixMillis, calendar, text::WEEKDAYS};

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
        let local = calendar::local(at, offset_minutes);
        Self {
            year: i64::from(local.year()),
            month: u32::from(u8::from(local.month())),
            day: u32::from(local.day()),
            hour: u32::from(local.hour()),
            weekday: u32::from(local.weekday().number_days_from_sunday()),
        }
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// English name of weekday `weekday` (0 = Sunday).
pub(crate) fn weekday_name(weekday: u32) -> &'static str {
    WEEKDAYS[(weekday % 7 + 6) as usize % 7]
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
