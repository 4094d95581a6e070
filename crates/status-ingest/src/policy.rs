//! Freshness and policy, exactly as DESIGN.md "Decisions … Status exchange"
//! settles them. Ingest and the freshness gate both judge lanes here, so the
//! gate can never disagree with the matrix it reads.
//!
//! - Age is measured in seconds. A lane is fresh iff
//!   `now - generated_at <= SLO` and `now <= fresh_until`; the SLO is the
//!   lane's `freshness_slo_hours`, else `--max-age-hours` (72).
//! - A `generated_at` more than [`FUTURE_SKEW_SECONDS`] ahead of `now` makes
//!   the report invalid.
//! - A required lane is `blocking_fail` when its status is fail, degraded or
//!   unknown, or its telemetry is stale or missing; an active compatibility
//!   lane is `non_blocking_fail` when stale or missing; everything else is
//!   `non_blocking_warn`. Planned and disabled lanes are never a breach.

use std::fmt;

use dcx_contracts::Timestamp;
use dcx_contracts::status::{FreshnessState, LaneClass, LaneStatus, MatrixRow, OverallStatus, PolicyEffect};

/// The fallback SLO, in hours, for lanes without `freshness_slo_hours`
/// (seed 000: "older than 72 hours is stale").
pub const DEFAULT_MAX_AGE_HOURS: u64 = 72;

/// How far in the future a report's `generated_at` may lie (clock skew
/// between the runner's release job and the ingest) before it is invalid.
pub(crate) const FUTURE_SKEW_SECONDS: i64 = 5 * 60;

/// The freshness of one report at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// Within the SLO and the producer's `fresh_until`.
    Fresh {
        /// `now - generated_at` (negative within the allowed skew).
        age_seconds: i64,
    },
    /// A valid report that is too old by at least one of the two measures.
    Stale {
        /// `now - generated_at`.
        age_seconds: i64,
        /// The age exceeds the SLO.
        beyond_slo: bool,
        /// `now` is past the producer's `fresh_until`.
        past_fresh_until: bool,
    },
    /// `generated_at` lies more than [`FUTURE_SKEW_SECONDS`] after `now`: the
    /// report is invalid, not fresh (upstream counted it as fresh forever).
    FromTheFuture {
        /// `generated_at - now`.
        ahead_seconds: i64,
    },
}

impl Judgement {
    /// The matrix state: an invalid report is `missing`, not `stale`.
    pub(crate) fn state(&self) -> FreshnessState {
        match self {
            Judgement::Fresh { .. } => FreshnessState::Fresh,
            Judgement::Stale { .. } => FreshnessState::Stale,
            Judgement::FromTheFuture { .. } => FreshnessState::Missing,
        }
    }
}

/// Judges a report produced at `generated_at` that vouches for itself until
/// `fresh_until`, at `now`, against an SLO of `slo_hours`.
pub(crate) fn judge(
    now: Timestamp,
    generated_at: Timestamp,
    fresh_until: Timestamp,
    slo_hours: u64,
) -> Judgement {
    let age_seconds = now.unix_seconds().saturating_sub(generated_at.unix_seconds());
    if age_seconds < -FUTURE_SKEW_SECONDS {
        return Judgement::FromTheFuture {
            ahead_seconds: -age_seconds,
        };
    }
    let slo_seconds = i64::try_from(slo_hours.saturating_mul(3600)).unwrap_or(i64::MAX);
    let beyond_slo = age_seconds > slo_seconds;
    let past_fresh_until = now > fresh_until;
    if beyond_slo || past_fresh_until {
        Judgement::Stale {
            age_seconds,
            beyond_slo,
            past_fresh_until,
        }
    } else {
        Judgement::Fresh { age_seconds }
    }
}

/// The SLO a lane is judged by: its own `freshness_slo_hours`, else the
/// ingest's `--max-age-hours`. (Upstream printed `--max-age-hours` as "the"
/// SLO while every lane's own value silently won; the matrix now records the
/// one actually used per row.)
pub(crate) fn slo_hours(lane_slo_hours: Option<u64>, max_age_hours: u64) -> u64 {
    lane_slo_hours.unwrap_or(max_age_hours)
}

