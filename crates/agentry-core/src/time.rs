//! UTC timestamps, written as RFC 3339 with a `Z` and fixed microsecond precision so that
//! their text sorts in time order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// A point in time, always in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("not an RFC 3339 timestamp: {0:?}")]
    Syntax(String),
    #[error("timestamp {0:?} is outside the years 0001 to 9999 (UTC)")]
    OutOfRange(String),
}

/// The range every timestamp stays in, so that its text form is always four-digit years.
const MIN_MICROS: i64 = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
const MAX_MICROS: i64 = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z

impl Timestamp {
    /// The current time. The only clock read in this crate; callers pass the result down.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Microseconds since the Unix epoch, held to the years 0001 to 9999.
    pub fn from_unix_micros(micros: i64) -> Self {
        let nanos = i128::from(micros.clamp(MIN_MICROS, MAX_MICROS)) * 1_000;
        Self(OffsetDateTime::from_unix_timestamp_nanos(nanos).expect("the clamped range is valid"))
    }

    pub fn unix_micros(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000) as i64
    }

    /// Later by `secs` seconds (earlier if negative), held to the years 0001 to 9999.
    pub fn plus_secs(self, secs: i64) -> Self {
        Self::from_unix_micros(
            self.unix_micros()
                .saturating_add(secs.saturating_mul(1_000_000)),
        )
    }

    /// Midnight UTC at the start of this timestamp's day.
    pub fn day_start(self) -> Self {
        const DAY_MICROS: i64 = 86_400_000_000;
        Self::from_unix_micros(self.unix_micros().div_euclid(DAY_MICROS) * DAY_MICROS)
    }

    fn from_datetime(dt: OffsetDateTime) -> Self {
        // Truncate to microseconds so a value survives a round trip through its text.
        Self::from_unix_micros((dt.unix_timestamp_nanos() / 1_000) as i64)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        let text = self.0.format(&format).map_err(|_| fmt::Error)?;
        f.pad(&text)
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    /// Accepts any RFC 3339 timestamp and converts it to UTC.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|_| TimestampError::Syntax(s.to_string()))?;
        let micros = parsed.unix_timestamp_nanos() / 1_000;
        if !(i128::from(MIN_MICROS)..=i128::from(MAX_MICROS)).contains(&micros) {
            return Err(TimestampError::OutOfRange(s.to_string()));
        }
        Ok(Self::from_datetime(parsed))
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
    fn a_day_starts_at_midnight_utc() {
        let t: Timestamp = "2026-03-04T23:59:59.9+00:00".parse().unwrap();
        assert_eq!(t.day_start().to_string(), "2026-03-04T00:00:00.000000Z");
        assert_eq!(t.day_start().day_start(), t.day_start());
    }

    #[test]
    fn rejects_non_timestamps() {
        assert!("yesterday".parse::<Timestamp>().is_err());
    }

    #[test]
    fn refuses_times_whose_utc_year_leaves_0001_to_9999() {
        for outside in [
            "9999-12-31T23:59:59-01:00",
            "0000-01-01T00:00:00+01:00",
            "0001-01-01T00:30:00+01:00",
        ] {
            let err = outside.parse::<Timestamp>().unwrap_err().to_string();
            assert!(err.contains("outside the years 0001 to 9999"), "{err}");
        }
        let last: Timestamp = "9999-12-31T23:59:59Z".parse().unwrap();
        assert_eq!(
            last.plus_secs(i64::MAX).to_string(),
            "9999-12-31T23:59:59.999999Z"
        );
        let first: Timestamp = "0001-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            first.plus_secs(-1).to_string(),
            "0001-01-01T00:00:00.000000Z"
        );
    }
}
