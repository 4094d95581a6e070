//! Runner certification (seed 000): the registry of runner lanes
//! ([`CertificationRegistry`], content version 2) and the execution
//! certificate `runner-certify` writes ([`ExecutionCertificate`], version 2).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::c14n::canonical_sha256;
use crate::digest::Sha256Hex;
use crate::document::{Document, Format, VersionPin, Violation};
use crate::intent::ExecutionIntent;
use crate::pointer::join;
use crate::status::{LaneClass, LaneStatus};
use crate::timestamp::Timestamp;
use crate::validate::{Checker, string_constant};

/// `runner_certification_registry_v1` (content version 2): every runner
/// lane, what certifies it, and where its status reports are published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_certification_registry_v1")]
pub struct CertificationRegistry {
    /// Content version; this build reads 2.
    #[schemars(extend("const" = 2))]
    pub version: u64,
    /// Path of the certificate schema certificates must satisfy.
    #[schemars(length(min = 1))]
    pub certificate_schema_ref: String,
    /// The lanes, in the order matrices list them.
    pub runners: Vec<RegistryLane>,
}

/// One runner lane of the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryLane {
    /// The lane id, e.g. `rust`.
    #[schemars(length(min = 1))]
    pub runner_id: String,
    /// Whether the lane blocks merges.
    pub class: LaneClass,
    /// Whether the lane is enforced.
    pub status: LaneStatus,
    /// How to invoke the runner.
    pub entrypoints: Entrypoints,
    /// Governance check ids the adapter must pass.
    #[serde(default)]
    pub required_core_checks: Vec<String>,
    /// Conformance case refs, `/path/to/case.spec.md#CASE-ID`.
    #[serde(default)]
    pub required_core_cases: Vec<String>,
    /// Adapter commands and the exit codes they must return.
    #[serde(default)]
    pub command_contract_subset: Vec<CommandContract>,
    /// Where the lane's certificate is written.
    pub artifact_contract: ArtifactContract,
    /// Where the lane publishes status reports; required for active lanes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_exchange: Option<StatusExchange>,
}

/// How to invoke a lane's runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Entrypoints {
    /// The adapter command on PATH, e.g. `dc-runner`.
    #[schemars(length(min = 1))]
    pub public_adapter: String,
    /// The runner's repository, e.g. `dc-runner-rust`.
    #[schemars(length(min = 1))]
    pub implementation_repo: String,
}

/// One adapter command of a lane's contract subset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommandContract {
    /// The adapter subcommand.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Its arguments, in order.
    #[serde(default)]
    pub args: Vec<String>,
    /// The exit codes that count as success; empty means `[0]`.
    #[serde(default)]
    pub expect_exit: Vec<i64>,
}

/// Where a lane's certificate is written; `{runner}` is the lane id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactContract {
    /// The JSON certificate path, e.g. `/.artifacts/runner-certification-{runner}.json`.
    #[schemars(length(min = 1))]
    pub json_out: String,
    /// The Markdown report path.
    #[schemars(length(min = 1))]
    pub md_out: String,
}

/// How a lane's status reports are found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusExchange {
    /// Where reports come from.
    pub source_kind: SourceKind,
    /// The release metadata URL: GitHub's API, `file://`, or a path relative
    /// to the registry file.
    #[schemars(length(min = 1))]
    pub release_api_url: String,
    /// The asset holding the report.
    #[serde(default = "default_report_asset_name")]
    pub report_asset_name: String,
    /// The lane's role in the matrix; must agree with its class.
    pub matrix_role: MatrixRole,
    /// The lane's freshness SLO in hours; ingest's `--max-age-hours` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness_slo_hours: Option<u64>,
}

/// The default `report_asset_name`.
pub const DEFAULT_REPORT_ASSET_NAME: &str = "runner-status-report-v1.json";

fn default_report_asset_name() -> String {
    DEFAULT_REPORT_ASSET_NAME.to_owned()
}

/// Where status reports come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A release asset found through release metadata.
    ReleaseAsset,
}

