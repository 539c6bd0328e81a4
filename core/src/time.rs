//! The protocol's `time` field: `YYYY-MM-DD HH:MM:SS` in the server's zone.
//!
//! The caller supplies the instant (`ts`, milliseconds since the Unix epoch);
//! this crate never reads a clock.

/// The zone servers use unless configured otherwise: UTC+8 (China Standard Time).
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 8 * 60;

/// Formats `ts` (milliseconds since the Unix epoch) as `YYYY-MM-DD HH:MM:SS`
/// at `utc_offset_minutes` east of UTC.
pub fn format_time(ts: i64, utc_offset_minutes: i32) -> String {
    let seconds = ts.div_euclid(1000) + i64::from(utc_offset_minutes) * 60;
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// How long ago something happened, as a chat list shows it: 刚刚,
/// N 分钟前, N 小时前 (earlier today), 昨天, then the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ago {
    /// Under a minute ago (or in the future, by a clock that is ahead).
    JustNow,
    /// This many minutes ago (1–59).
    Minutes(u32),
    /// This many hours ago, earlier the same day.
    Hours(u32),
    /// The day before.
    Yesterday,
    /// An earlier day of this year.
    ThisYear {
        /// 1–12.
        month: u32,
        /// 1–31.
        day: u32,
    },
    /// A day of an earlier year.
    Date {
        /// The year.
        year: i64,
        /// 1–12.
        month: u32,
        /// 1–31.
        day: u32,
    },
}

/// How long before `now` the instant `ts` was, both in milliseconds since the
/// epoch, with days counted at `utc_offset_minutes` east of UTC (the reader's zone).
pub fn ago(ts: i64, now: i64, utc_offset_minutes: i32) -> Ago {
    let elapsed = now - ts;
    if elapsed < 60_000 {
        return Ago::JustNow;
    }
    if elapsed < 3_600_000 {
        return Ago::Minutes((elapsed / 60_000) as u32);
    }
    let local_day =
        |t: i64| (t.div_euclid(1000) + i64::from(utc_offset_minutes) * 60).div_euclid(86_400);
    let (then_day, today) = (local_day(ts), local_day(now));
    if then_day == today {
        return Ago::Hours((elapsed / 3_600_000) as u32);
    }
    if then_day == today - 1 {
        return Ago::Yesterday;
    }
    let (year, month, day) = civil_from_days(then_day);
    if year == civil_from_days(today).0 {
        Ago::ThisYear { month, day }
    } else {
        Ago::Date { year, month, day }
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
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
    fn formats_in_the_given_zone() {
        assert_eq!(format_time(0, 0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_795_784_709_000, 480), "2026-11-27 21:05:09");
        assert_eq!(format_time(1_795_784_709_999, 0), "2026-11-27 13:05:09");
        // Leap day, and a zone west of UTC crossing midnight backwards.
        assert_eq!(format_time(951_782_400_000, 0), "2000-02-29 00:00:00");
        assert_eq!(format_time(951_782_400_000, -60), "2000-02-28 23:00:00");
        assert_eq!(format_time(-1_000, 0), "1969-12-31 23:59:59");
    }

    #[test]
    fn ago_counts_minutes_hours_and_local_days() {
        // 2026-11-27 21:05:09 in UTC+8.
        let now = 1_795_784_709_000;
        let minute = 60_000;
        let hour = 60 * minute;
        assert_eq!(ago(now - 5_000, now, 480), Ago::JustNow);
        assert_eq!(ago(now + 5_000, now, 480), Ago::JustNow);
        assert_eq!(ago(now - 5 * minute, now, 480), Ago::Minutes(5));
        assert_eq!(ago(now - 3 * hour, now, 480), Ago::Hours(3));
        // 22 hours before is 23:05 the day before in UTC+8: yesterday.
        assert_eq!(ago(now - 22 * hour, now, 480), Ago::Yesterday);
        assert_eq!(
            ago(now - 3 * 24 * hour, now, 480),
            Ago::ThisYear { month: 11, day: 24 }
        );
        assert_eq!(
            ago(now - 400 * 24 * hour, now, 480),
            Ago::Date {
                year: 2025,
                month: 10,
                day: 23
            }
        );
        // In UTC the same instant 22 hours earlier is still the same day.
        assert_eq!(ago(now - 12 * hour, now, 0), Ago::Hours(12));
    }
}
