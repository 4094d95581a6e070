//! RFC 3339 instants.
//!
//! dcx accepts any RFC 3339 instant (fractional seconds, any offset) and
//! writes UTC with a `Z` suffix and whole seconds, so the same instant always
//! serializes to the same bytes no matter how a producer spelled it.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant read from an RFC 3339 string and normalized to whole UTC
/// seconds (fractions are truncated).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

/// Why a string is not an RFC 3339 instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected an RFC 3339 instant such as 2026-02-20T00:00:00Z (date, 'T', time and an offset), got {found:?}"
)]
pub struct InvalidTimestamp {
    /// The rejected text, truncated to 80 characters.
    pub found: String,
}

impl Timestamp {
    /// Wraps a [`jiff::Timestamp`], truncating it to whole seconds.
    pub fn from_jiff(instant: jiff::Timestamp) -> Self {
        // `as_second` floors toward negative infinity for instants before the
        // epoch, which is the truncation we want for all real dates.
        match jiff::Timestamp::from_second(instant.as_second()) {
            Ok(whole) => Self(whole),
            Err(_) => Self(instant),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        jiff::Timestamp::from_second(seconds).ok().map(Self)
    }

    /// The underlying [`jiff::Timestamp`].
    pub fn as_jiff(&self) -> jiff::Timestamp {
        self.0
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.0.as_second()
    }

    /// Parses an RFC 3339 instant: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    ///
    /// A lower-case `t`/`z` or a space for `T` is refused: they are RFC 3339
    /// allowances that upstream tooling does not read, so accepting them
    /// would let a document pass here and fail elsewhere.
    pub fn parse(text: &str) -> Result<Self, InvalidTimestamp> {
        let invalid = || InvalidTimestamp {
            found: text.chars().take(80).collect(),
        };
        if !looks_like_rfc3339(text) {
            return Err(invalid());
        }
        let instant: jiff::Timestamp = text.parse().map_err(|_| invalid())?;
        Ok(Self::from_jiff(instant))
    }
}

/// Shape check jiff does not do for us: jiff also reads ISO 8601 forms that
/// RFC 3339 forbids (week dates, `-0000`-less offsets, bracketed zones).
fn looks_like_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
        // jiff reads a leap second `:60` as `:59`; JSON Schema's date-time
        // validators and most peers refuse it, so dcx does too.
        || b[17] > b'5'
    {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let frac = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return false;
        }
        rest = &after_dot[frac..];
    }
    match rest {
        b"Z" => true,
        [sign, h1, h2, b':', m1, m2] => {
            (*sign == b'+' || *sign == b'-') && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // jiff prints whole-second UTC instants as `YYYY-MM-DDTHH:MM:SSZ`.
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(instant: jiff::Timestamp) -> Self {
        Self::from_jiff(instant)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Failing inside the visitor lets format deserializers attach the
        // position of the offending scalar.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Timestamp, E> {
                Timestamp::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An RFC 3339 instant. dcx writes UTC with a Z suffix and whole seconds.",
            "type": "string",
            "format": "date-time",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_offsets_and_fractions_and_normalizes() {
        for (input, normalized) in [
            ("2026-02-20T00:00:00Z", "2026-02-20T00:00:00Z"),
            ("2026-02-20T12:00:00.5Z", "2026-02-20T12:00:00Z"),
            ("2025-12-21T18:32:08.114084+00:00", "2025-12-21T18:32:08Z"),
            ("2026-02-20T01:30:00+01:30", "2026-02-20T00:00:00Z"),
            ("2026-02-19T19:00:00-05:00", "2026-02-20T00:00:00Z"),
        ] {
            let ts = Timestamp::parse(input).unwrap();
            assert_eq!(ts.to_string(), normalized, "{input}");
            assert_eq!(Timestamp::parse(&ts.to_string()).unwrap(), ts);
        }
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for bad in [
            "",
            "2026-02-20",
            "2026-02-20T00:00:00",
            "2026-02-20 00:00:00Z",
            "2026-02-20t00:00:00z",
            "2026-02-20T00:00Z",
            "2026-02-20T00:00:00.Z",
            "2026-02-20T00:00:00+0100",
            "2026-02-30T00:00:00Z",
            "2026-02-20T25:00:00Z",
            "2016-12-31T23:59:60Z",
            "2026-02-20T00:00:00Z[UTC]",
            "1771545600",
            "yesterday",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            Timestamp::parse("2026-02-20").unwrap_err().to_string(),
            "expected an RFC 3339 instant such as 2026-02-20T00:00:00Z (date, 'T', time and an offset), got \"2026-02-20\""
        );
    }

    #[test]
    fn unix_seconds_round_trip() {
        let ts = Timestamp::parse("2026-02-20T00:00:00Z").unwrap();
        assert_eq!(ts.unix_seconds(), 1_771_545_600);
        assert_eq!(Timestamp::from_unix_seconds(1_771_545_600), Some(ts));
    }
}