/// A lane's role in the compatibility matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatrixRole {
    /// Blocks merges (class `required`).
    Required,
    /// Informational (class `compatibility_non_blocking`).
    Compatibility,
}

impl CertificationRegistry {
    /// The lane with `runner_id`, if any.
    pub fn lane(&self, runner_id: &str) -> Option<&RegistryLane> {
        self.runners.iter().find(|lane| lane.runner_id == runner_id)
    }

    /// Every lane id, in registry order.
    pub fn runner_ids(&self) -> Vec<&str> {
        self.runners.iter().map(|lane| lane.runner_id.as_str()).collect()
    }
}

impl RegistryLane {
    /// `class == required && status == active`: the lane's certificate blocks merges.
    pub fn is_blocking(&self) -> bool {
        self.class == LaneClass::Required && self.status == LaneStatus::Active
    }
}

impl Document for CertificationRegistry {
    const ID: &'static str = "runner_certification_registry_v1";
    const NAME: &'static str = "runner certification registry";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 2,
    });
    const FORMAT: Format = Format::Yaml;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 2);
        check.non_empty("", "certificate_schema_ref", &self.certificate_schema_ref);
        if self.runners.is_empty() {
            check.push("/runners", "must list at least one lane");
        }
        check.unique("/runners", "runner_id", &self.runners, |lane| &lane.runner_id);
        for (i, lane) in self.runners.iter().enumerate() {
            validate_lane(&mut check, &join("/runners", i), lane);
        }
        check.finish()
    }
}

fn validate_lane(check: &mut Checker, at: &str, lane: &RegistryLane) {
    if !is_lane_id(&lane.runner_id) {
        check.push(
            join(at, "runner_id"),
            format!(
                "{:?} is not a lane id (lowercase letters, digits and `-`, starting with a letter)",
                lane.runner_id
            ),
        );
    }
    let entry = join(at, "entrypoints");
    check.non_empty(&entry, "public_adapter", &lane.entrypoints.public_adapter);
    check.non_empty(
        &entry,
        "implementation_repo",
        &lane.entrypoints.implementation_repo,
    );
    for (j, id) in lane.required_core_checks.iter().enumerate() {
        check.non_empty(&join(at, "required_core_checks"), &j.to_string(), id);
    }
    for (j, case) in lane.required_core_cases.iter().enumerate() {
        let pointer = join(&join(at, "required_core_cases"), j);
        match case.split_once('#') {
            Some((path, anchor)) if path.starts_with('/') && !anchor.is_empty() && !anchor.contains('#') => {}
            _ => check.push(
                pointer,
                format!("{case:?} is not a case ref of the form `/path/to/case.spec.md#CASE-ID`"),
            ),
        }
    }
    for (j, command) in lane.command_contract_subset.iter().enumerate() {
        check.non_empty(
            &join(&join(at, "command_contract_subset"), j),
            "name",
            &command.name,
        );
    }
    let artifacts = join(at, "artifact_contract");
    for (field, path) in [
        ("json_out", &lane.artifact_contract.json_out),
        ("md_out", &lane.artifact_contract.md_out),
    ] {
        if !path.contains("{runner}") {
            check.push(
                join(&artifacts, field),
                format!(
                    "{path:?} must contain `{{runner}}` so lanes never overwrite each other's certificates"
                ),
            );
        }
    }
    match &lane.status_exchange {
        None if lane.status == LaneStatus::Active => check.push(
            join(at, "status_exchange"),
            "an active lane must declare status_exchange (seed 000: every active runner publishes status reports)",
        ),
        None => {}
        Some(exchange) => {
            let ex = join(at, "status_exchange");
            check.non_empty(&ex, "release_api_url", &exchange.release_api_url);
            check.non_empty(&ex, "report_asset_name", &exchange.report_asset_name);
            let expected_role = match lane.class {
                LaneClass::Required => MatrixRole::Required,
                LaneClass::CompatibilityNonBlocking => MatrixRole::Compatibility,
            };
            if exchange.matrix_role != expected_role {
                check.push(
                    join(&ex, "matrix_role"),
                    format!(
                        "disagrees with class `{}`; a lane is promoted by changing both",
                        lane.class.as_str()
                    ),
                );
            }
            match exchange.freshness_slo_hours {
                Some(0) => check.push(join(&ex, "freshness_slo_hours"), "must be a positive number of hours"),
                None if lane.status == LaneStatus::Active => check.push(
                    join(&ex, "freshness_slo_hours"),
                    "an active lane must declare a positive freshness SLO",
                ),
                _ => {}
            }
        }
    }
}

