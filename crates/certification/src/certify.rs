//! `runner-certify`: registry lane in, certificate out.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dcx_contracts::certification::{CertificateCheck, CertificationRegistry, CheckStatus, RegistryLane};
use dcx_contracts::status::LaneStatus;
use dcx_contracts::{LoadLimits, Timestamp, Warning};

use crate::adapter::{self, Adapter, Unavailable};
use crate::adapter_checks::AdapterChecks;
use crate::certificate::{self, Subject};
use crate::checks::{self, COMMAND, CONFORMANCE, CONTRACT, GOVERNANCE_SYNC};
use crate::conformance;
use crate::error::CertifyError;
use crate::evidence::EvidenceDir;
use crate::markdown::render_markdown;
use crate::registry;

/// What to certify and how. Everything that would otherwise come from the
/// clock or the environment is a field, so a run is reproducible.
#[derive(Debug, Clone)]
pub struct CertifySettings {
    /// The lane id, e.g. `rust`.
    pub runner_id: String,
    /// The runner registry (`specs/runner_certification_registry_v1.yaml`).
    pub registry: PathBuf,
    /// The adapter to run instead of the lane's `entrypoints.public_adapter`:
    /// a path if it contains `/`, else a name looked up in `search_path`.
    pub adapter: Option<String>,
    /// The directories to look adapter names up in: the value of `PATH`.
    pub search_path: Option<OsString>,
    /// The directory case refs (`/specs/…#ID`) are resolved under.
    pub spec_root: PathBuf,
    /// Where the certificate, its Markdown and the evidence directory go.
    pub out_dir: PathBuf,
    /// The commit certified (40 or 64 lowercase hex characters).
    pub commit_sha: String,
    /// The certificate's `certified_at`.
    pub now: Timestamp,
    /// How long one adapter invocation may run before its process group is
    /// killed and the check fails.
    pub timeout: Duration,
    /// The size cap on the registry and on conformance case files
    /// (`dcx --max-document-bytes`).
    pub documents: LoadLimits,
}

/// A certificate that was written.
#[derive(Debug, Clone)]
pub struct Certification {
    /// The sealed certificate.
    pub certificate: dcx_contracts::certification::ExecutionCertificate,
    /// `<out-dir>/runner-certification-<runner>.json`.
    pub json_path: PathBuf,
    /// `<out-dir>/runner-certification-<runner>.md`.
    pub md_path: PathBuf,
    /// Fields of the registry that are not part of its contract (ignored).
    pub registry_warnings: Vec<Warning>,
}

impl Certification {
    /// Whether the certificate's verdict is `pass`.
    pub fn passed(&self) -> bool {
        self.certificate.summary.failed == 0
    }

    /// The rows that failed, in order.
    pub fn failures(&self) -> impl Iterator<Item = &CertificateCheck> {
        self.certificate
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
    }
}

/// Certifies one lane: loads the registry, runs the checks, writes
/// `<out-dir>/<json_out name>` and `<out-dir>/<md_out name>` (the file names
/// of the lane's `artifact_contract`, `{runner}` substituted) atomically,
/// and returns what it wrote.
///
/// A failing check is a certificate with verdict `fail`, not an error.
/// Errors are configuration and I/O problems: an invalid registry, an
/// unknown lane, a malformed commit, an unwritable output directory.
pub fn certify(settings: &CertifySettings) -> Result<Certification, CertifyError> {
    if !is_commit_sha(&settings.commit_sha) {
        return Err(CertifyError::CommitSha {
            found: settings.commit_sha.clone(),
        });
    }
    let loaded = registry::load(&settings.registry, &settings.documents)?;
    let registry: &CertificationRegistry = &loaded.document;
    let (index, lane) = registry::lane(registry, &settings.registry, &settings.runner_id)?;
    let json_path = artifact_path(
        settings,
        lane,
        index,
        "json_out",
        &lane.artifact_contract.json_out,
    )?;
    let md_path = artifact_path(settings, lane, index, "md_out", &lane.artifact_contract.md_out)?;

    let mut evidence = EvidenceDir::prepare(&settings.out_dir, &lane.runner_id)?;
    let checks = run_checks(settings, lane, &mut evidence)?;
    let certificate = certificate::assemble(
        Subject {
            lane,
            registry_ref: registry::registry_ref(registry),
            commit_sha: &settings.commit_sha,
            now: settings.now,
        },
        checks,
    );

    dcx_contracts::save(&json_path, &certificate)?;
    dcx_contracts::atomic_write(&md_path, render_markdown(&certificate).as_bytes())?;
    Ok(Certification {
        certificate,
        json_path,
        md_path,
        registry_warnings: loaded.warnings,
    })
}

