//! `cargo xtask governance`: the checks that keep `specs/` trustworthy.
//!
//! | check id | what it proves |
//! |---|---|
//! | `schemas.fresh` | every `specs/schemas/*.schema.json` is what the Rust types generate, and is a valid JSON Schema |
//! | `specs.documents_valid` | every document under `specs/` but the registry loads (typed parse, version, semantic rules) and validates against its generated schema; negative examples fail with exactly their recorded error |
//! | `registry.consistent` | the runner registry: unique ids, an active lane declares `status_exchange` with a positive SLO, `{runner}` in artifact paths, class and matrix role agree, no unknown fields |
//! | `catalog.pins_match` | `schema_catalog_v1.yaml` pins every document at the major version this build reads, and points at its schema file |
//!
//! Results go to `governance-summary.json` and `.md`; the exit code is 1 when
//! any check fails, naming each.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dcx_contracts::catalog::{CatalogStatus, SchemaCatalog};
use dcx_contracts::certification::CertificationRegistry;
use dcx_contracts::document::{self, Format, LoadError, parse_value};
use dcx_contracts::documents::{self, DocumentKind};
use dcx_contracts::schema::schema_file_name;
use serde::Serialize;

use crate::schemas;

/// The registry file governed.
pub(crate) const REGISTRY_PATH: &str = "specs/runner_certification_registry_v1.yaml";
/// The schema catalog.
pub(crate) const CATALOG_PATH: &str = "specs/schema_catalog_v1.yaml";

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Pass,
    Fail,
}

/// One governance check and what it found.
#[derive(Debug, Serialize)]
pub(crate) struct CheckResult {
    pub(crate) check_id: &'static str,
    pub(crate) status: Status,
    pub(crate) summary: String,
    pub(crate) findings: Vec<String>,
}

impl CheckResult {
    fn from_findings(check_id: &'static str, ok_summary: String, findings: Vec<String>) -> Self {
        let (status, summary) = if findings.is_empty() {
            (Status::Pass, ok_summary)
        } else {
            (Status::Fail, format!("{} problem(s)", findings.len()))
        };
        Self {
            check_id,
            status,
            summary,
            findings,
        }
    }
}

/// The summary document written to `governance-summary.json`.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub(crate) version: u32,
    pub(crate) status: Status,
    pub(crate) failed_checks: Vec<&'static str>,
    pub(crate) checks: Vec<CheckResult>,
}

/// Runs every check against the workspace at `root`.
pub(crate) fn evaluate(root: &Path) -> Summary {
    let checks = vec![
        schemas_fresh(root),
        documents_valid(root),
        registry_consistent(root),
        catalog_pins_match(root),
    ];
    let failed_checks: Vec<&'static str> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.check_id)
        .collect();
    Summary {
        version: 1,
        status: if failed_checks.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        failed_checks,
        checks,
    }
}

fn schemas_fresh(root: &Path) -> CheckResult {
    let mut findings: Vec<String> = schemas::drift(root).iter().map(ToString::to_string).collect();
    for kind in documents::ALL {
        if let Err(e) = jsonschema::options().build(&kind.json_schema()) {
            findings.push(format!(
                "the schema of {} is not a valid JSON Schema: {e}",
                kind.id
            ));
        }
    }
    if !findings.is_empty() {
        findings.push("run `cargo xtask schemas` and commit the result".to_owned());
    }
    CheckResult::from_findings(
        "schemas.fresh",
        format!("{} schemas match the Rust types", documents::ALL.len()),
        findings,
    )
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Validates `bytes` against the generated JSON Schema of `kind`; every
/// error, with its instance pointer.
fn schema_errors(kind: &DocumentKind, bytes: &[u8], format: Format, origin: &str) -> Vec<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => return vec![format!("{origin}: not valid UTF-8")],
    };
    let value = match parse_value(text, format, origin) {
        Ok(value) => value,
        Err(e) => return vec![e.to_string()],
    };
    let validator = match jsonschema::options()
        .should_validate_formats(true)
        .build(&kind.json_schema())
    {
        Ok(v) => v,
        Err(e) => {
            return vec![format!(
                "{origin}: the schema of {} does not compile: {e}",
                kind.id
            )];
        }
    };
    validator
        .iter_errors(&value)
        .map(|e| {
            format!(
                "{origin}: {}: schema: {e}",
                display_pointer(&e.instance_path().to_string())
            )
        })
        .collect()
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "(document)" } else { pointer }
}

/// Whether unknown fields fail a document or are tolerated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UnknownFields {
    /// Our own spec documents: every field must be part of the contract.
    Fail,
    /// Examples copied from upstream may carry fields the contract does not
    /// define (GitHub's API, for one); those stay warnings.
    Tolerate,
}