fn is_lane_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

string_constant! {
    /// The constant `intent-v1`: the execution-intent normalization.
    IntentV1 = "intent-v1"
}
string_constant! {
    /// The constant `sha256`: the hash algorithm of the proofs.
    HashSha256 = "sha256"
}
string_constant! {
    /// The constant `json-c14n-v1`: the canonicalization of the payload proof.
    JsonC14nV1 = "json-c14n-v1"
}

/// `runner_execution_certificate_v1` (content version 2): what
/// `runner-certify` proves about a lane, with hashes peers can recompute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "runner_execution_certificate_v1")]
pub struct ExecutionCertificate {
    /// Content version; this build reads 2.
    #[schemars(extend("const" = 2))]
    pub version: u64,
    /// The certified lane.
    pub runner: CertifiedRunner,
    /// What was required of the lane, normalized by `intent-v1`.
    pub execution_intent: ExecutionIntent,
    /// The intent's hash.
    pub equivalence: Equivalence,
    /// The verdict.
    pub summary: CertificateSummary,
    /// Every check, in the order it ran.
    pub checks: Vec<CertificateCheck>,
    /// The payload hash.
    pub proof: Proof,
}

/// The lane a certificate is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CertifiedRunner {
    /// The lane id.
    #[schemars(length(min = 1))]
    pub runner_id: String,
    /// The lane class.
    pub class: LaneClass,
    /// The lane status in the registry.
    pub status: LaneStatus,
    /// `class == required && status == active`.
    pub blocking: bool,
    /// The runner's repository.
    #[schemars(length(min = 1))]
    pub implementation_repo: String,
    /// The commit certified.
    #[schemars(length(min = 1))]
    pub commit_sha: String,
    /// When the certificate was made.
    pub certified_at: Timestamp,
}

/// How the intent was hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Equivalence {
    /// Always `intent-v1`.
    pub normalization_version: IntentV1,
    /// Always `sha256`.
    pub hash_algorithm: HashSha256,
    /// `sha256(c14n(execution_intent))`.
    pub intent_hash: Sha256Hex,
}

/// A certificate's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CertificateSummary {
    /// `pass` iff no check failed.
    pub status: Verdict,
    /// Checks that passed.
    pub passed: u64,
    /// Checks that failed.
    pub failed: u64,
    /// Checks that were skipped.
    pub skipped: u64,
    /// Whether this lane's verdict blocks merges.
    pub blocking: bool,
}

/// Pass or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
}

/// The status of one certificate check (the schema's enum: `skip`, never `skipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Not run; `detail` says why.
    Skip,
}

/// One certificate check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CertificateCheck {
    /// `contract`, `command`, `governance-sync` or `conformance`.
    #[schemars(length(min = 1))]
    pub group: String,
    /// The check id, e.g. `command.governance`.
    #[schemars(length(min = 1))]
    pub id: String,
    /// The outcome.
    pub status: CheckStatus,
    /// The exit code observed (0 for checks that run no process).
    pub exit_code: i64,
    /// What happened, in words.
    pub detail: String,
    /// How long the check took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Where its evidence (e.g. the command's output) is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_ref: Option<String>,
}

/// The payload proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Proof {
    /// Always `json-c14n-v1`.
    pub canonicalization: JsonC14nV1,
    /// `sha256(c14n(certificate with payload_sha256 = ""))`.
    pub payload_sha256: Sha256Hex,
}

/// The registry version a certificate's `registry_ref` must carry.
pub const CERTIFICATE_REGISTRY_REF_VERSION: u64 = 2;

