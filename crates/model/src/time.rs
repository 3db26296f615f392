//! Timestamp helpers: every time in the store is milliseconds since the epoch, UTC.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::TimestampMs;

/// Parse an RFC 3339 timestamp (`2026-11-21T22:35:30.249Z`) to epoch milliseconds.
/// Returns `None` for anything else; agents' timestamps are informative, never fatal.
pub fn parse_rfc3339_ms(s: &str) -> Option<TimestampMs> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Format epoch milliseconds as RFC 3339 UTC with milliseconds.
pub fn format_ms(ms: TimestampMs) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The current time in epoch milliseconds.
pub fn now_ms() -> TimestampMs {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = parse_rfc3339_ms("2026-11-21T22:35:30.249Z").unwrap();
        assert_eq!(format_ms(ms), "2026-11-21T22:35:30.249Z");
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
    }
}
