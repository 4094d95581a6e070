//! The freshness merge gate (`dcx status check-freshness`): reads the matrix
//! artifact, never the network, and fails on the policy
//! `--enforce-freshness` enforces, judged at the gate's own `now`.
//!
//! A matrix is a snapshot, so the gate also refuses one that cannot vouch
//! for the present:
//!
//! - the matrix is older than its own SLO, the tightest SLO of its active
//!   lanes (`--max-age-hours` when no row records one);
//! - a row that was fresh when the matrix was written is judged again at
//!   `now` from its recorded `generated_at`, `fresh_until` and SLO, so a
//!   report that aged past its SLO since the ingest is stale here too;
//! - a matrix with no rows (an ingest that could not load its registry)
//!   vouches for nothing.
//!
//! [`check_published`] also checks that the matrix and the log and Markdown
//! matrix beside it are one artifact set (they carry one set id, see
//! [`crate::publish`]); a set found mixed is read again once no ingest is
//! writing it, so one caught renaming its set into place is not reported.

use std::path::Path;

use dcx_sys::{LockMode, Wait};

use dcx_contracts::Timestamp;
use dcx_contracts::document::{self, LoadError, LoadLimits};
use dcx_contracts::status::{FreshnessState, LaneStatus, MatrixRow, RunnerStatusMatrix};

use crate::ingest::ArtifactPaths;
use crate::policy::{self, Breach, Judgement};
use crate::publish::{self, LOCK_FILE, SetError};

/// How the gate judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateSettings {
    /// The instant to judge at.
    pub now: Timestamp,
    /// The SLO of rows that record none, and of a matrix with no active row.
    pub max_age_hours: u64,
    /// The size cap on the matrix file (`--max-document-bytes`).
    pub documents: LoadLimits,
}

/// The gate's findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateReport {
    /// Every breach, the matrix's own first, then the lanes' in row order.
    pub breaches: Vec<Breach>,
    /// The SLO the matrix itself was judged by.
    pub matrix_slo_hours: u64,
    /// Lanes that were fresh at ingest time and are stale now.
    pub went_stale: Vec<String>,
}

impl GateReport {
    /// Whether the gate passes.
    pub fn passes(&self) -> bool {
        self.breaches.is_empty()
    }
}

/// Why the published set could not be judged.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The matrix could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The matrix, log and Markdown matrix are not one set.
    #[error(transparent)]
    Set(#[from] SetError),
}

/// Loads the matrix of `artifacts`, checks that the log and Markdown
/// matrix beside it carry its set id (a file that
/// does not exist is not compared), and judges it.
///
/// No lock is taken to read a whole set. A set found mixed may be an
/// ingest renaming its files right now: the matrix directory's
/// `.dcx-ingest.lock` is then taken shared (waiting for a writer to finish) and
/// the set read again, and only that reading counts. Where the lock cannot
/// be taken (no lock file, a read-only copy of the artifacts) no writer can
/// be at work, and the first reading counts.
pub fn check_published(artifacts: &ArtifactPaths, settings: &GateSettings) -> Result<GateReport, GateError> {
    let read = || -> Result<RunnerStatusMatrix, GateError> {
        let matrix =
            document::load_with::<RunnerStatusMatrix>(&artifacts.matrix_json, &settings.documents)?.document;
        publish::check_set(artifacts, matrix.set_id.as_deref(), &settings.documents)?;
        Ok(matrix)
    };
    let matrix = match read() {
        Err(GateError::Set(SetError::Mixed { .. })) => {
            let dir = match artifacts.matrix_json.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let lock_path = dir.join(LOCK_FILE);
            let _no_writer = lock_path
                .is_file()
                .then(|| dcx_sys::lock(&lock_path, LockMode::Shared, Wait::Block, |_| {}).ok())
                .flatten();
            read()?
        }
        other => other?,
    };
    Ok(check(&matrix, settings))
}

/// Judges `matrix` at `settings.now`.
pub(crate) fn check(matrix: &RunnerStatusMatrix, settings: &GateSettings) -> GateReport {
    let mut breaches = Vec::new();
    let active_slos = matrix
        .matrix_rows
        .iter()
        .filter(|row| policy::registry_status(row) == LaneStatus::Active)
        .filter_map(|row| row.freshness_slo_hours);
    let matrix_slo_hours = active_slos.min().unwrap_or(settings.max_age_hours);

    let age_seconds = settings
        .now
        .unix_seconds()
        .saturating_sub(matrix.updated_at.unix_seconds());
    let slo_seconds = i64::try_from(matrix_slo_hours.saturating_mul(3600)).unwrap_or(i64::MAX);
    if age_seconds < -policy::FUTURE_SKEW_SECONDS {
        breaches.push(Breach::MatrixFromTheFuture {
            updated_at: matrix.updated_at,
        });
    } else if age_seconds > slo_seconds {
        breaches.push(Breach::MatrixStale {
            updated_at: matrix.updated_at,
            age_seconds,
            slo_hours: matrix_slo_hours,
        });
    }
    if matrix.matrix_rows.is_empty() {
        breaches.push(Breach::MatrixEmpty);
    }

    let mut went_stale = Vec::new();
    let rows_now: Vec<MatrixRow> = matrix
        .matrix_rows
        .iter()
        .map(|row| {
            let mut row = row.clone();
            if row.freshness_state == FreshnessState::Fresh
                && let Some(age) = &row.status_report
            {
                let slo = policy::slo_hours(row.freshness_slo_hours, settings.max_age_hours);
                let judgement = policy::judge(settings.now, age.generated_at, age.fresh_until, slo);
                if matches!(judgement, Judgement::Stale { .. }) {
                    went_stale.push(row.runner_id.clone());
                    row.freshness_state = FreshnessState::Stale;
                }
            }
            row
        })
        .collect();
    breaches.extend(policy::row_breaches(&rows_now));
    GateReport {
        breaches,
        matrix_slo_hours,
        went_stale,
    }
}

