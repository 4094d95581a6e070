//! `--now` and the one decision of what time it is.
//!
//! Every command that reads the clock takes `--now` (flatten [`NowArg`]):
//! an RFC 3339 instant that pins the wall clock, for tests and reproducible
//! artifacts. What the command then reads is a [`WallClock`]:
//!
//! 1. `--now` when given;
//! 2. else, for commands that write reproducible artifacts
//!    ([`NowArg::reproducible_clock`]: `dcx bundle`), `SOURCE_DATE_EPOCH`
//!    when set (reproducible-builds.org);
//! 3. else the system clock, read when the command asks (so a report's
//!    `generated_at` is the moment its commands have ended).
//!
//! Durations are measured on the monotonic clock whatever `--now` says.
//! Each command words the flag's help for what it pins, with
//! `#[command(mut_arg(NOW, …))]` on its arguments.

use std::time::Instant;

use clap::Args;
use dcx_contracts::Timestamp;

/// The id of the `--now` argument, for `mut_arg`.
pub(crate) const NOW: &str = "now";

/// `--now TIME`.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct NowArg {
    /// Use this RFC 3339 instant instead of the clock.
    #[arg(long, value_name = "TIME", value_parser = parse_timestamp)]
    now: Option<Timestamp>,
}

impl NowArg {
    /// `--now`, else the system clock.
    pub(crate) fn clock(self) -> WallClock {
        WallClock { pinned: self.now }
    }

    /// `--now`, else `SOURCE_DATE_EPOCH`, else the system clock.
    /// `SOURCE_DATE_EPOCH` is not read when `--now` is given.
    pub(crate) fn reproducible_clock(self) -> Result<WallClock, SourceDateEpochError> {
        if self.now.is_some() {
            return Ok(self.clock());
        }
        let pinned = match source_date_epoch()? {
            Some(seconds) => Some(
                i64::try_from(seconds)
                    .ok()
                    .and_then(Timestamp::from_unix_seconds)
                    .ok_or(SourceDateEpochError::OutOfRange(seconds))?,
            ),
            None => None,
        };
        Ok(WallClock { pinned })
    }
}

/// An RFC 3339 instant, as `--now` takes it.
fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|e| e.to_string())
}

/// The wall clock a command reads: pinned by `--now` (or
/// `SOURCE_DATE_EPOCH`), else the system's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallClock {
    pinned: Option<Timestamp>,
}

impl WallClock {
    /// The current instant (whole seconds, UTC).
    #[allow(clippy::disallowed_methods)] // The one reading of the clock.
    pub(crate) fn timestamp(&self) -> Timestamp {
        self.pinned
            .unwrap_or_else(|| Timestamp::from_jiff(jiff::Timestamp::now()))
    }
}

impl dcx_run_artifacts::Clock for WallClock {
    #[allow(clippy::disallowed_methods)] // The same reading, unrounded.
    fn now(&self) -> jiff::Timestamp {
        self.pinned
            .map_or_else(jiff::Timestamp::now, |pinned| pinned.as_jiff())
    }

    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// `SOURCE_DATE_EPOCH` that is not a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceDateEpochError {
    /// Not a non-negative integer.
    NotSeconds(String),
    /// Seconds past what a timestamp holds.
    OutOfRange(u64),
}

impl std::fmt::Display for SourceDateEpochError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceDateEpochError::NotSeconds(text) => write!(
                f,
                "SOURCE_DATE_EPOCH must be a non-negative integer (seconds since 1970-01-01), got {text:?}"
            ),
            SourceDateEpochError::OutOfRange(seconds) => {
                write!(f, "SOURCE_DATE_EPOCH {seconds} is out of range")
            }
        }
    }
}

/// `SOURCE_DATE_EPOCH` (reproducible-builds.org): unset or empty is `None`.
pub(crate) fn source_date_epoch() -> Result<Option<u64>, SourceDateEpochError> {
    match super::env::non_empty("SOURCE_DATE_EPOCH") {
        Some(text) => text
            .parse::<u64>()
            .map(Some)
            .map_err(|_| SourceDateEpochError::NotSeconds(text)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcx_run_artifacts::Clock as _;

    #[test]
    fn now_pins_every_reading_of_the_wall_clock() {
        let pinned = Timestamp::parse("2026-11-22T12:00:00Z").unwrap();
        let clock = NowArg { now: Some(pinned) }.clock();
        assert_eq!(clock.timestamp(), pinned);
        assert_eq!(clock.now(), pinned.as_jiff());
        // --now wins over SOURCE_DATE_EPOCH, which is then not even read.
        let reproducible = NowArg { now: Some(pinned) }.reproducible_clock().unwrap();
        assert_eq!(reproducible.timestamp(), pinned);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // To compare with the clock.
    fn without_now_the_system_clock_is_read() {
        let before = jiff::Timestamp::now();
        let read = NowArg { now: None }.clock().now();
        assert!(read >= before, "{read} < {before}");
    }

    #[test]
    fn source_date_epoch_errors_say_what_is_expected() {
        assert_eq!(
            SourceDateEpochError::NotSeconds("soon".to_owned()).to_string(),
            "SOURCE_DATE_EPOCH must be a non-negative integer (seconds since 1970-01-01), got \"soon\""
        );
        assert_eq!(
            SourceDateEpochError::OutOfRange(u64::MAX).to_string(),
            format!("SOURCE_DATE_EPOCH {} is out of range", u64::MAX)
        );
    }
}
