//! `runner-certify`: registry lane in, certificate out.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dcx_contracts::certification::{
    CertificateCheck, CertificationRegistry, CheckStatus, ExecutionCertificate, RegistryLane,
};
use dcx_contracts::document::{Format, to_bytes};
use dcx_contracts::status::LaneStatus;
use dcx_contracts::{Document, LoadLimits, SaveError, Timestamp, Warning};
use dcx_sys::{Cancel, LockError, LockFile, Wait};

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

/// The lock file that serializes certifications into one output directory.
pub const OUT_DIR_LOCK_FILE_NAME: &str = ".dcx-certify.lock";

/// Certifies one lane: loads the registry, runs the checks, writes
/// `<out-dir>/<json_out name>` and `<out-dir>/<md_out name>` (the file names
/// of the lane's `artifact_contract`, `{runner}` substituted) as one set,
/// and returns what it wrote.
///
/// A failing check is a certificate with verdict `fail`, not an error.
/// Errors are configuration and I/O problems: an invalid registry, an
/// unknown lane, a malformed commit, an unwritable output directory; and
/// [`CertifyError::Cancelled`] when `cancel` is cancelled before the
/// certificate is written (the adapter's process group is stopped first;
/// nothing is written).
///
/// Certifications into one output directory are serialized by an exclusive
/// lock on `<out-dir>/.dcx-certify.lock`, held from before the evidence is
/// prepared until the certificate is written; this one waits for it
/// silently. [`certify_with`] says when it waits.
pub fn certify(settings: &CertifySettings, cancel: &Cancel) -> Result<Certification, CertifyError> {
    certify_with(settings, cancel, |_, _| {})
}

/// [`certify`], calling `on_wait` once with the lock file and the holder's
/// pid (when known) if another process holds the output directory's lock.
/// Waiting ends when the lock is free or `cancel` is cancelled.
pub fn certify_with(
    settings: &CertifySettings,
    cancel: &Cancel,
    on_wait: impl FnOnce(&Path, Option<u32>),
) -> Result<Certification, CertifyError> {
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

    let _lock = lock_out_dir(&settings.out_dir, cancel, on_wait)?;
    let mut evidence = EvidenceDir::prepare(&settings.out_dir, &lane.runner_id)?;
    let checks = run_checks(settings, lane, &mut evidence, cancel)?;
    let certificate = certificate::assemble(
        Subject {
            lane,
            registry_ref: registry::registry_ref(registry),
            commit_sha: &settings.commit_sha,
            now: settings.now,
        },
        checks,
    );
    let json = certificate_bytes(&json_path, &certificate)?;
    let md = render_markdown(&certificate);

    // The last moment to stop without writing anything.
    if let Some(reason) = cancel.reason() {
        return Err(CertifyError::Cancelled { reason });
    }
    evidence.publish()?;
    dcx_contracts::atomic_write_set(&[(&json_path, &json), (&md_path, md.as_bytes())])?;
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
    cancel: &Cancel,
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
            cancel,
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

/// Takes the output directory's lock (creating the directory), polling so
/// that a cancellation ends the wait too.
fn lock_out_dir(
    out_dir: &Path,
    cancel: &Cancel,
    on_wait: impl FnOnce(&Path, Option<u32>),
) -> Result<LockFile, CertifyError> {
    let path = out_dir.join(OUT_DIR_LOCK_FILE_NAME);
    let mut on_wait = Some(on_wait);
    let mut pause = Duration::from_millis(2);
    loop {
        match dcx_sys::lock_exclusive(&path, Wait::Fail, |_| {}) {
            Ok(lock) => return Ok(lock),
            Err(LockError::Busy { holder, .. }) => {
                if let Some(on_wait) = on_wait.take() {
                    on_wait(&path, holder);
                }
            }
            Err(error) => return Err(CertifyError::Lock(error)),
        }
        if let Some(reason) = cancel.reason() {
            return Err(CertifyError::Cancelled { reason });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The certificate as it is saved, once it passed its own rules (what
/// [`dcx_contracts::save`] checks), so it can be written in one set with
/// its Markdown.
fn certificate_bytes(path: &Path, certificate: &ExecutionCertificate) -> Result<Vec<u8>, CertifyError> {
    let violations = certificate.validate();
    if !violations.is_empty() {
        return Err(SaveError::Invalid {
            path: path.display().to_string(),
            document: ExecutionCertificate::NAME,
            violations,
        }
        .into());
    }
    to_bytes(certificate, Format::Json).map_err(|message| {
        SaveError::Serialize {
            path: path.display().to_string(),
            document: ExecutionCertificate::NAME,
            message,
        }
        .into()
    })
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
