//! Rollback protection: the ingest state file
//! (`runner_status_ingest_state_v1`, [`IngestState`]).
//!
//! Ingest remembers, per lane, the newest report it accepted: its
//! `release_version`, `generated_at`, the sha256 of its bytes and when it was
//! accepted. The next ingest compares each lane's report with that entry
//! ([`judge`]):
//!
//! | the new report's `generated_at` | its bytes | verdict |
//! |---|---|---|
//! | newer than the entry's | any | accepted; the entry moves forward |
//! | equal | the same sha256 | accepted (the same report, ingested again); the entry stays |
//! | equal | another sha256 | `rollback_detected`: the content changed without a newer `generated_at` |
//! | older | any | `rollback_detected`: a rollback or a replayed report |
//!
//! A rolled-back lane is `missing` and its entry is not touched, so the
//! newest accepted report stays the reference. Lanes that fail for any other
//! reason keep their entry too, and so do lanes that left the registry (so
//! removing and re-adding a lane cannot roll it back). A lane "accepted" a
//! report when the report passed every check: fresh or stale, it is the
//! lane's report.
//!
//! The file is read and validated through the contracts loader at the start
//! of an ingest ([`read`]) and published with the artifacts, as the last
//! file of their set ([`crate::publish`]), under the lock that was taken
//! before it was read: two ingests never interleave their read–modify–write.
//! A state file that cannot be read or is not a
//! valid `runner_status_ingest_state_v1` is never trusted, not even in part:
//! ingest warns, starts from an empty state, and the write keeps the corrupt
//! file as `<name>.corrupt-<now>` (nothing is lost) before writing the
//! state rebuilt from this run's accepted reports. A missing file is a first
//! run: an empty state, no warning.
//!
//! The state only ever moves forward; freshness does the rest. A mirror that
//! keeps replaying the last accepted report passes the rollback check, but
//! that report ages past its SLO and `fresh_until` like any other, so a
//! frozen lane turns stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dcx_contracts::document::{self, LoadError, LoadLimits};
use dcx_contracts::status::{IngestState, IngestStateLane, RunnerStatusReport};
use dcx_contracts::{Sha256Hex, Timestamp};

/// The file name of the state file, beside the artifacts.
pub(crate) const STATE_JSON: &str = "runner-status-ingest-state.json";

/// The state file as an ingest found it.
#[derive(Debug)]
pub(crate) struct StateRead {
    /// What to judge reports against: the file's entries, or nothing when
    /// the file is missing or corrupt.
    pub state: IngestState,
    /// Set when the file exists but could not be trusted.
    pub corrupt: Option<Corrupt>,
    /// Non-fatal findings (unknown fields), each naming the file.
    pub warnings: Vec<String>,
}

/// A state file that exists but was not used.
#[derive(Debug)]
pub(crate) struct Corrupt {
    /// Why: the loader's error (syntax, version, field or semantic rule).
    pub error: LoadError,
    /// Where the file is moved before the rebuilt state is written.
    pub aside: PathBuf,
}

impl StateRead {
    /// The warning that reports a corrupt file, if it was.
    pub(crate) fn corrupt_warning(&self, path: &Path) -> Option<String> {
        let corrupt = self.corrupt.as_ref()?;
        Some(format!(
            "ingest state {} is corrupt and was not used: {}; it is kept as {} and the state is rebuilt \
             from this run's accepted reports (rollback protection restarts from them)",
            path.display(),
            corrupt.error,
            corrupt.aside.display()
        ))
    }
}