/// Every row, in order: the registry entry, the commands (registry order),
/// the governance checks, the conformance cases.
fn run_checks(
    settings: &CertifySettings,
    lane: &RegistryLane,
    evidence: &mut EvidenceDir,
) -> Result<Vec<CertificateCheck>, CertifyError> {
    let mut rows = vec![checks::row(
        CONTRACT,
        "registry.entry.shape".to_owned(),
        CheckStatus::Pass,
        0,
        "runner certification registry entry parsed and validated".to_owned(),
    )];
    let commands = checks::unique_in_order(&lane.command_contract_subset);
    let governance = checks::unique_in_order(lane.required_core_checks.iter().map(|c| c.trim()));
    let cases = checks::unique_in_order(lane.required_core_cases.iter().map(|c| c.trim()));

    if lane.status != LaneStatus::Active {
        let reason = format!(
            "lane status is `{}`; only active lanes are certified",
            lane.status.as_str()
        );
        rows.extend(
            commands
                .iter()
                .map(|c| checks::skip(COMMAND, checks::command_id(c.name.trim()), reason.clone())),
        );
        rows.extend(
            governance
                .iter()
                .map(|c| checks::skip(GOVERNANCE_SYNC, checks::governance_id(c), reason.clone())),
        );
        rows.extend(
            cases
                .iter()
                .map(|c| checks::skip(CONFORMANCE, checks::case_id(c), reason.clone())),
        );
        return Ok(rows);
    }

    if !commands.is_empty() || !governance.is_empty() {
        let mut adapter_checks = AdapterChecks {
            adapter: find_adapter(settings, lane),
            class: lane.class,
            timeout: settings.timeout,
            evidence,
        };
        for contract in commands {
            rows.push(adapter_checks.command(contract)?);
        }
        for check in &governance {
            rows.push(adapter_checks.governance(check)?);
        }
    }
    rows.extend(
        cases
            .iter()
            .map(|c| conformance::case_check(&settings.spec_root, c, settings.documents.max_bytes)),
    );
    Ok(rows)
}

fn find_adapter(settings: &CertifySettings, lane: &RegistryLane) -> Result<Adapter, Unavailable> {
    let command = settings
        .adapter
        .as_deref()
        .unwrap_or(&lane.entrypoints.public_adapter);
    adapter::resolve(command, settings.search_path.as_deref())
}

/// `<out-dir>/<file name of the artifact_contract path>`.
fn artifact_path(
    settings: &CertifySettings,
    lane: &RegistryLane,
    index: usize,
    field: &str,
    template: &str,
) -> Result<PathBuf, CertifyError> {
    let value = template.replace("{runner}", &lane.runner_id);
    match Path::new(&value).file_name() {
        Some(name) => Ok(settings.out_dir.join(name)),
        None => Err(CertifyError::ArtifactName {
            registry: settings.registry.clone(),
            pointer: format!("/runners/{index}/artifact_contract/{field}"),
            value,
        }),
    }
}

/// 40 (SHA-1) or 64 (SHA-256) lowercase hex characters, as the certificate
/// contract demands.
fn is_commit_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
