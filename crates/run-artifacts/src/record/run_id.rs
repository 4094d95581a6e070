//! Run ids: `run_YYYYMMDD_HHMMSS_ffffff`, UTC with microseconds.
//!
//! Upstream's `run_YYYYMMDD_HHMMSS` has one-second resolution, so two runs
//! in the same second shared a directory (RB B.9 #6). dcx keeps that prefix,
//! so old and new ids sort together as plain strings (which is how GC orders
//! them), adds microseconds, and claims the directory with `create_dir`:
//! if it exists the id moves on by a microsecond, so ids never collide. A new
//! id is also never below the newest existing one, so a wall clock that
//! steps back cannot make GC take the newest run for an old one.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::layout::RUN_DIR_PREFIX;

/// A run id, as microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RunId(i64);

impl RunId {
    /// The id of a run started at `instant`.
    pub(super) fn at(instant: Timestamp) -> Self {
        Self(instant.as_microsecond())
    }

    /// Reads an id in dcx's form or upstream's (whole seconds); `None` for
    /// other names.
    pub(super) fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix(RUN_DIR_PREFIX)?;
        let (date_time, micros) = match rest.len() {
            15 => (rest, 0),
            22 if rest.as_bytes()[15] == b'_' => (&rest[..15], digits(&rest[16..])?),
            _ => return None,
        };
        if date_time.as_bytes()[8] != b'_' {
            return None;
        }
        let date = digits(&date_time[..8])?;
        let time = digits(&date_time[9..])?;
        let civil = DateTime::new(
            i16::try_from(date / 10_000).ok()?,
            i8::try_from(date / 100 % 100).ok()?,
            i8::try_from(date % 100).ok()?,
            i8::try_from(time / 10_000).ok()?,
            i8::try_from(time / 100 % 100).ok()?,
            i8::try_from(time % 100).ok()?,
            0,
        )
        .ok()?;
        let seconds = civil.to_zoned(TimeZone::UTC).ok()?.timestamp().as_second();
        Some(Self(seconds.checked_mul(1_000_000)?.checked_add(micros)?))
    }

    /// The next id: one microsecond later.
    pub(super) fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instant = Timestamp::from_microsecond(self.0).map_err(|_| fmt::Error)?;
        let civil = instant.to_zoned(TimeZone::UTC).datetime();
        write!(
            f,
            "{RUN_DIR_PREFIX}{:04}{:02}{:02}_{:02}{:02}{:02}_{:06}",
            civil.year(),
            civil.month(),
            civil.day(),
            civil.hour(),
            civil.minute(),
            civil.second(),
            self.0.rem_euclid(1_000_000),
        )
    }
}

/// How many times allocation moves on past an existing directory before it
/// gives up; only reachable when something else creates directories in a
/// tight loop.
const MAX_ATTEMPTS: usize = 10_000;

/// Claims a fresh run directory in `product_dir` for a run started at
/// `now`: returns its id and path. `existing` are the product's run
/// directory names.
pub(crate) fn allocate(
    product_dir: &Path,
    existing: &[String],
    now: Timestamp,
) -> io::Result<(String, PathBuf)> {
    std::fs::create_dir_all(product_dir)?;
    let newest = existing.iter().filter_map(|name| RunId::parse(name)).max();
    let mut id = RunId::at(now);
    if let Some(newest) = newest
        && id <= newest
    {
        id = newest.next();
    }
    for _ in 0..MAX_ATTEMPTS {
        let name = id.to_string();
        let path = product_dir.join(&name);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok((name, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => id = id.next(),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free run id after {MAX_ATTEMPTS} attempts"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn formats_and_parses_both_forms() {
        let id = RunId::at(ts("2025-12-21T18:32:08.114084Z"));
        assert_eq!(id.to_string(), "run_20251221_183208_114084");
        assert_eq!(RunId::parse("run_20251221_183208_114084"), Some(id));
        assert_eq!(
            RunId::parse("run_20251221_183208"),
            Some(RunId::at(ts("2025-12-21T18:32:08Z")))
        );
        for other in [
            "run_manual",
            "run_20251321_183208",
            "run_2025122_183208",
            "run_20251221-183208",
            "x",
        ] {
            assert_eq!(RunId::parse(other), None, "{other}");
        }
    }

    #[test]
    fn ids_sort_by_time_as_strings() {
        let ids = [
            "2025-12-21T18:32:08Z",
            "2025-12-21T18:32:08.000001Z",
            "2025-12-21T18:32:09Z",
            "2026-01-01T00:00:00Z",
        ]
        .map(|t| RunId::at(ts(t)).to_string());
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
        // Upstream's whole-second ids sort before dcx's ids of that second.
        assert!("run_20251221_183208" < ids[0].as_str());
    }

    #[test]
    fn allocation_never_collides_nor_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let now = ts("2026-02-20T12:00:00Z");
        let (first, _) = allocate(dir.path(), &[], now).unwrap();
        let (second, path) = allocate(dir.path(), &[], now).unwrap();
        assert_eq!(first, "run_20260220_120000_000000");
        assert_eq!(second, "run_20260220_120000_000001");
        assert!(path.is_dir());
        // The clock stepped back a day: the id still follows the newest run.
        let existing = vec![first.clone(), second.clone()];
        let (third, _) = allocate(dir.path(), &existing, ts("2026-02-19T12:00:00Z")).unwrap();
        assert_eq!(third, "run_20260220_120000_000002");
        let (upstream_next, _) = allocate(dir.path(), &["run_20300101_000000".to_owned()], now).unwrap();
        assert_eq!(upstream_next, "run_20300101_000000_000001");
    }
}
