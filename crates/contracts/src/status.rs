//! The runner status exchange (seed 000): what runners publish
//! ([`RunnerStatusReport`]), what dcx ingests them into
//! ([`RunnerStatusMatrix`], [`IngestLog`]), what ingest remembers between
//! runs to detect rollbacks ([`IngestState`]), and the slice of GitHub's
//! release API it reads to find them ([`GithubRelease`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::digest::Sha256Hex;
use crate::document::{Document, Format, VersionPin, Violation};
use crate::pointer::join;
use crate::timestamp::Timestamp;
use crate::validate::Checker;

/// How a lane's verdict counts toward a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LaneClass {
    /// The lane's failures block merges (the rust lane).
    Required,
    /// The lane's runtime failures never block; stale or missing telemetry is
    /// still a governance breach.
    CompatibilityNonBlocking,
}

impl LaneClass {
    /// The contract spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            LaneClass::Required => "required",
            LaneClass::CompatibilityNonBlocking => "compatibility_non_blocking",
        }
    }
}

/// A runner's own verdict on a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    /// Every command passed.
    Pass,
    /// At least one command failed.
    Fail,
    /// The runner works with reduced coverage.
    Degraded,
    /// No verdict (also what ingest records when no report could be read).
    Unknown,
}

/// The outcome of one command a runner ran for its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommandStatus {
    /// The command met its expectation.
    Pass,
    /// The command did not.
    Fail,
    /// The command was not run.
    Skip,
}

/// `runner_status_report_v1`: the status report a runner publishes as an
/// immutable release asset on every release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_status_report_v1")]
pub struct RunnerStatusReport {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The lane id in the certification registry, e.g. `rust`.
    #[schemars(length(min = 1))]
    pub runner_id: String,
    /// The runner's repository, e.g. `dc-runner-rust`.
    #[schemars(length(min = 1))]
    pub implementation_repo: String,
    /// The release the report belongs to (the release tag).
    #[schemars(length(min = 1))]
    pub release_version: String,
    /// The commit the release was built from.
    #[schemars(length(min = 1))]
    pub commit_sha: String,
    /// When the report was produced.
    pub generated_at: Timestamp,
    /// The lane class the runner believes it has; must match the registry.
    pub lane_class: LaneClass,
    /// The runner's verdict.
    pub overall_status: OverallStatus,
    /// Until when the producer vouches for this report.
    pub fresh_until: Timestamp,
    /// Each command run for the report.
    pub command_results: Vec<CommandResult>,
    /// Release assets the report refers to, with their digests.
    pub artifact_refs: Vec<ArtifactRef>,
}

/// One command a runner ran for its status report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommandResult {
    /// The command, e.g. `governance`.
    #[schemars(length(min = 1))]
    pub command: String,
    /// Its outcome.
    pub status: CommandStatus,
    /// Its exit code.
    pub exit_code: i32,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
}

/// A release asset a status report refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactRef {
    /// The asset name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Its immutable download URL.
    #[schemars(length(min = 1))]
    pub url: String,
    /// The sha256 of its bytes.
    pub sha256: Sha256Hex,
}

impl Document for RunnerStatusReport {
    const ID: &'static str = "runner_status_report_v1";
    const NAME: &'static str = "runner status report";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check.non_empty("", "runner_id", &self.runner_id);
        check.non_empty("", "implementation_repo", &self.implementation_repo);
        check.non_empty("", "release_version", &self.release_version);
        check.commit_sha("", "commit_sha", &self.commit_sha);
        if self.fresh_until < self.generated_at {
            check.push(
                "/fresh_until",
                format!(
                    "is before generated_at ({} < {}); a report cannot expire before it exists",
                    self.fresh_until, self.generated_at
                ),
            );
        }
        for (i, result) in self.command_results.iter().enumerate() {
            check.non_empty(&join("/command_results", i), "command", &result.command);
        }
        for (i, artifact) in self.artifact_refs.iter().enumerate() {
            let at = join("/artifact_refs", i);
            check.non_empty(&at, "name", &artifact.name);
            check.non_empty(&at, "url", &artifact.url);
        }
        check.unique("/artifact_refs", "name", &self.artifact_refs, |a| &a.name);
        check.finish()
    }
}

