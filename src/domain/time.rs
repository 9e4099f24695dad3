//! Timestamps are stored as milliseconds since the Unix epoch (one integer
//! type on every backend) and shown as RFC 3339 UTC with a `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// A UTC day in milliseconds (days have no leap seconds here).
pub const DAY_MS: i64 = 86_400_000;

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Appends [`format_ms`]'s text to `out` without allocating: the export
/// writes two timestamps per row, a million rows at a time, and chrono's
/// formatter (through a `String`) was a fifth of its time. Years outside
/// 0000-9999, which chrono writes with a sign, take chrono's path.
pub fn write_ms(out: &mut Vec<u8>, ms: i64) {
    let (days, in_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    // Days to a civil date (Howard Hinnant's `civil_from_days`): eras of
    // 400 years counted from 0000-03-01, so a leap day ends each year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(format_ms(ms).as_bytes());
        return;
    }
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut digits = |at: usize, width: usize, mut value: i64| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    digits(0, 4, year);
    digits(5, 2, month);
    digits(8, 2, day);
    digits(11, 2, in_day / 3_600_000);
    digits(14, 2, in_day / 60_000 % 60);
    digits(17, 2, in_day / 1000 % 60);
    digits(20, 3, in_day % 1000);
    out.extend_from_slice(&text);
}

pub fn format_secs(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_utc_with_z() {
        assert_eq!(format_ms(1_736_951_400_123), "2025-01-15T14:30:00.123Z");
        assert_eq!(format_secs(1_736_951_400), "2025-01-15T14:30:00Z");
        assert_eq!(
            parse_rfc3339_ms("2025-01-15T14:30:00.123Z"),
            Some(1_736_951_400_123)
        );
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
    }

    #[test]
    fn write_ms_writes_what_format_ms_does() {
        let mut samples = vec![
            0,
            -1,
            1,
            1_736_951_400_123,
            951_782_400_000,     // 2000-02-29
            -62_167_219_200_000, // 0000-01-01
            -62_167_219_200_001, // the year before: chrono's signed form
            253_402_300_799_999, // 9999-12-31T23:59:59.999
            253_402_300_800_000, // 10000-01-01
            i64::MIN,
            i64::MAX,
        ];
        // Every day boundary and then some across four centuries, both sides of the epoch.
        let mut t = -15_000_000_000_000_i64;
        while t < 15_000_000_000_000 {
            samples.extend([t, t - 1, t + 86_399_999]);
            t += 86_400_000 * 7 + 3_723_456;
        }
        for ms in samples {
            let mut out = b"x".to_vec();
            write_ms(&mut out, ms);
            assert_eq!(&out[1..], format_ms(ms).as_bytes(), "{ms}");
        }
    }
}
