//! What a failing lane most likely means and what to do about it: the
//! failure-signature table of seed 001 ("Common Failure Signatures"),
//! extended to every error class dcx records. The Markdown matrix prints the
//! row of each lane that needs attention; docs/STATUS_EXCHANGE.md prints the
//! whole table (a test keeps the two in step).

use dcx_contracts::status::{IngestErrorClass, OverallStatus};

/// One row of the failure-signature table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureSignature {
    /// What the operator sees in the matrix or log.
    pub signature: &'static str,
    /// The likely cause.
    pub likely_cause: &'static str,
    /// What to do.
    pub action: &'static str,
}

/// The contract spelling of an error class (`missing_status_asset`).
pub(crate) fn class_name(class: IngestErrorClass) -> &'static str {
    match class {
        IngestErrorClass::LaneNotActive => "lane_not_active",
        IngestErrorClass::RegistryEntryIncomplete => "registry_entry_incomplete",
        IngestErrorClass::MissingReleaseMetadata => "missing_release_metadata",
        IngestErrorClass::MissingStatusAsset => "missing_status_asset",
        IngestErrorClass::ChecksumMismatch => "checksum_mismatch",
        IngestErrorClass::InvalidStatusReport => "invalid_status_report",
        IngestErrorClass::UnsupportedReportVersion => "unsupported_report_version",
        IngestErrorClass::RegistryMismatch => "registry_mismatch",
        IngestErrorClass::FutureGeneratedAt => "future_generated_at",
        IngestErrorClass::StaleReport => "stale_report",
        IngestErrorClass::RateLimited => "rate_limited",
        IngestErrorClass::RollbackDetected => "rollback_detected",
    }
}

/// The signature of a lane whose report could not be used as is.
pub(crate) fn for_error(class: IngestErrorClass) -> FailureSignature {
    match class {
        // The three rows of seed 001, verbatim in cause and action.
        IngestErrorClass::StaleReport => FailureSignature {
            signature: "`freshness_state: stale`",
            likely_cause: "report older than the lane's SLO (72 h unless the registry says otherwise), or past the producer's `fresh_until`",
            action: "trigger a new runner release report and re-ingest",
        },
        IngestErrorClass::MissingStatusAsset => FailureSignature {
            signature: "`freshness_state: missing`, `missing report asset` or a failed download",
            likely_cause: "no report asset found",
            action: "verify registry template and release asset naming: the release must carry an asset named `report_asset_name`",
        },
        IngestErrorClass::ChecksumMismatch => FailureSignature {
            signature: "checksum validation error",
            likely_cause: "artifact tampering or mismatch",
            action: "re-publish report asset with correct checksum",
        },
        IngestErrorClass::MissingReleaseMetadata => FailureSignature {
            signature: "`freshness_state: missing`, `cannot fetch release metadata` or `invalid release metadata`",
            likely_cause: "no published release at `release_api_url` (none yet, wrong URL), a GitHub or network outage, or a response that is not GitHub release JSON",
            action: "open `release_api_url` from the log; fix the URL in the registry or publish a release; re-run the ingest if the error was transient (5xx, timeout, reset)",
        },
        IngestErrorClass::InvalidStatusReport => FailureSignature {
            signature: "`invalid status report` with a JSON pointer",
            likely_cause: "the runner's release job wrote a report that breaks `runner_status_report_v1`",
            action: "fix the producer (`dcx status report` writes valid reports), check with `dcx validate --kind runner_status_report_v1`, and release again",
        },
        IngestErrorClass::UnsupportedReportVersion => FailureSignature {
            signature: "`/version` does not match the schema catalog's pin",
            likely_cause: "the producer and the control plane disagree on the report's major version",
            action: "publish the version pinned in `specs/schema_catalog_v1.yaml`, or move the pin as a contract change",
        },
        IngestErrorClass::RegistryMismatch => FailureSignature {
            signature: "`/runner_id` or `/lane_class` differs from the registry",
            likely_cause: "the release carries another lane's report, or the lane's class changed on one side only",
            action: "fix `runner_id`/`lane_class` in the runner's release job, or the registry entry (a lane promotion is a contract change)",
        },
        IngestErrorClass::FutureGeneratedAt => FailureSignature {
            signature: "`/generated_at` ahead of now",
            likely_cause: "the release job's clock is ahead, or `generated_at` was written by hand",
            action: "fix the producer's clock or timestamp and re-publish the report",
        },
        IngestErrorClass::RateLimited => FailureSignature {
            signature: "`rate limited until …`",
            likely_cause: "GitHub's API limit for the token (or for anonymous requests: 60 an hour) is used up",
            action: "set `GITHUB_TOKEN` (in Actions: `env: GITHUB_TOKEN: ${{ github.token }}`) and re-run after the reset; keep the cache directory between runs so unchanged releases cost nothing",
        },
        IngestErrorClass::RegistryEntryIncomplete => FailureSignature {
            signature: "`status_exchange` absent or its `release_api_url` unusable",
            likely_cause: "an active lane whose registry entry cannot say where its reports are",
            action: "fix the lane's `status_exchange` in the registry; `cargo xtask governance` checks it",
        },
        IngestErrorClass::LaneNotActive => FailureSignature {
            signature: "`freshness_state: missing`, `lane_not_active`",
            likely_cause: "the lane is planned or disabled in the registry, so nothing is fetched",
            action: "nothing: it is never a breach; promote the lane to active in the registry when it publishes reports",
        },
        IngestErrorClass::RollbackDetected => FailureSignature {
            signature: "`freshness_state: missing`, `is older than the last accepted` or `its content differs`",
            likely_cause: "the release serves a report older than the newest one ingest accepted for the lane (an old report re-published, a release rolled back or deleted, a mirror or cache replaying an old one), or a report whose content changed without a newer `generated_at`",
            action: "check the runner's release history and publish a new report (a newer `generated_at`); never re-publish an older one. If the accepted report itself was wrong, remove the lane's entry from the state file (`--state-file`) and re-ingest",
        },
    }
}

