//! Timestamps are stored as milliseconds since the Unix epoch (one integer
//! type on every backend) and shown as RFC 3339 UTC with a `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
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
}