/// Loads one file: typed parse, semantic rules, and validation against the
/// generated schema.
fn check_document(root: &Path, kind: &DocumentKind, path: &Path, unknown: UnknownFields) -> Vec<String> {
    let origin = relative(root, path);
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return vec![format!("cannot read {origin}: {e}")],
    };
    let format = Format::detect(path, &String::from_utf8_lossy(&bytes));
    let mut findings = match kind.check(&bytes, format, &origin) {
        Ok(warnings) if unknown == UnknownFields::Fail => {
            warnings.iter().map(|w| format!("{origin}: {w}")).collect()
        }
        Ok(_) => Vec::new(),
        Err(e) => vec![e.to_string()],
    };
    findings.extend(schema_errors(kind, &bytes, format, &origin));
    findings
}

fn is_document_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "yaml" | "yml")
    )
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn documents_valid(root: &Path) -> CheckResult {
    let specs = root.join("specs");
    let mut findings = Vec::new();
    let mut count = 0usize;

    // Top-level documents are named after their document id. The registry
    // has a check of its own (`registry.consistent`).
    for path in sorted_entries(&specs) {
        if !path.is_file() || !is_document_file(&path) || path == root.join(REGISTRY_PATH) {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        match documents::by_id(stem) {
            Some(kind) => {
                count += 1;
                findings.extend(check_document(root, kind, &path, UnknownFields::Fail));
            }
            None => findings.push(format!(
                "{}: not named after a document id; name spec documents `<document_id>.yaml|json`",
                relative(root, &path)
            )),
        }
    }

    // Examples: `examples/<document_id>/*` must load, `…/invalid/*` must fail
    // with exactly the error recorded beside them.
    for dir in sorted_entries(&specs.join("examples")) {
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().and_then(|s| s.to_str()).unwrap_or_default();
        let Some(kind) = documents::by_id(name) else {
            findings.push(format!("{}: not a document id", relative(root, &dir)));
            continue;
        };
        for path in sorted_entries(&dir) {
            if path.is_file() && is_document_file(&path) {
                count += 1;
                findings.extend(check_document(root, kind, &path, UnknownFields::Tolerate));
            }
        }
        for path in sorted_entries(&dir.join("invalid")) {
            if path.is_file() && is_document_file(&path) {
                count += 1;
                findings.extend(check_negative_example(root, kind, &path));
            }
        }
    }
    CheckResult::from_findings(
        "specs.documents_valid",
        format!("{count} documents under specs/ are valid (or fail exactly as recorded)"),
        findings,
    )
}

fn check_negative_example(root: &Path, kind: &DocumentKind, path: &Path) -> Vec<String> {
    let origin = relative(root, path);
    let mut expected_path = path.as_os_str().to_owned();
    expected_path.push(".error");
    let expected = match std::fs::read_to_string(PathBuf::from(&expected_path)) {
        Ok(text) => text,
        Err(_) => {
            return vec![format!(
                "{origin}: negative example without `{}.error` holding its expected error",
                path.file_name().and_then(|s| s.to_str()).unwrap_or_default()
            )];
        }
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return vec![format!("cannot read {origin}: {e}")],
    };
    let format = Format::detect(path, &String::from_utf8_lossy(&bytes));
    match kind.check(&bytes, format, &origin) {
        Ok(_) => vec![format!("{origin}: negative example loads without error")],
        Err(e) if e.to_string() == expected.trim_end_matches('\n') => Vec::new(),
        Err(e) => vec![format!(
            "{origin}: fails with a different error than recorded:\n    expected: {}\n    actual:   {e}",
            expected.trim_end()
        )],
    }
}

fn registry_consistent(root: &Path) -> CheckResult {
    let path = root.join(REGISTRY_PATH);
    let mut findings = Vec::new();
    let mut lanes = 0;
    match document::load::<CertificationRegistry>(&path) {
        Ok(loaded) => {
            lanes = loaded.document.runners.len();
            findings.extend(loaded.warnings.iter().map(|w| format!("{REGISTRY_PATH}: {w}")));
        }
        Err(LoadError::Invalid { violations, .. }) => {
            findings.extend(violations.iter().map(|v| format!("{REGISTRY_PATH}: {v}")));
        }
        Err(e) => findings.push(e.to_string().replace(&root.display().to_string(), ".")),
    }
    if let Some(kind) = documents::by_id("runner_certification_registry_v1")
        && let Ok(bytes) = std::fs::read(&path)
    {
        findings.extend(schema_errors(kind, &bytes, Format::Yaml, REGISTRY_PATH));
    }
    CheckResult::from_findings(
        "registry.consistent",
        format!("{lanes} lanes, ids unique, active lanes publish status with a positive SLO"),
        findings,
    )
}

/// The major version a catalog must pin for `kind`: its version field, else
/// the `_vN` suffix of its id. `None` for external formats (GitHub's API).
fn expected_major(kind: &DocumentKind) -> Option<u64> {
    if let Some(version) = kind.version {
        return Some(version.major());
    }
    kind.id.rsplit_once("_v").and_then(|(_, n)| n.parse().ok())
}

fn catalog_pins_match(root: &Path) -> CheckResult {
    let path = root.join(CATALOG_PATH);
    let catalog = match document::load::<SchemaCatalog>(&path) {
        Ok(loaded) => loaded.document,
        Err(e) => {
            return CheckResult::from_findings(
                "catalog.pins_match",
                String::new(),
                vec![e.to_string().replace(&root.display().to_string(), ".")],
            );
        }
    };
    let mut findings = Vec::new();
    for kind in documents::ALL {
        let Some(major) = expected_major(kind) else {
            continue;
        };
        match catalog.active_major(kind.id) {
            None => findings.push(format!(
                "{CATALOG_PATH}: no active pin for {} (this build reads major {major})",
                kind.id
            )),
            Some(pinned) if pinned != major => findings.push(format!(
                "{CATALOG_PATH}: {} is pinned at major {pinned} but this build reads {major}",
                kind.id
            )),
            Some(_) => {}
        }
    }
    for (i, entry) in catalog.schemas.iter().enumerate() {
        let at = format!("{CATALOG_PATH}: /schemas/{i}");
        match documents::by_id(&entry.schema_id) {
            None => findings.push(format!(
                "{at}: {:?} is not a document this build knows",
                entry.schema_id
            )),
            Some(kind) => {
                let expected_path = format!("/specs/schemas/{}", schema_file_name(kind.id));
                if entry.path != expected_path {
                    findings.push(format!(
                        "{at}/path: is {:?}, expected {expected_path:?}",
                        entry.path
                    ));
                } else if !root.join(expected_path.trim_start_matches('/')).is_file() {
                    findings.push(format!("{at}/path: {expected_path} does not exist"));
                }
            }
        }
        if entry.status == CatalogStatus::Deprecated && documents::by_id(&entry.schema_id).is_some() {
            // A deprecated pin of a current document would hide the active one.
            if catalog.active_major(&entry.schema_id).is_none() {
                findings.push(format!("{at}: {} has only a deprecated pin", entry.schema_id));
            }
        }
    }
    CheckResult::from_findings(
        "catalog.pins_match",
        format!(
            "{} pins match the versions this build reads",
            catalog.schemas.len()
        ),
        findings,
    )
}

/// The Markdown summary a person reads in CI logs or a PR.
pub(crate) fn render_markdown(summary: &Summary) -> String {
    let failed = summary.failed_checks.len();
    let mut out = String::from("# Governance summary\n\n");
    out.push_str(&match summary.status {
        Status::Pass => format!("All {} checks pass.\n\n", summary.checks.len()),
        Status::Fail => format!("**{failed} of {} checks fail.**\n\n", summary.checks.len()),
    });
    out.push_str("| check | status | summary |\n|---|---|---|\n");
    for check in &summary.checks {
        let status = match check.status {
            Status::Pass => "pass",
            Status::Fail => "**fail**",
        };
        out.push_str(&format!(
            "| `{}` | {status} | {} |\n",
            check.check_id, check.summary
        ));
    }
    for check in summary.checks.iter().filter(|c| c.status == Status::Fail) {
        out.push_str(&format!("\n## `{}`\n\n", check.check_id));
        for finding in &check.findings {
            out.push_str("- ");
            out.push_str(&finding.replace('\n', "\n  "));
            out.push('\n');
        }
    }
    out
}

pub(crate) fn run(root: &Path, out_dir: &Path) -> ExitCode {
    let summary = evaluate(root);
    let mut json = match serde_json::to_string_pretty(&summary) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("error: cannot serialize the summary: {e}");
            return ExitCode::from(2);
        }
    };
    json.push('\n');
    for (name, bytes) in [
        ("governance-summary.json", json.into_bytes()),
        ("governance-summary.md", render_markdown(&summary).into_bytes()),
    ] {
        if let Err(e) = dcx_contracts::atomic_write(&out_dir.join(name), &bytes) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    for check in &summary.checks {
        let status = match check.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
        };
        println!("{status:<4}  {:<24} {}", check.check_id, check.summary);
        for finding in &check.findings {
            println!("      - {}", finding.replace('\n', "\n        "));
        }
    }
    println!("wrote {}", out_dir.join("governance-summary.json").display());
    println!("wrote {}", out_dir.join("governance-summary.md").display());
    if summary.status == Status::Pass {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: governance failed: {}", summary.failed_checks.join(", "));
        ExitCode::FAILURE
    }
}