/// Whether a lane's telemetry is recent enough to trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FreshnessState {
    /// Within the lane's SLO and the producer's `fresh_until`.
    Fresh,
    /// A valid report, but too old.
    Stale,
    /// No usable report.
    Missing,
}

/// What a lane's row means for the merge gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyEffect {
    /// Blocks merges.
    BlockingFail,
    /// Informational.
    NonBlockingWarn,
    /// A freshness breach of a compatibility lane: fails governance, not the build.
    NonBlockingFail,
}

/// A lane's status in the certification registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LaneStatus {
    /// Publishes reports and certificates; fetched and enforced.
    Active,
    /// Announced; not fetched, never a breach.
    Planned,
    /// Switched off; not fetched, never a breach.
    Disabled,
}

impl LaneStatus {
    /// The contract spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            LaneStatus::Active => "active",
            LaneStatus::Planned => "planned",
            LaneStatus::Disabled => "disabled",
        }
    }
}

/// `runner_status_matrix_v1`: one row per registry lane, the normalized
/// snapshot ingest writes to `.artifacts/runner-status-matrix.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_status_matrix_v1")]
pub struct RunnerStatusMatrix {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The `now` of the ingest that wrote it.
    pub updated_at: Timestamp,
    /// The id of the ingest artifact set this file belongs to: the matrix,
    /// the ingest log, the Markdown matrix (as a last-line comment) and the
    /// state file an ingest publishes together all carry the same one, so
    /// a reader can tell a mixed set. 32 lowercase hex characters, derived
    /// from the set's contents; absent in files written before set ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{32}$"))]
    pub set_id: Option<String>,
    /// One row per registry lane, in registry order.
    pub matrix_rows: Vec<MatrixRow>,
}

/// One lane of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixRow {
    /// The lane id.
    #[schemars(length(min = 1))]
    pub runner_id: String,
    /// The runner's repository.
    #[schemars(length(min = 1))]
    pub implementation_repo: String,
    /// The lane class, from the registry.
    pub lane_class: LaneClass,
    /// The report's `overall_status`, or `unknown` without one.
    pub runner_status: OverallStatus,
    /// The freshness verdict.
    pub freshness_state: FreshnessState,
    /// The policy verdict.
    pub policy_effect: PolicyEffect,
    /// The freshness SLO the row was judged by, in hours: the lane's
    /// `freshness_slo_hours`, else ingest's `--max-age-hours`. Recorded so
    /// the freshness gate can judge the row again later without the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness_slo_hours: Option<u64>,
    /// Where the report came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_source: Option<StatusSource>,
    /// When the report was produced and how old it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_report: Option<StatusReportAge>,
}

/// Where a matrix row's report came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusSource {
    /// The release tag, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
    /// The report's download URL, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    /// The lane's status in the registry.
    pub registry_status: LaneStatus,
}

/// The age of a matrix row's report at ingest time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusReportAge {
    /// The report's `generated_at`.
    pub generated_at: Timestamp,
    /// `now - generated_at`, in seconds (negative within the allowed clock skew).
    pub age_seconds: i64,
    /// `age_seconds / 3600`, rounded down.
    pub age_hours: i64,
    /// The report's `fresh_until`.
    pub fresh_until: Timestamp,
}

impl Document for RunnerStatusMatrix {
    const ID: &'static str = "runner_status_matrix_v1";
    const NAME: &'static str = "runner status matrix";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check_set_id(&mut check, self.set_id.as_deref());
        for (i, row) in self.matrix_rows.iter().enumerate() {
            let at = join("/matrix_rows", i);
            check.non_empty(&at, "runner_id", &row.runner_id);
            check.non_empty(&at, "implementation_repo", &row.implementation_repo);
            if let Some(age) = &row.status_report
                && age.age_hours != age.age_seconds.div_euclid(3600)
            {
                check.push(
                    join(&join(&at, "status_report"), "age_hours"),
                    format!(
                        "must equal age_seconds / 3600 rounded down ({})",
                        age.age_seconds.div_euclid(3600)
                    ),
                );
            }
        }
        check.unique("/matrix_rows", "runner_id", &self.matrix_rows, |r| &r.runner_id);
        check.finish()
    }
}

/// Whether `text` is a set id: 32 lowercase hex characters.
pub fn is_set_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_set_id(check: &mut Checker, set_id: Option<&str>) {
    if let Some(set_id) = set_id
        && !is_set_id(set_id)
    {
        check.push(
            "/set_id",
            format!("expected 32 lowercase hex characters, got {set_id:?}"),
        );
    }
}