/// The policy effect of a lane.
pub(crate) fn effect(
    class: LaneClass,
    registry_status: LaneStatus,
    runner_status: OverallStatus,
    freshness: FreshnessState,
) -> PolicyEffect {
    if registry_status != LaneStatus::Active {
        return PolicyEffect::NonBlockingWarn;
    }
    let telemetry_ok = freshness == FreshnessState::Fresh;
    match class {
        LaneClass::Required => {
            let status_ok = runner_status == OverallStatus::Pass;
            if status_ok && telemetry_ok {
                PolicyEffect::NonBlockingWarn
            } else {
                PolicyEffect::BlockingFail
            }
        }
        LaneClass::CompatibilityNonBlocking => {
            if telemetry_ok {
                PolicyEffect::NonBlockingWarn
            } else {
                PolicyEffect::NonBlockingFail
            }
        }
    }
}

/// The registry status a matrix row records. A row without `status_source`
/// (a matrix another tool wrote) is treated as active, so the gate fails
/// closed rather than waving an unknown lane through.
pub(crate) fn registry_status(row: &MatrixRow) -> LaneStatus {
    row.status_source
        .as_ref()
        .map_or(LaneStatus::Active, |source| source.registry_status)
}

/// Why a lane, or the matrix itself, fails the freshness policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    /// A required lane is `blocking_fail`.
    RequiredLane {
        /// The lane id.
        runner_id: String,
        /// The runner's verdict.
        runner_status: OverallStatus,
        /// The lane's freshness.
        freshness: FreshnessState,
    },
    /// An active compatibility lane's telemetry is stale or missing.
    CompatibilityTelemetry {
        /// The lane id.
        runner_id: String,
        /// `stale` or `missing`.
        freshness: FreshnessState,
    },
    /// The matrix is older than its own SLO: it cannot vouch for any lane.
    MatrixStale {
        /// The matrix's `updated_at`.
        updated_at: Timestamp,
        /// Its age at the gate's `now`.
        age_seconds: i64,
        /// The SLO it was judged by.
        slo_hours: u64,
    },
    /// The matrix's `updated_at` lies in the future.
    MatrixFromTheFuture {
        /// The matrix's `updated_at`.
        updated_at: Timestamp,
    },
    /// The matrix has no rows: its ingest could not load the registry.
    MatrixEmpty,
}

impl Breach {
    /// The lane the breach is about, or `None` for the matrix itself.
    pub fn runner_id(&self) -> Option<&str> {
        match self {
            Breach::RequiredLane { runner_id, .. } | Breach::CompatibilityTelemetry { runner_id, .. } => {
                Some(runner_id)
            }
            Breach::MatrixStale { .. } | Breach::MatrixFromTheFuture { .. } | Breach::MatrixEmpty => None,
        }
    }
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::RequiredLane {
                runner_id,
                runner_status,
                freshness,
            } => {
                write!(f, "required lane `{runner_id}` blocks merges: ")?;
                let status_bad = *runner_status != OverallStatus::Pass;
                let telemetry_bad = *freshness != FreshnessState::Fresh;
                if status_bad {
                    write!(f, "runner_status is {}", status_name(*runner_status))?;
                }
                if status_bad && telemetry_bad {
                    f.write_str(" and ")?;
                }
                if telemetry_bad {
                    write!(f, "its telemetry is {}", freshness_name(*freshness))?;
                }
                Ok(())
            }
            Breach::CompatibilityTelemetry { runner_id, freshness } => write!(
                f,
                "active compatibility lane `{runner_id}` has {} telemetry (a freshness breach)",
                freshness_name(*freshness)
            ),
            Breach::MatrixStale {
                updated_at,
                age_seconds,
                slo_hours,
            } => write!(
                f,
                "the matrix was updated at {updated_at}, {} ago, beyond its {slo_hours} h SLO; run the ingest again",
                format_age(*age_seconds)
            ),
            Breach::MatrixFromTheFuture { updated_at } => write!(
                f,
                "the matrix claims to be updated at {updated_at}, in the future; check the clock of the machine that wrote it"
            ),
            Breach::MatrixEmpty => f.write_str(
                "the matrix has no rows: its ingest could not load the registry (see config_error in the ingest log)",
            ),
        }
    }
}

