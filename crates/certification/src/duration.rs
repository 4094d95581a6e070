//! Timeouts as people write them: `300s`, `5m`, `1h`, `1500ms`.

use std::time::Duration;

/// Why a text is not a timeout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected a positive duration such as 300s, 5m, 1h or 1500ms (a bare number is seconds), got {found:?}"
)]
pub struct InvalidDuration {
    /// The rejected text.
    pub found: String,
}

/// Parses a positive whole number followed by `ms`, `s`, `m` or `h`; a bare
/// number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, InvalidDuration> {
    let invalid = || InvalidDuration {
        found: text.chars().take(80).collect(),
    };
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let duration = match unit {
        "ms" => Some(Duration::from_millis(number)),
        "" | "s" => Some(Duration::from_secs(number)),
        "m" => number.checked_mul(60).map(Duration::from_secs),
        "h" => number.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    };
    duration.filter(|d| !d.is_zero()).ok_or_else(invalid)
}

/// The shortest exact spelling [`parse_duration`] reads back: `2s`, `5m`,
/// `1500ms`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    match duration.as_secs() {
        0 => "0s".to_owned(),
        s if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        s if s.is_multiple_of(60) => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit_and_round_trips() {
        for (text, expected) in [
            ("300s", Duration::from_secs(300)),
            ("2", Duration::from_secs(2)),
            ("5m", Duration::from_secs(300)),
            ("1h", Duration::from_secs(3600)),
            ("1500ms", Duration::from_millis(1500)),
        ] {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
            assert_eq!(parse_duration(&format_duration(expected)), Ok(expected));
        }
        assert_eq!(format_duration(Duration::from_secs(300)), "5m");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    }

    #[test]
    fn refuses_zero_units_and_garbage() {
        for bad in [
            "",
            "0s",
            "0",
            "s",
            "5 m",
            "-5s",
            "5d",
            "1.5s",
            "99999999999999999999h",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err(InvalidDuration {
                    found: bad.to_owned()
                }),
                "{bad:?}"
            );
        }
    }
}