/// Why ingest could not use a lane's report (the failure classes of seed 000,
/// plus the ones dcx adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IngestErrorClass {
    /// The lane is planned or disabled; nothing was fetched.
    LaneNotActive,
    /// The registry entry has no usable `status_exchange`.
    RegistryEntryIncomplete,
    /// The release metadata could not be fetched or parsed.
    MissingReleaseMetadata,
    /// The release has no asset named `report_asset_name`, or it could not be downloaded.
    MissingStatusAsset,
    /// The asset's bytes do not match its published digest.
    ChecksumMismatch,
    /// The report is not a valid `runner_status_report_v1`.
    InvalidStatusReport,
    /// The report's `version` differs from the schema catalog's pin.
    UnsupportedReportVersion,
    /// The report's `runner_id` or `lane_class` contradicts the registry.
    RegistryMismatch,
    /// `generated_at` lies too far in the future.
    FutureGeneratedAt,
    /// The report is valid but older than the lane's SLO or past `fresh_until`.
    StaleReport,
    /// GitHub refused the request for rate limiting.
    RateLimited,
    /// The report is older than one already accepted for the lane.
    RollbackDetected,
}

/// `runner_status_ingest_log_v1`: what ingest did for each lane, written to
/// `.artifacts/runner-status-ingest-log.json` whatever fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_status_ingest_log_v1")]
pub struct IngestLog {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The `now` of the ingest.
    pub generated_at: Timestamp,
    /// The id of the ingest artifact set this file belongs to: the matrix,
    /// the ingest log, the Markdown matrix (as a last-line comment) and the
    /// state file an ingest publishes together all carry the same one, so
    /// a reader can tell a mixed set. 32 lowercase hex characters, derived
    /// from the set's contents; absent in files written before set ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{32}$"))]
    pub set_id: Option<String>,
    /// The fallback SLO for lanes without `freshness_slo_hours`.
    pub max_age_hours: u64,
    /// Active compatibility lanes that are stale or missing.
    pub compatibility_stale_or_missing_count: u64,
    /// Why no lane was ingested: the registry or the schema catalog could
    /// not be loaded (the entries are then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
    /// One entry per registry lane, in registry order.
    pub entries: Vec<IngestLogEntry>,
    /// Counts over all entries.
    pub totals: IngestTotals,
}

/// What ingest did for one lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IngestLogEntry {
    /// The lane id.
    #[schemars(length(min = 1))]
    pub runner_id: String,
    /// The runner's repository.
    #[schemars(length(min = 1))]
    pub implementation_repo: String,
    /// The release metadata URL that was (or would have been) fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_api_url: Option<String>,
    /// The asset name looked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_asset_name: Option<String>,
    /// The report URL, when an asset was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    /// The freshness verdict.
    pub freshness_state: FreshnessState,
    /// The policy verdict.
    pub policy_effect: PolicyEffect,
    /// The failure class, when the report could not be used as is.
    pub error_class: Option<IngestErrorClass>,
    /// The failure, in words a person can act on.
    pub error: Option<String>,
}

/// Counts over the ingest log's entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IngestTotals {
    /// Number of lanes.
    pub lanes: u64,
    /// Lanes with fresh telemetry.
    pub fresh: u64,
    /// Lanes with stale telemetry.
    pub stale: u64,
    /// Lanes with no usable telemetry.
    pub missing: u64,
    /// Lanes whose effect is `blocking_fail`.
    pub blocking_fail: u64,
    /// Lanes whose effect is `non_blocking_fail`.
    pub non_blocking_fail: u64,
    /// Lanes whose effect is `non_blocking_warn`.
    pub non_blocking_warn: u64,
}

impl IngestTotals {
    /// Counts `entries`.
    pub fn count(entries: &[IngestLogEntry]) -> Self {
        let mut totals = Self {
            lanes: entries.len() as u64,
            ..Self::default()
        };
        for entry in entries {
            match entry.freshness_state {
                FreshnessState::Fresh => totals.fresh += 1,
                FreshnessState::Stale => totals.stale += 1,
                FreshnessState::Missing => totals.missing += 1,
            }
            match entry.policy_effect {
                PolicyEffect::BlockingFail => totals.blocking_fail += 1,
                PolicyEffect::NonBlockingFail => totals.non_blocking_fail += 1,
                PolicyEffect::NonBlockingWarn => totals.non_blocking_warn += 1,
            }
        }
        totals
    }
}

