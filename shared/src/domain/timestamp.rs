//! The one timestamp type: tasks' times, users' creation time. Millisecond truncation and the
//! fixed three-digit output are written here once.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, UTC, at millisecond precision; parsed from any RFC 3339 offset and always
/// written as `YYYY-MM-DDTHH:MM:SS.sssZ` (fixed width, so the strings sort like the times).
/// Only years 0000..=9999 in UTC exist: they are the times that this format can write and
/// read back, so every accepted time round-trips through the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

const TIMESTAMP_FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

/// Why a string is not a [`Timestamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampError {
    /// Not an RFC 3339 date-time.
    Malformed,
    /// A valid RFC 3339 date-time whose UTC year is outside 0000..=9999.
    OutOfRange,
}

impl TimestampError {
    /// The field error message for a time sent by a client.
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "must be an RFC 3339 date-time, e.g. 2026-12-31T17:00:00Z",
            Self::OutOfRange => {
                "must lie between 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z once converted to UTC"
            }
        }
    }
}

impl Timestamp {
    /// `t` in UTC, truncated to milliseconds, if its UTC year is 0000..=9999. The conversion is
    /// checked: near the ends of the calendar an offset can carry a time past what
    /// `OffsetDateTime` holds (`9999-12-31T23:59:59-23:59`), where `to_offset` would panic.
    fn truncated(t: OffsetDateTime) -> Result<Self, TimestampError> {
        let utc = t
            .checked_to_offset(time::UtcOffset::UTC)
            .filter(|utc| (0..=9999).contains(&utc.year()))
            .ok_or(TimestampError::OutOfRange)?;
        // Digits beyond milliseconds are dropped (truncated, never rounded up into the next
        // second, which could leave the range).
        let millis = utc.millisecond();
        Ok(Self(utc.replace_millisecond(millis).unwrap_or(utc)))
    }

    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::truncated(now).unwrap_or(Self(now))
    }

    /// An RFC 3339 date-time (any offset), telling a malformed string from a time out of range.
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimestampError> {
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| TimestampError::Malformed)?;
        Self::truncated(t)
    }

    /// An RFC 3339 date-time (any offset) within 0000..=9999 UTC, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_rfc3339(s).ok()
    }

    /// Milliseconds since 1970-01-01T00:00:00Z (negative before).
    pub fn unix_millis(self) -> i64 {
        // Years 0000..=9999 are within ±3e14 ms: the i128 always fits.
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// The time `millis` milliseconds after the epoch, if its year is 0000..=9999.
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
        Self::truncated(t).ok()
    }

    pub fn to_rfc3339(self) -> String {
        // Every timestamp has a UTC year 0000..=9999, so formatting cannot fail.
        self.0.format(TIMESTAMP_FORMAT).unwrap_or_default()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

/// Any RFC 3339 date-time within range: also stored values written with 0 to 9 fractional
/// digits (users created before this type wrote three).
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&s).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_millis_round_trip_within_range_only() {
        for s in [
            "0000-01-01T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            let t = Timestamp::parse(s).unwrap();
            assert_eq!(Timestamp::from_unix_millis(t.unix_millis()), Some(t), "{s}");
        }
        let last = Timestamp::parse("9999-12-31T23:59:59.999Z").unwrap();
        assert_eq!(Timestamp::from_unix_millis(last.unix_millis() + 1), None);
        assert_eq!(Timestamp::from_unix_millis(i64::MIN), None);
        assert_eq!(
            Timestamp::from_unix_millis(0).unwrap().to_rfc3339(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn due_dates_are_normalised_to_utc_z() {
        let t = Timestamp::parse("2026-12-01T10:30:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T08:30:00.000Z");
        let precise = Timestamp::parse("2026-12-01T08:30:00.123456789Z").unwrap();
        assert_eq!(precise.to_rfc3339(), "2026-12-01T08:30:00.123Z");
        assert!(
            Timestamp::parse("2026-12-01T08:30:00.5-00:30")
                .unwrap()
                .to_rfc3339()
                > precise.to_rfc3339()
        );
        assert!(Timestamp::parse("2026-12-01").is_none());
        assert!(Timestamp::parse("tomorrow").is_none());
        assert!(Timestamp::now().to_rfc3339().ends_with('Z'));
    }

    #[test]
    fn due_dates_outside_0000_to_9999_utc_are_out_of_range_not_a_panic() {
        use TimestampError::OutOfRange;
        // One minute past 9999-12-31T23:59:59Z in UTC: `to_offset` panicked here.
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59-23:59"),
            Err(OutOfRange)
        );
        // Year -1 in UTC: stored as "-0001-..." it could never be read back.
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00+00:01"),
            Err(OutOfRange)
        );
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00+23:59"),
            Err(OutOfRange)
        );
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59.999999999Z")
                .unwrap()
                .to_rfc3339(),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59.999+00:01")
                .unwrap()
                .to_rfc3339(),
            "9999-12-31T23:58:59.999Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00-00:01")
                .unwrap()
                .to_rfc3339(),
            "0000-01-01T00:01:00.000Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("0000-01-01T00:00:00Z")
                .unwrap()
                .to_rfc3339(),
            "0000-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2026-13-01T00:00:00Z"),
            Err(TimestampError::Malformed)
        );
    }

    #[test]
    fn stored_times_with_any_fractional_digits_read_back_and_write_three() {
        for (stored, written) in [
            ("2026-11-23T08:00:00Z", "2026-11-23T08:00:00.000Z"),
            ("2026-11-23T08:00:00.1Z", "2026-11-23T08:00:00.100Z"),
            ("2026-11-23T08:00:00.12Z", "2026-11-23T08:00:00.120Z"),
            ("2026-11-23T08:00:00.123456789Z", "2026-11-23T08:00:00.123Z"),
        ] {
            let t: Timestamp = serde_json::from_value(serde_json::json!(stored)).unwrap();
            assert_eq!(serde_json::to_value(t).unwrap(), written, "{stored}");
        }
        assert!(serde_json::from_value::<Timestamp>(serde_json::json!("yesterday")).is_err());
    }
}
