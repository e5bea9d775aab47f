//! UTC timestamps, written as RFC 3339 with a `Z` and fixed microsecond precision so that
//! their text sorts in time order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

/// A point in time, always in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

#[derive(Debug, thiserror::Error)]
#[error("not an RFC 3339 timestamp: {0:?}")]
pub struct TimestampError(String);

impl Timestamp {
    /// The current time. The only clock read in this crate; callers pass the result down.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Microseconds since the Unix epoch.
    pub fn from_unix_micros(micros: i64) -> Self {
        let nanos = i128::from(micros) * 1_000;
        Self(OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("in range"))
    }

    pub fn unix_micros(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000) as i64
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0 + Duration::seconds(secs))
    }

    fn from_datetime(dt: OffsetDateTime) -> Self {
        // Truncate to microseconds so a value survives a round trip through its text.
        let micros = (dt.to_offset(UtcOffset::UTC).unix_timestamp_nanos() / 1_000) as i64;
        Self::from_unix_micros(micros)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        let text = self.0.format(&format).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    /// Accepts any RFC 3339 timestamp and converts it to UTC.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Self::from_datetime)
            .map_err(|_| TimestampError(s.to_string()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utc_with_fixed_precision_and_round_trips() {
        let t: Timestamp = "2026-01-02T03:04:05.5+02:00".parse().unwrap();
        assert_eq!(t.to_string(), "2026-01-02T01:04:05.500000Z");
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }

    #[test]
    fn text_order_is_time_order() {
        let a = Timestamp::from_unix_micros(999_999);
        let b = Timestamp::from_unix_micros(1_000_000);
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn rejects_non_timestamps() {
        assert!("yesterday".parse::<Timestamp>().is_err());
    }
}