impl Document for IngestLog {
    const ID: &'static str = "runner_status_ingest_log_v1";
    const NAME: &'static str = "runner status ingest log";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check_set_id(&mut check, self.set_id.as_deref());
        for (i, entry) in self.entries.iter().enumerate() {
            let at = join("/entries", i);
            check.non_empty(&at, "runner_id", &entry.runner_id);
            if entry.error_class.is_some() != entry.error.is_some() {
                check.push(join(&at, "error"), "error and error_class must be set together");
            }
        }
        check.unique("/entries", "runner_id", &self.entries, |e| &e.runner_id);
        if self.config_error.is_some() && !self.entries.is_empty() {
            check.push(
                "/config_error",
                "is set, so no lane was ingested, but entries lists lanes",
            );
        }
        let counted = IngestTotals::count(&self.entries);
        for (field, declared, counted) in [
            ("lanes", self.totals.lanes, counted.lanes),
            ("fresh", self.totals.fresh, counted.fresh),
            ("stale", self.totals.stale, counted.stale),
            ("missing", self.totals.missing, counted.missing),
            ("blocking_fail", self.totals.blocking_fail, counted.blocking_fail),
            (
                "non_blocking_fail",
                self.totals.non_blocking_fail,
                counted.non_blocking_fail,
            ),
            (
                "non_blocking_warn",
                self.totals.non_blocking_warn,
                counted.non_blocking_warn,
            ),
        ] {
            if declared != counted {
                check.push(
                    join("/totals", field),
                    format!("is {declared} but the entries count {counted}"),
                );
            }
        }
        check.finish()
    }
}

/// `runner_status_ingest_state_v1`: what ingest remembers between runs to
/// detect rollbacks — per lane, the newest report it accepted. Written
/// beside the artifacts (`.artifacts/runner-status-ingest-state.json` by
/// default) after them, read and validated at the start of the next ingest.
///
/// A report whose `generated_at` is older than the lane's entry, or as old
/// but with other bytes, is a rollback (`rollback_detected`) and is not
/// used. Entries of lanes that left the registry are kept, so removing and
/// re-adding a lane cannot roll it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_status_ingest_state_v1")]
pub struct IngestState {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The `now` of the ingest that last wrote the file.
    pub updated_at: Timestamp,
    /// The id of the ingest artifact set this file belongs to: the matrix,
    /// the ingest log, the Markdown matrix (as a last-line comment) and the
    /// state file an ingest publishes together all carry the same one, so
    /// a reader can tell a mixed set. 32 lowercase hex characters, derived
    /// from the set's contents; absent in files written before set ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{32}$"))]
    pub set_id: Option<String>,
    /// The newest accepted report of each lane, one entry per lane
    /// (written sorted by `runner_id`).
    pub lanes: Vec<IngestStateLane>,
}

/// The newest report ingest accepted for one lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IngestStateLane {
    /// The lane id.
    #[schemars(length(min = 1))]
    pub runner_id: String,
    /// The accepted report's `release_version`.
    #[schemars(length(min = 1))]
    pub release_version: String,
    /// The accepted report's `generated_at`: an older report is a rollback.
    pub generated_at: Timestamp,
    /// The sha256 of the accepted report's bytes, as downloaded: a report
    /// with the same `generated_at` and other bytes is a rollback too.
    pub report_sha256: Sha256Hex,
    /// Where the accepted report was downloaded from, as the release
    /// metadata names it.
    #[schemars(length(min = 1))]
    pub report_url: String,
    /// The `now` of the ingest that first accepted the report.
    pub accepted_at: Timestamp,
}

impl IngestState {
    /// A state that remembers nothing, written at `now`.
    pub fn empty(now: Timestamp) -> Self {
        Self {
            version: 1,
            updated_at: now,
            set_id: None,
            lanes: Vec::new(),
        }
    }

    /// The entry of `runner_id`, if ingest accepted a report for it.
    pub fn lane(&self, runner_id: &str) -> Option<&IngestStateLane> {
        self.lanes.iter().find(|lane| lane.runner_id == runner_id)
    }
}