/// The breach a lane in this state is, if any.
pub(crate) fn lane_breach(
    runner_id: &str,
    class: LaneClass,
    registry_status: LaneStatus,
    runner_status: OverallStatus,
    freshness: FreshnessState,
) -> Option<Breach> {
    match effect(class, registry_status, runner_status, freshness) {
        PolicyEffect::NonBlockingWarn => None,
        PolicyEffect::BlockingFail => Some(Breach::RequiredLane {
            runner_id: runner_id.to_owned(),
            runner_status,
            freshness,
        }),
        PolicyEffect::NonBlockingFail => Some(Breach::CompatibilityTelemetry {
            runner_id: runner_id.to_owned(),
            freshness,
        }),
    }
}

/// Every lane breach in a matrix as recorded, in row order. The effect is
/// recomputed from the row's class, registry status, runner status and
/// freshness rather than read from `policy_effect`, so a hand-edited or
/// foreign matrix cannot pass the gate by its effect column alone.
pub(crate) fn row_breaches(rows: &[MatrixRow]) -> Vec<Breach> {
    rows.iter()
        .filter_map(|row| {
            lane_breach(
                &row.runner_id,
                row.lane_class,
                registry_status(row),
                row.runner_status,
                row.freshness_state,
            )
        })
        .collect()
}

/// `43200` → `12 h`, `262799` → `72 h 59 min 59 s`: exact, so a lane one
/// second past its SLO never reads as "72 h old, beyond the 72 h SLO".
pub(crate) fn format_age(seconds: i64) -> String {
    let total = seconds.unsigned_abs();
    let parts: Vec<String> = [(total / 3600, "h"), (total % 3600 / 60, "min"), (total % 60, "s")]
        .into_iter()
        .filter(|(value, _)| *value > 0)
        .map(|(value, unit)| format!("{value} {unit}"))
        .collect();
    match (parts.is_empty(), seconds < 0) {
        (true, _) => "0 s".to_owned(),
        (false, false) => parts.join(" "),
        (false, true) => format!("-{}", parts.join(" ")),
    }
}

/// The contract spelling of a runner status.
pub fn status_name(status: OverallStatus) -> &'static str {
    match status {
        OverallStatus::Pass => "pass",
        OverallStatus::Fail => "fail",
        OverallStatus::Degraded => "degraded",
        OverallStatus::Unknown => "unknown",
    }
}

/// The contract spelling of a freshness state.
pub fn freshness_name(state: FreshnessState) -> &'static str {
    match state {
        FreshnessState::Fresh => "fresh",
        FreshnessState::Stale => "stale",
        FreshnessState::Missing => "missing",
    }
}

