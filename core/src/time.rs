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
}