/// `payload_sha256` of any certificate-shaped JSON value: the digest of its
/// `json-c14n-v1` text with `proof.payload_sha256` set to `""`. Works on
/// documents other implementations wrote, whatever else they contain.
pub fn payload_sha256_of_value(certificate: &serde_json::Value) -> Sha256Hex {
    let mut blanked = certificate.clone();
    if let Some(proof) = blanked
        .get_mut("proof")
        .and_then(serde_json::Value::as_object_mut)
    {
        proof.insert(
            "payload_sha256".to_owned(),
            serde_json::Value::String(String::new()),
        );
    }
    canonical_sha256(&blanked)
}

impl ExecutionCertificate {
    /// The payload hash this certificate should carry.
    pub fn compute_payload_sha256(&self) -> Sha256Hex {
        // Serializing plain structs of strings, integers and bools cannot fail.
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        payload_sha256_of_value(&value)
    }

    /// Sets `proof.payload_sha256` to the hash of the rest of the certificate.
    pub fn seal(&mut self) {
        self.proof.payload_sha256 = self.compute_payload_sha256();
    }
}

impl Document for ExecutionCertificate {
    const ID: &'static str = "runner_execution_certificate_v1";
    const NAME: &'static str = "runner execution certificate";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 2,
    });
    const FORMAT: Format = Format::Json;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 2);
        check.non_empty("/runner", "runner_id", &self.runner.runner_id);
        check.non_empty("/runner", "implementation_repo", &self.runner.implementation_repo);
        check.commit_sha("/runner", "commit_sha", &self.runner.commit_sha);
        let blocking = self.runner.class == LaneClass::Required && self.runner.status == LaneStatus::Active;
        if self.runner.blocking != blocking {
            check.push(
                "/runner/blocking",
                format!("must be {blocking}: class == required && status == active"),
            );
        }
        if self.summary.blocking != self.runner.blocking {
            check.push("/summary/blocking", "must equal /runner/blocking");
        }
        check.constant(
            "/execution_intent/registry_ref",
            "version",
            self.execution_intent.registry_ref.version,
            CERTIFICATE_REGISTRY_REF_VERSION,
        );
        check.non_empty(
            "/execution_intent/registry_ref",
            "path",
            &self.execution_intent.registry_ref.path,
        );
        if !self.execution_intent.is_normalized() {
            check.push(
                "/execution_intent",
                "is not in intent-v1 normal form (sorted, deduplicated, expect_exit never empty)",
            );
        }
        let intent_hash = self.execution_intent.intent_hash();
        if self.equivalence.intent_hash != intent_hash {
            check.push(
                "/equivalence/intent_hash",
                format!(
                    "is {} but the execution intent hashes to {intent_hash}",
                    self.equivalence.intent_hash
                ),
            );
        }
        let (mut passed, mut failed, mut skipped) = (0, 0, 0);
        for (i, item) in self.checks.iter().enumerate() {
            let at = join("/checks", i);
            check.non_empty(&at, "group", &item.group);
            check.non_empty(&at, "id", &item.id);
            match item.status {
                CheckStatus::Pass => passed += 1,
                CheckStatus::Fail => failed += 1,
                CheckStatus::Skip => skipped += 1,
            }
        }
        let counts = [
            ("passed", self.summary.passed, passed),
            ("failed", self.summary.failed, failed),
            ("skipped", self.summary.skipped, skipped),
        ];
        for (field, declared, counted) in counts {
            if declared != counted {
                check.push(
                    join("/summary", field),
                    format!("is {declared} but {} that status", checks_having(counted)),
                );
            }
        }
        let verdict = if failed == 0 { Verdict::Pass } else { Verdict::Fail };
        if self.summary.status != verdict {
            check.push("/summary/status", "must be `pass` exactly when no check failed");
        }
        let payload = self.compute_payload_sha256();
        if self.proof.payload_sha256 != payload {
            check.push(
                "/proof/payload_sha256",
                format!(
                    "is {} but the certificate hashes to {payload}",
                    self.proof.payload_sha256
                ),
            );
        }
        check.finish()
    }
}

fn checks_having(n: u64) -> String {
    if n == 1 {
        "1 check has".to_owned()
    } else {
        format!("{n} checks have")
    }
}