/// The contract spelling of a policy effect.
pub(crate) fn effect_name(effect: PolicyEffect) -> &'static str {
    match effect {
        PolicyEffect::BlockingFail => "blocking_fail",
        PolicyEffect::NonBlockingWarn => "non_blocking_warn",
        PolicyEffect::NonBlockingFail => "non_blocking_fail",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    const GENERATED: &str = "2026-02-20T00:00:00Z";
    const FRESH_UNTIL: &str = "2026-02-23T00:00:00Z";

    fn judge_at(now: &str, slo: u64) -> Judgement {
        judge(ts(now), ts(GENERATED), ts(FRESH_UNTIL), slo)
    }

    #[test]
    fn age_is_measured_in_seconds_not_truncated_hours() {
        assert_eq!(
            judge_at("2026-02-23T00:00:00Z", 72),
            Judgement::Fresh {
                age_seconds: 72 * 3600
            }
        );
        // Upstream's integer hours kept this fresh for 59 more minutes.
        let later = judge(
            ts("2026-02-23T00:00:01Z"),
            ts(GENERATED),
            ts("2026-03-01T00:00:00Z"),
            72,
        );
        assert_eq!(
            later,
            Judgement::Stale {
                age_seconds: 72 * 3600 + 1,
                beyond_slo: true,
                past_fresh_until: false
            }
        );
    }

    #[test]
    fn fresh_until_is_honoured_even_within_the_slo() {
        let judgement = judge(
            ts("2026-02-21T00:00:01Z"),
            ts(GENERATED),
            ts("2026-02-21T00:00:00Z"),
            72,
        );
        assert_eq!(
            judgement,
            Judgement::Stale {
                age_seconds: 24 * 3600 + 1,
                beyond_slo: false,
                past_fresh_until: true
            }
        );
        assert_eq!(judgement.state(), FreshnessState::Stale);
    }

    #[test]
    fn the_future_is_invalid_beyond_five_minutes_of_skew() {
        assert_eq!(
            judge_at("2026-02-19T23:55:00Z", 72),
            Judgement::Fresh { age_seconds: -300 }
        );
        let ahead = judge_at("2026-02-19T23:54:59Z", 72);
        assert_eq!(ahead, Judgement::FromTheFuture { ahead_seconds: 301 });
        assert_eq!(ahead.state(), FreshnessState::Missing);
    }

    #[test]
    fn a_huge_slo_does_not_overflow() {
        assert!(matches!(
            judge_at("2026-02-20T01:00:00Z", u64::MAX),
            Judgement::Fresh { .. }
        ));
    }

    #[test]
    fn policy_table() {
        use FreshnessState::*;
        use LaneClass::*;
        use LaneStatus::*;
        use OverallStatus::*;
        use PolicyEffect::*;
        let cases = [
            (Required, Active, Pass, Fresh, NonBlockingWarn),
            (Required, Active, Fail, Fresh, BlockingFail),
            (Required, Active, Degraded, Fresh, BlockingFail),
            (Required, Active, Unknown, Missing, BlockingFail),
            // Upstream let this pass; dcx blocks it.
            (Required, Active, Pass, Stale, BlockingFail),
            (CompatibilityNonBlocking, Active, Fail, Fresh, NonBlockingWarn),
            (CompatibilityNonBlocking, Active, Pass, Stale, NonBlockingFail),
            (
                CompatibilityNonBlocking,
                Active,
                Unknown,
                Missing,
                NonBlockingFail,
            ),
            // Not fetched, never a breach (upstream made planned lanes fail).
            (
                CompatibilityNonBlocking,
                Planned,
                Unknown,
                Missing,
                NonBlockingWarn,
            ),
            (Required, Planned, Unknown, Missing, NonBlockingWarn),
            (Required, Disabled, Unknown, Missing, NonBlockingWarn),
        ];
        for (class, registry, status, freshness, expected) in cases {
            assert_eq!(
                effect(class, registry, status, freshness),
                expected,
                "{class:?} {registry:?} {status:?} {freshness:?}"
            );
            assert_eq!(
                lane_breach("x", class, registry, status, freshness).is_some(),
                expected != NonBlockingWarn
            );
        }
    }

    #[test]
    fn breach_messages() {
        let required = lane_breach(
            "rust",
            LaneClass::Required,
            LaneStatus::Active,
            OverallStatus::Fail,
            FreshnessState::Stale,
        )
        .unwrap();
        assert_eq!(
            required.to_string(),
            "required lane `rust` blocks merges: runner_status is fail and its telemetry is stale"
        );
        let compatibility = lane_breach(
            "php",
            LaneClass::CompatibilityNonBlocking,
            LaneStatus::Active,
            OverallStatus::Unknown,
            FreshnessState::Missing,
        )
        .unwrap();
        assert_eq!(
            compatibility.to_string(),
            "active compatibility lane `php` has missing telemetry (a freshness breach)"
        );
    }

    #[test]
    fn ages_read_exactly() {
        assert_eq!(format_age(43_200), "12 h");
        assert_eq!(format_age(72 * 3600 + 59 * 60 + 59), "72 h 59 min 59 s");
        assert_eq!(format_age(3600 + 60), "1 h 1 min");
        assert_eq!(format_age(-90), "-1 min 30 s");
        assert_eq!(format_age(0), "0 s");
    }
}