/// Reads and validates the state file at `path` (within `limits`, like any
/// document). A missing file is an empty state; any other failure is a
/// [`Corrupt`] file, to be moved aside to [`aside_path`]`(path, now)`.
pub(crate) fn read(path: &Path, now: Timestamp, limits: &LoadLimits) -> StateRead {
    match document::load_with::<IngestState>(path, limits) {
        Ok(loaded) => {
            let origin = path.display();
            StateRead {
                state: loaded.document,
                corrupt: None,
                warnings: loaded.warnings.iter().map(|w| format!("{origin}: {w}")).collect(),
            }
        }
        Err(LoadError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => StateRead {
            state: IngestState::empty(now),
            corrupt: None,
            warnings: Vec::new(),
        },
        Err(error) => StateRead {
            state: IngestState::empty(now),
            corrupt: Some(Corrupt {
                error,
                aside: aside_path(path, now),
            }),
            warnings: Vec::new(),
        },
    }
}

/// Where a corrupt state file at `path` is kept: `<name>.corrupt-<now>`
/// (`now` as `YYYYMMDDTHHMMSSZ`) in the same directory, with `-2`, `-3`, …
/// appended when that name is taken.
pub(crate) fn aside_path(path: &Path, now: Timestamp) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| STATE_JSON.to_owned());
    let stamp = now.as_jiff().strftime("%Y%m%dT%H%M%SZ").to_string();
    let base = path.with_file_name(format!("{name}.corrupt-{stamp}"));
    let mut candidate = base.clone();
    let mut n = 2u32;
    while candidate.symlink_metadata().is_ok() {
        candidate = path.with_file_name(format!("{name}.corrupt-{stamp}-{n}"));
        n += 1;
    }
    candidate
}

/// What a lane's report is, measured against the lane's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No entry: the lane's first accepted report.
    First,
    /// The entry's report again, byte for byte.
    Same,
    /// Newer than the entry's.
    Newer,
    /// Older than the entry's, or as old with other bytes; the message says
    /// which, naming both instants.
    Rollback(String),
}

/// Judges `report` (whose bytes hash to `sha256`) against the lane's entry.
pub(crate) fn judge(
    entry: Option<&IngestStateLane>,
    report: &RunnerStatusReport,
    sha256: &Sha256Hex,
) -> Verdict {
    let Some(entry) = entry else {
        return Verdict::First;
    };
    if report.generated_at > entry.generated_at {
        return Verdict::Newer;
    }
    let last = format!(
        "the last accepted {} (release {}, accepted at {})",
        entry.generated_at, entry.release_version, entry.accepted_at
    );
    if report.generated_at < entry.generated_at {
        return Verdict::Rollback(format!(
            "report generated_at {} (release {}) is older than {last}; a rollback or a replayed report, \
             not used",
            report.generated_at, report.release_version
        ));
    }
    if *sha256 == entry.report_sha256 {
        Verdict::Same
    } else {
        Verdict::Rollback(format!(
            "report generated_at {} (release {}) is as old as {last} but its content differs (sha256 {sha256}, \
             accepted {}); a report cannot change without a newer generated_at: a replayed or altered \
             report, not used",
            report.generated_at, report.release_version, entry.report_sha256
        ))
    }
}

/// The state after an ingest: `prior` with each accepted report's entry
/// moved forward. `accepted` holds one entry per lane whose report passed
/// every check; an entry with the same `generated_at` as the prior one keeps
/// the prior one (and its `accepted_at`). Lanes are sorted by `runner_id`.
pub(crate) fn advance(
    prior: &IngestState,
    accepted: impl IntoIterator<Item = IngestStateLane>,
    now: Timestamp,
) -> IngestState {
    let mut lanes: BTreeMap<String, IngestStateLane> = prior
        .lanes
        .iter()
        .map(|lane| (lane.runner_id.clone(), lane.clone()))
        .collect();
    for lane in accepted {
        match lanes.get(&lane.runner_id) {
            Some(kept) if kept.generated_at >= lane.generated_at => {}
            _ => {
                lanes.insert(lane.runner_id.clone(), lane);
            }
        }
    }
    IngestState {
        version: 1,
        updated_at: now,
        set_id: None,
        lanes: lanes.into_values().collect(),
    }
}