impl Document for IngestState {
    const ID: &'static str = "runner_status_ingest_state_v1";
    const NAME: &'static str = "runner status ingest state";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check_set_id(&mut check, self.set_id.as_deref());
        for (i, lane) in self.lanes.iter().enumerate() {
            let at = join("/lanes", i);
            check.non_empty(&at, "runner_id", &lane.runner_id);
            check.non_empty(&at, "release_version", &lane.release_version);
            check.non_empty(&at, "report_url", &lane.report_url);
        }
        check.unique("/lanes", "runner_id", &self.lanes, |l| &l.runner_id);
        check.finish()
    }
}

/// The part of a GitHub release (`GET /repos/{owner}/{repo}/releases/…`)
/// that ingest reads. Every other field of GitHub's response is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "github_release")]
pub struct GithubRelease {
    /// The release tag; becomes the matrix row's `release_version`.
    #[schemars(length(min = 1))]
    pub tag_name: String,
    /// The release's assets.
    pub assets: Vec<GithubReleaseAsset>,
}

/// One asset of a GitHub release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GithubReleaseAsset {
    /// The file name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Where to download it.
    #[schemars(length(min = 1))]
    pub browser_download_url: String,
    /// The API URL of the asset (download with `Accept: application/octet-stream`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The size in bytes, as GitHub reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// GitHub's digest of the asset, `sha256:<hex>`, when it publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl GithubReleaseAsset {
    /// The asset's sha256 when GitHub published one in the `sha256:<hex>` form.
    /// `Some(Err(..))` is a digest present but malformed, which must not be
    /// treated as "no digest".
    pub fn sha256(&self) -> Option<Result<Sha256Hex, crate::digest::InvalidDigest>> {
        let digest = self.digest.as_deref()?;
        Some(match digest.strip_prefix("sha256:") {
            Some(hex) => Sha256Hex::parse(hex),
            None => Err(crate::digest::InvalidDigest {
                found: digest.chars().take(80).collect(),
            }),
        })
    }
}

impl Document for GithubRelease {
    const ID: &'static str = "github_release";
    const NAME: &'static str = "GitHub release metadata";
    const VERSION: Option<VersionPin> = None;
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.non_empty("", "tag_name", &self.tag_name);
        for (i, asset) in self.assets.iter().enumerate() {
            let at = join("/assets", i);
            check.non_empty(&at, "name", &asset.name);
            check.non_empty(&at, "browser_download_url", &asset.browser_download_url);
            if let (Some(Err(_)), Some(digest)) = (asset.sha256(), &asset.digest) {
                check.push(
                    join(&at, "digest"),
                    format!("must be `sha256:` followed by 64 lowercase hex characters, got {digest:?}"),
                );
            }
        }
        check.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::from_str;

    const MATRIX: &str = r#"{"version": 1, "updated_at": "2026-02-20T12:00:00Z", "matrix_rows": []}"#;

    #[test]
    fn a_matrix_from_before_set_ids_still_loads_and_saves_without_one() {
        let loaded = from_str::<RunnerStatusMatrix>(MATRIX, Format::Json, "old.json").unwrap();
        assert_eq!(loaded.document.set_id, None);
        assert!(loaded.warnings.is_empty());
        let text = serde_json::to_string(&loaded.document).unwrap();
        assert!(!text.contains("set_id"), "{text}");
    }

    #[test]
    fn a_set_id_is_32_lowercase_hex_characters() {
        let with =
            |id: &str| MATRIX.replace("\"matrix_rows\"", &format!("\"set_id\": {id:?}, \"matrix_rows\""));
        let good = from_str::<RunnerStatusMatrix>(&with(&"0a".repeat(16)), Format::Json, "m.json").unwrap();
        assert_eq!(good.document.set_id, Some("0a".repeat(16)));
        for bad in ["0A".repeat(16), "0a".repeat(15), "zz".repeat(16)] {
            let error = from_str::<RunnerStatusMatrix>(&with(&bad), Format::Json, "m.json").unwrap_err();
            assert!(error.to_string().contains("/set_id"), "{bad}: {error}");
        }
        let mut state = IngestState::empty(Timestamp::parse("2026-02-20T12:00:00Z").unwrap());
        state.set_id = Some("x".to_owned());
        assert_eq!(state.validate().len(), 1);
        assert!(is_set_id(&"f".repeat(32)));
        assert!(!is_set_id(""));
    }
}