/// The signature of a lane whose fresh report carries a negative verdict.
pub(crate) fn for_status(status: OverallStatus) -> Option<FailureSignature> {
    match status {
        OverallStatus::Pass => None,
        OverallStatus::Fail => Some(FailureSignature {
            signature: "`runner_status: fail`",
            likely_cause: "a command of the runner's release job failed",
            action: "read `command_results` in the report; fix it in the runner repository and release again (blocks merges on a required lane only)",
        }),
        OverallStatus::Degraded => Some(FailureSignature {
            signature: "`runner_status: degraded`",
            likely_cause: "a command of the runner's release job timed out, or it runs with reduced coverage",
            action: "read `command_results` in the report (exit code 124 is a timeout); fix it in the runner repository and release again",
        }),
        OverallStatus::Unknown => Some(FailureSignature {
            signature: "`runner_status: unknown`",
            likely_cause: "the report declares no verdict (its release job ran no command)",
            action: "make the runner's release job run its checks (`dcx status report --command …`)",
        }),
    }
}

/// docs/STATUS_EXCHANGE.md prints the failure-signature table; these keep
/// the two from drifting apart.
#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// Every error class, in the order the operator guide lists them.
    const ERROR_CLASSES: &[IngestErrorClass] = &[
        IngestErrorClass::StaleReport,
        IngestErrorClass::MissingReleaseMetadata,
        IngestErrorClass::MissingStatusAsset,
        IngestErrorClass::ChecksumMismatch,
        IngestErrorClass::InvalidStatusReport,
        IngestErrorClass::UnsupportedReportVersion,
        IngestErrorClass::RegistryMismatch,
        IngestErrorClass::FutureGeneratedAt,
        IngestErrorClass::RateLimited,
        IngestErrorClass::RegistryEntryIncomplete,
        IngestErrorClass::LaneNotActive,
        IngestErrorClass::RollbackDetected,
    ];

    fn guide() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/STATUS_EXCHANGE.md");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn row(first: &str, signature: FailureSignature) -> String {
        format!(
            "| {first} | {} | {} | {} |",
            signature.signature, signature.likely_cause, signature.action
        )
    }

    #[test]
    fn the_operator_guide_lists_every_failure_signature() {
        let guide = guide();
        let mut missing = Vec::new();
        for class in ERROR_CLASSES {
            let expected = row(&format!("`{}`", class_name(*class)), for_error(*class));
            if !guide.lines().any(|line| line == expected) {
                missing.push(expected);
            }
        }
        for status in [
            OverallStatus::Fail,
            OverallStatus::Degraded,
            OverallStatus::Unknown,
        ] {
            let signature = for_status(status).expect("a negative status has a signature");
            let expected = row("(none: a fresh report)", signature);
            if !guide.lines().any(|line| line == expected) {
                missing.push(expected);
            }
        }
        assert!(
            missing.is_empty(),
            "docs/STATUS_EXCHANGE.md lacks these rows (copy them from triage.rs):\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn error_classes_lists_every_class_of_the_contract() {
        // The generated schema of the ingest log enumerates the classes.
        let schema = dcx_contracts::documents::by_id("runner_status_ingest_log_v1")
            .unwrap()
            .json_schema();
        let in_schema: BTreeSet<String> = schema["$defs"]["IngestErrorClass"]["oneOf"]
            .as_array()
            .expect("IngestErrorClass is a oneOf of constants in the schema")
            .iter()
            .map(|v| v["const"].as_str().unwrap().to_owned())
            .collect();
        let listed: BTreeSet<String> = ERROR_CLASSES.iter().map(|c| class_name(*c).to_owned()).collect();
        assert_eq!(listed, in_schema);
        assert_eq!(listed.len(), ERROR_CLASSES.len(), "a class is listed twice");
    }
}