/// The state an ingest leaves behind, to be published with the artifacts
/// ([`crate::publish::SetLock::publish`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateUpdate {
    /// The state file.
    pub path: PathBuf,
    /// The state to write.
    pub state: IngestState,
    /// Where the corrupt file found at `path` is kept before it is
    /// replaced, if it was corrupt.
    pub corrupt_aside: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcx_contracts::digest::sha256_bytes;
    use dcx_contracts::status::{LaneClass, OverallStatus};

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn entry(generated_at: &str, bytes: &[u8]) -> IngestStateLane {
        IngestStateLane {
            runner_id: "rust".to_owned(),
            release_version: "v1.4.0".to_owned(),
            generated_at: ts(generated_at),
            report_sha256: sha256_bytes(bytes),
            report_url: "https://example.invalid/report.json".to_owned(),
            accepted_at: ts("2026-11-20T06:00:00Z"),
        }
    }

    fn report(generated_at: &str) -> RunnerStatusReport {
        RunnerStatusReport {
            version: 1,
            runner_id: "rust".to_owned(),
            implementation_repo: "dc-runner-rust".to_owned(),
            release_version: "v1.3.0".to_owned(),
            commit_sha: "0".repeat(40),
            generated_at: ts(generated_at),
            lane_class: LaneClass::Required,
            overall_status: OverallStatus::Pass,
            fresh_until: ts("2036-01-01T00:00:00Z"),
            command_results: Vec::new(),
            artifact_refs: Vec::new(),
        }
    }

    #[test]
    fn verdicts() {
        let last = entry("2026-11-20T00:00:00Z", b"accepted");
        let same = sha256_bytes(b"accepted");
        let other = sha256_bytes(b"other");
        assert_eq!(
            judge(None, &report("2026-11-01T00:00:00Z"), &other),
            Verdict::First
        );
        assert_eq!(
            judge(Some(&last), &report("2026-11-21T00:00:00Z"), &other),
            Verdict::Newer
        );
        assert_eq!(
            judge(Some(&last), &report("2026-11-20T00:00:00Z"), &same),
            Verdict::Same
        );
        assert_eq!(
            judge(Some(&last), &report("2026-11-01T00:00:00Z"), &same),
            Verdict::Rollback(
                "report generated_at 2026-11-01T00:00:00Z (release v1.3.0) is older than the last accepted \
                 2026-11-20T00:00:00Z (release v1.4.0, accepted at 2026-11-20T06:00:00Z); a rollback or a \
                 replayed report, not used"
                    .to_owned()
            )
        );
        let Verdict::Rollback(changed) = judge(Some(&last), &report("2026-11-20T00:00:00Z"), &other) else {
            panic!("same instant, other bytes must be a rollback");
        };
        assert!(
            changed.contains("is as old as the last accepted 2026-11-20T00:00:00Z"),
            "{changed}"
        );
        assert!(
            changed.contains(&format!("sha256 {other}, accepted {same}")),
            "{changed}"
        );
    }

    #[test]
    fn advance_moves_forward_only_and_keeps_other_lanes() {
        let mut python = entry("2026-11-10T00:00:00Z", b"python");
        python.runner_id = "python".to_owned();
        let prior = IngestState {
            version: 1,
            updated_at: ts("2026-11-20T06:00:00Z"),
            set_id: None,
            lanes: vec![entry("2026-11-20T00:00:00Z", b"accepted"), python.clone()],
        };
        let now = ts("2026-11-22T00:00:00Z");
        let mut again = entry("2026-11-20T00:00:00Z", b"accepted");
        again.accepted_at = now;
        let kept = advance(&prior, [again], now);
        assert_eq!(kept.updated_at, now);
        // Sorted, and the first acceptance is remembered.
        assert_eq!(kept.lanes, vec![python.clone(), prior.lanes[0].clone()]);

        let newer = entry("2026-11-21T00:00:00Z", b"newer");
        let moved = advance(&prior, [newer.clone()], now);
        assert_eq!(moved.lanes, vec![python, newer]);
    }

    #[test]
    fn aside_names_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STATE_JSON);
        let now = ts("2026-11-22T12:00:00Z");
        let first = aside_path(&path, now);
        assert_eq!(
            first,
            dir.path()
                .join("runner-status-ingest-state.json.corrupt-20261122T120000Z")
        );
        std::fs::write(&first, b"x").unwrap();
        assert_eq!(
            aside_path(&path, now),
            dir.path()
                .join("runner-status-ingest-state.json.corrupt-20261122T120000Z-2")
        );
    }
}
