//! Days before a best-before date, and the date itself for a person, from
//! milliseconds since the epoch (UTC), without a clock or a date library.

use chanhost_sdk::TimestampMs;

pub const DAY_MS: TimestampMs = 86_400_000;

/// Whole days from `now` until `best_before` (a lot with 29.5 days to go
/// has 29 days left), or `None` once the date has passed.
pub fn days_left(now: TimestampMs, best_before: TimestampMs) -> Option<u64> {
    let to_go = best_before.checked_sub(now)?;
    (to_go > 0).then_some((to_go / DAY_MS) as u64)
}

/// The UTC calendar date of `at`, as `2025-04-10`.
pub fn iso_date(at: TimestampMs) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(DAY_MS));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Year, month and day of a count of days since 1970-01-01 (proleptic
/// Gregorian calendar; Howard Hinnant's `civil_from_days`).
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
    fn whole_days_left_until_the_date_passes() {
        assert_eq!(days_left(0, 30 * DAY_MS), Some(30));
        assert_eq!(days_left(0, 30 * DAY_MS - 1), Some(29));
        assert_eq!(days_left(0, 1), Some(0));
        assert_eq!(days_left(0, 0), None);
        assert_eq!(days_left(5, 0), None);
        assert_eq!(days_left(i64::MIN, i64::MAX), None);
    }

    #[test]
    fn dates_in_utc() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(-1), "1969-12-31");
        // 2024 is a leap year; 2100 is not.
        assert_eq!(iso_date(1_709_164_800_000), "2024-02-29");
        assert_eq!(iso_date(1_709_251_199_999), "2024-02-29");
        assert_eq!(iso_date(4_107_542_400_000), "2100-03-01");
        assert_eq!(iso_date(1_744_243_200_000), "2025-04-10");
    }
}
