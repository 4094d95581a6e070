//! Shared test scaffolding: a scratch directory with the fixture adapter,
//! registries built from lane descriptions (`dcx-testkit`'s generator), and
//! the checks every written certificate must pass.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dcx_certification::{Certification, CertifySettings, verify};
use dcx_contracts::Timestamp;
use dcx_contracts::certification::ExecutionCertificate;
use dcx_testkit::{Lane, registry_json};
use serde_json::Value;

pub(crate) const COMMIT: &str = "5f0c2a9e81d4b7c3a6e0f9d2b8c1a7e4d3f6b9a0";

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub(crate) fn repo_registry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/runner_certification_registry_v1.yaml")
}

pub(crate) fn specs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

/// A scratch directory holding an executable copy of the fixture adapter.
pub(crate) struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let adapter = dir.path().join("adapter.sh");
        std::fs::copy(fixtures().join("adapter.sh"), &adapter).unwrap();
        set_mode(&adapter, 0o755);
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn adapter(&self) -> PathBuf {
        self.path().join("adapter.sh")
    }

    /// A wrapper around the fixture adapter that sets its environment, so
    /// a test can make one invocation misbehave without touching the
    /// environment of the test process.
    pub(crate) fn adapter_with(&self, name: &str, variable: &str, invocation: &str) -> PathBuf {
        let wrapper = self.path().join(name);
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\n{variable}='{invocation}' exec '{}' \"$@\"\n",
                self.adapter().display()
            ),
        )
        .unwrap();
        set_mode(&wrapper, 0o755);
        wrapper
    }

    pub(crate) fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    /// Writes a registry of `lanes` (see [`lane`]) and returns its path.
    pub(crate) fn registry(&self, lanes: &[Lane]) -> PathBuf {
        // YAML reads JSON; the file is named like the real one.
        let path = self.path().join("registry.yaml");
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&registry_json(lanes)).unwrap(),
        )
        .unwrap();
        path
    }

    pub(crate) fn settings(&self, runner_id: &str, registry: PathBuf, adapter: &Path) -> CertifySettings {
        CertifySettings {
            runner_id: runner_id.to_owned(),
            registry,
            adapter: Some(adapter.display().to_string()),
            search_path: None,
            spec_root: fixtures().join("spec-root"),
            out_dir: self.out(),
            commit_sha: COMMIT.to_owned(),
            now: Timestamp::parse("2026-02-20T00:00:00Z").unwrap(),
            timeout: Duration::from_secs(20),
            documents: dcx_contracts::LoadLimits::default(),
        }
    }
}

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// One certified registry lane. `commands` are `(name, args, expect_exit)`.
pub(crate) fn lane(
    runner_id: &str,
    class: &'static str,
    status: &'static str,
    commands: &[(&str, &[&str], &[i64])],
    checks: &[&str],
    cases: &[&str],
) -> Lane {
    Lane::active(
        runner_id,
        class,
        format!("https://example.invalid/{runner_id}/releases/latest"),
    )
    .with_status(status)
    .with_report_asset(None)
    .certified(commands, checks, cases)
}

/// What must hold for every certificate dcx writes: the file is the
/// certificate, pretty, in struct order, with a final newline; it matches
/// the generated schema (formats checked); it verifies, strictly.
pub(crate) fn assert_written_well(certification: &Certification) {
    let bytes = std::fs::read(&certification.json_path).unwrap();
    let mut expected = serde_json::to_vec_pretty(&certification.certificate).unwrap();
    expected.push(b'\n');
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        String::from_utf8(expected).unwrap()
    );

    let schema = dcx_contracts::schema::json_schema::<ExecutionCertificate>();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:?}");

    let verification = verify::verify_file(&certification.json_path, None).unwrap();
    assert!(verification.passes(true), "{:?}", verification.findings);
    assert_eq!(
        verification.payload_sha256,
        Some(certification.certificate.proof.payload_sha256)
    );

    let md = std::fs::read_to_string(&certification.md_path).unwrap();
    assert_eq!(md, dcx_certification::render_markdown(&certification.certificate));
}

/// `(group, id, status, exit_code, detail)` of every row, for comparisons.
pub(crate) fn rows(certification: &Certification) -> Vec<(String, String, String, i64, String)> {
    certification
        .certificate
        .checks
        .iter()
        .map(|c| {
            let status = serde_json::to_value(c.status).unwrap();
            (
                c.group.clone(),
                c.id.clone(),
                status.as_str().unwrap().to_owned(),
                c.exit_code,
                c.detail.clone(),
            )
        })
        .collect()
}