#[cfg(test)]
mod tests {
    use dcx_contracts::status::{LaneClass, OverallStatus, PolicyEffect, StatusReportAge, StatusSource};

    use super::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn row(id: &str, class: LaneClass, registry: LaneStatus, freshness: FreshnessState) -> MatrixRow {
        let fresh = freshness != FreshnessState::Missing;
        MatrixRow {
            runner_id: id.to_owned(),
            implementation_repo: format!("dc-runner-{id}"),
            lane_class: class,
            runner_status: if fresh {
                OverallStatus::Pass
            } else {
                OverallStatus::Unknown
            },
            freshness_state: freshness,
            policy_effect: PolicyEffect::NonBlockingWarn,
            freshness_slo_hours: Some(72),
            status_source: Some(StatusSource {
                release_version: None,
                report_url: None,
                registry_status: registry,
            }),
            status_report: fresh.then(|| StatusReportAge {
                generated_at: ts("2026-02-20T00:00:00Z"),
                age_seconds: 43_200,
                age_hours: 12,
                fresh_until: ts("2026-02-23T00:00:00Z"),
            }),
        }
    }

    fn matrix(rows: Vec<MatrixRow>) -> RunnerStatusMatrix {
        RunnerStatusMatrix {
            version: 1,
            set_id: None,
            updated_at: ts("2026-02-20T12:00:00Z"),
            matrix_rows: rows,
        }
    }

    fn settings(now: &str) -> GateSettings {
        GateSettings {
            now: ts(now),
            max_age_hours: 72,
            documents: LoadLimits::default(),
        }
    }

    fn healthy() -> RunnerStatusMatrix {
        matrix(vec![
            row(
                "rust",
                LaneClass::Required,
                LaneStatus::Active,
                FreshnessState::Fresh,
            ),
            row(
                "python",
                LaneClass::CompatibilityNonBlocking,
                LaneStatus::Active,
                FreshnessState::Fresh,
            ),
            row(
                "node",
                LaneClass::CompatibilityNonBlocking,
                LaneStatus::Planned,
                FreshnessState::Missing,
            ),
        ])
    }

    #[test]
    fn a_healthy_recent_matrix_passes() {
        let report = check(&healthy(), &settings("2026-02-20T13:00:00Z"));
        assert!(report.passes(), "{:?}", report.breaches);
        assert_eq!(report.matrix_slo_hours, 72);
    }

    #[test]
    fn rows_that_aged_past_their_slo_since_the_ingest_fail() {
        let report = check(&healthy(), &settings("2026-02-23T00:00:01Z"));
        assert_eq!(report.went_stale, vec!["rust", "python"]);
        let lines: Vec<String> = report.breaches.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            vec![
                "required lane `rust` blocks merges: its telemetry is stale",
                "active compatibility lane `python` has stale telemetry (a freshness breach)",
            ]
        );
    }

    #[test]
    fn an_old_matrix_fails_on_its_own() {
        // Rows that vouch for themselves for a year cannot save a matrix
        // that nobody refreshed for a week.
        let mut old = healthy();
        for row in &mut old.matrix_rows {
            if let Some(age) = &mut row.status_report {
                age.fresh_until = ts("2027-02-20T00:00:00Z");
            }
            row.freshness_slo_hours = Some(24 * 365);
        }
        old.matrix_rows[1].freshness_slo_hours = Some(168);
        let report = check(&old, &settings("2026-02-27T12:00:01Z"));
        assert_eq!(report.matrix_slo_hours, 168);
        assert_eq!(
            report.breaches,
            vec![
                Breach::MatrixStale {
                    updated_at: ts("2026-02-20T12:00:00Z"),
                    age_seconds: 7 * 24 * 3600 + 1,
                    slo_hours: 168,
                },
                // The lane that sets the matrix's SLO went stale with it.
                Breach::CompatibilityTelemetry {
                    runner_id: "python".to_owned(),
                    freshness: FreshnessState::Stale,
                },
            ]
        );
    }

    #[test]
    fn the_effect_column_alone_cannot_pass_the_gate() {
        let mut forged = healthy();
        forged.matrix_rows[1].freshness_state = FreshnessState::Missing;
        forged.matrix_rows[1].status_report = None;
        forged.matrix_rows[1].policy_effect = PolicyEffect::NonBlockingWarn;
        let report = check(&forged, &settings("2026-02-20T13:00:00Z"));
        assert_eq!(report.breaches.len(), 1);
        assert_eq!(report.breaches[0].runner_id(), Some("python"));
    }

    #[test]
    fn an_empty_or_future_matrix_fails() {
        let report = check(&matrix(Vec::new()), &settings("2026-02-20T13:00:00Z"));
        assert_eq!(report.breaches, vec![Breach::MatrixEmpty]);
        let report = check(&healthy(), &settings("2026-02-20T11:54:59Z"));
        assert_eq!(
            report.breaches,
            vec![Breach::MatrixFromTheFuture {
                updated_at: ts("2026-02-20T12:00:00Z")
            }]
        );
    }
}
