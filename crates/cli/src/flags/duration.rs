//! Durations on the command line of the status exchange: `--timeout`,
//! `--command-timeout`, `--fresh-for` (`30s`, `10m`, `72h`, `1h30m`).
//!
//! `dcx certify --timeout` reads the certification registry's own grammar
//! instead (`dcx_certification::parse_duration`), so that a value can be
//! copied between the flag and the registry.

use std::time::Duration;

/// A positive duration as jiff reads it (`30s`, `1h30m`, ISO 8601 `PT30S`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let span: jiff::SignedDuration = text
        .parse()
        .map_err(|e| format!("expected a duration such as 30s, 10m or 72h: {e}"))?;
    Duration::try_from(span)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a positive duration, got {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("72h"), Ok(Duration::from_secs(72 * 3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
