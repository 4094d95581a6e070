//! Reading artifacts "the Dash way" (contract §5): every problem becomes a
//! [`Finding`] about one file, and whatever can still be read is returned as
//! a lenient view, so one bad file never hides the rest of the fleet.
//!
//! The order follows DESIGN.md: a missing file is its own finding; otherwise
//! `schema_version` is checked first (an unsupported version is rendered
//! best effort), then the typed contract ([`dcx_contracts`]) with its JSON
//! Pointers. Views are built from the raw JSON rather than the typed
//! document, so a report that fails validation still shows every field it
//! does have.

use std::fmt;

use dcx_contracts::run_artifacts::{LastRun, Products};
use dcx_contracts::{Document, Format, LoadError, Timestamp};
use serde_json::{Map, Value};

use crate::layout::{DashDir, PRODUCTS_FILE, ProductId};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The artifact cannot be trusted: an error badge, a failed validation.
    Error,
    /// Worth a look; rendering and validation go on.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FindingKind {
    /// `Missing artifact: <path>` (contract §5): a report or evidence file
    /// that is not there.
    MissingArtifact,
    /// `Invalid artifact: <pointer>: <message>` (contract §5).
    InvalidArtifact,
    /// `Unsupported schema version: <version>` (contract §5); the artifact is
    /// still rendered, best effort.
    UnsupportedVersion,
    /// An evidence path that resolves outside the dash directory.
    OutsideDash,
    /// An evidence path that is not in the directory of the reported run
    /// (upstream's `spec-kit` fixture).
    EvidenceOfAnotherRun,
    /// A directory under `runs/` that `products.json` does not list.
    UnregisteredProduct,
    /// A run directory without a report: its recorder stopped (was killed)
    /// before writing one. `gc` removes it.
    UnfinishedRun,
}

impl FindingKind {
    /// A stable identifier, used as a CSS hook and in tests.
    pub(crate) fn slug(&self) -> &'static str {
        match self {
            FindingKind::MissingArtifact => "missing-artifact",
            FindingKind::InvalidArtifact => "invalid-artifact",
            FindingKind::UnsupportedVersion => "unsupported-version",
            FindingKind::OutsideDash => "outside-dash",
            FindingKind::EvidenceOfAnotherRun => "evidence-of-another-run",
            FindingKind::UnregisteredProduct => "unregistered-product",
            FindingKind::UnfinishedRun => "unfinished-run",
        }
    }
}

/// One problem with one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What kind of problem it is.
    pub(crate) kind: FindingKind,
    /// The artifact, relative to the dash directory.
    pub file: String,
    /// The message as Dash shows it, e.g. `Invalid artifact: /status: …`.
    pub text: String,
}

impl Finding {
    /// `Missing artifact: <file>`.
    pub(crate) fn missing(severity: Severity, file: impl Into<String>) -> Self {
        let file = file.into();
        Self {
            severity,
            kind: FindingKind::MissingArtifact,
            text: format!("Missing artifact: {file}"),
            file,
        }
    }

    /// `Invalid artifact: <pointer>: <message>`; the whole document is
    /// written `(document)`, as the contracts library does.
    pub(crate) fn invalid(file: impl Into<String>, pointer: &str, message: impl fmt::Display) -> Self {
        let pointer = if pointer.is_empty() { "(document)" } else { pointer };
        Self {
            severity: Severity::Error,
            kind: FindingKind::InvalidArtifact,
            file: file.into(),
            text: format!("Invalid artifact: {pointer}: {message}"),
        }
    }

    /// `Unsupported schema version: <version>`. An error like the other two
    /// (the issue's decision): this build cannot vouch for the artifact,
    /// although the card still shows what it could read.
    pub(crate) fn unsupported_version(file: impl Into<String>, version: &str) -> Self {
        Self {
            severity: Severity::Error,
            kind: FindingKind::UnsupportedVersion,
            file: file.into(),
            text: format!("Unsupported schema version: {version}"),
        }
    }

    fn other(severity: Severity, kind: FindingKind, file: impl Into<String>, text: String) -> Self {
        Self {
            severity,
            kind,
            file: file.into(),
            text,
        }
    }
}

impl fmt::Display for Finding {
    /// `<file>: <text>`, or just the text when it already names the file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.text.ends_with(&self.file) {
            f.write_str(&self.text)
        } else {
            write!(f, "{}: {}", self.file, self.text)
        }
    }
}

/// The findings of one document load, in the contract's three forms.
fn load_findings<D: Document>(bytes: &[u8], file: &str) -> Vec<Finding> {
    match dcx_contracts::from_bytes::<D>(bytes, Format::Json, file) {
        Ok(_) => Vec::new(),
        Err(error) => findings_of(error, file),
    }
}

fn findings_of(error: LoadError, file: &str) -> Vec<Finding> {
    match error {
        LoadError::UnsupportedVersion { found, .. } => {
            // `found` is the raw JSON value; "0.2" reads better unquoted.
            let version = found.trim_matches('"');
            vec![Finding::unsupported_version(file, version)]
        }
        LoadError::Syntax {
            line,
            column,
            message,
            format,
            ..
        } => {
            let at = match (line, column) {
                (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
                _ => String::new(),
            };
            vec![Finding::invalid(
                file,
                "",
                format!("not valid {format}{at}: {message}"),
            )]
        }
        LoadError::Field { pointer, message, .. } => vec![Finding::invalid(file, &pointer, message)],
        LoadError::Invalid { violations, .. } => violations
            .iter()
            .map(|v| Finding::invalid(file, &v.pointer, &v.message))
            .collect(),
        LoadError::Read { source, .. } => vec![Finding::invalid(file, "", format!("cannot read: {source}"))],
        // `LoadError` is non-exhaustive; a future variant still names the file.
        other => vec![Finding::invalid(file, "", other)],
    }
}

/// Where a product on the dashboard came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProductSource {
    /// An entry of `products.json`.
    Registry,
    /// A directory under `runs/`, shown because `products.json` could not be
    /// read.
    Discovered,
}

/// A product as far as it could be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProductView {
    /// The `product_id` as written (possibly empty or unsafe).
    pub product_id: String,
    /// The id, when it is a safe slug; only then are its runs looked up.
    pub id: Option<ProductId>,
    /// `display_name`.
    pub display_name: Option<String>,
    /// `owner`.
    pub owner: Option<String>,
    /// `status`, as written.
    pub status: Option<String>,
    /// `criticality`, as written.
    pub criticality: Option<String>,
    /// `sla_tier`, as written.
    pub sla_tier: Option<String>,
    /// `enabled` (absent means enabled).
    pub enabled: Option<bool>,
    /// Where this entry came from.
    pub source: ProductSource,
}

impl ProductView {
    /// Whether the product is `active`: its missing evidence is an error,
    /// not a warning (upstream's `silverback_validate.py` rule).
    pub(crate) fn is_active(&self) -> bool {
        self.status.as_deref() == Some("active")
    }

    /// The name to show: `display_name`, else the id.
    pub(crate) fn name(&self) -> &str {
        match self.display_name.as_deref() {
            Some(name) if !name.trim().is_empty() => name,
            _ => &self.product_id,
        }
    }

    fn from_json(entry: &Map<String, Value>) -> Self {
        let product_id = text(entry, "product_id").unwrap_or_default();
        Self {
            id: ProductId::parse(&product_id).ok(),
            product_id,
            display_name: text(entry, "display_name"),
            owner: text(entry, "owner"),
            status: text(entry, "status"),
            criticality: text(entry, "criticality"),
            sla_tier: entry.get("sla_tier").map(scalar_text),
            enabled: entry.get("enabled").and_then(Value::as_bool),
            source: ProductSource::Registry,
        }
    }

    fn discovered(id: ProductId) -> Self {
        Self {
            product_id: id.to_string(),
            id: Some(id),
            display_name: None,
            owner: None,
            status: None,
            criticality: None,
            sla_tier: None,
            enabled: None,
            source: ProductSource::Discovered,
        }
    }
}

/// The fleet as far as `products.json` could be read.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Problems with `products.json` (fleet-level).
    pub findings: Vec<Finding>,
    /// The products, in registry order.
    pub(crate) products: Vec<ProductView>,
}

impl Fleet {
    /// Whether `products.json` has an error (missing, unreadable, invalid).
    pub(crate) fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Reads `products.json` the Dash way.
///
/// When it is missing or not JSON, the products are discovered from the
/// directories under `runs/`, so their cards still render under the
/// fleet-level error.
pub(crate) fn read_fleet(dash: &DashDir) -> Fleet {
    let mut findings = Vec::new();
    let mut products = Vec::new();
    match dash.read_document(&dash.products_file()) {
        Ok(None) => findings.push(Finding::missing(Severity::Error, PRODUCTS_FILE)),
        Err(e) => findings.push(Finding::invalid(PRODUCTS_FILE, "", e)),
        Ok(Some(bytes)) => {
            findings = load_findings::<Products>(&bytes, PRODUCTS_FILE);
            if let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(&bytes)
                && let Some(Value::Array(entries)) = root.get("products")
            {
                products = entries
                    .iter()
                    .filter_map(Value::as_object)
                    .map(ProductView::from_json)
                    .collect();
            }
        }
    }
    if products.is_empty() && !findings.is_empty() {
        products = dash
            .product_dirs()
            .unwrap_or_default()
            .into_iter()
            .map(ProductView::discovered)
            .collect();
    }
    Fleet { findings, products }
}

/// One evidence path of a run report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EvidenceItem {
    /// The path as written, relative to the dash directory.
    pub path: String,
    /// Whether it stays inside the dash directory (lexically and through
    /// symlinks); only then is it linked.
    pub inside: bool,
    /// Whether the file exists.
    pub exists: bool,
}

/// The banana economy of a report, field by field.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct BananaView {
    /// `budget_tokens`.
    pub budget_tokens: Option<f64>,
    /// `spent_tokens`.
    pub spent_tokens: Option<f64>,
    /// `budget_minutes`.
    pub budget_minutes: Option<f64>,
    /// `spent_minutes`.
    pub spent_minutes: Option<f64>,
    /// `max_ci_heal_attempts`.
    pub max_ci_heal_attempts: Option<f64>,
    /// `ci_heal_attempts_used`.
    pub ci_heal_attempts_used: Option<f64>,
}

/// The kill switch of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KillSwitchView {
    /// `enabled`.
    pub enabled: Option<bool>,
    /// `reason`.
    pub reason: Option<String>,
}

/// The PR wave of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PrWaveView {
    /// `state`, as written.
    pub state: Option<String>,
    /// `open_prs`.
    pub open_prs: Option<String>,
    /// `last_update`, normalized when it is RFC 3339.
    pub last_update: Option<String>,
}

/// A run report as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RunView {
    /// `schema_version`, as written.
    pub schema_version: Option<String>,
    /// `product_id`.
    pub product_id: Option<String>,
    /// `run_id`.
    pub run_id: Option<String>,
    /// `status`, as written.
    pub status: Option<String>,
    /// `started_at`, normalized to UTC whole seconds when it is RFC 3339.
    pub started_at: Option<String>,
    /// `ended_at`, likewise.
    pub ended_at: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `evidence.paths`, checked.
    pub evidence: Vec<EvidenceItem>,
    /// `banana_economy`.
    pub banana_economy: Option<BananaView>,
    /// `kill_switch`.
    pub kill_switch: Option<KillSwitchView>,
    /// `pr_wave`.
    pub pr_wave: Option<PrWaveView>,
}

/// A product's `last_run.json`, read the Dash way.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunArtifact {
    /// Its problems; empty when it is valid and its evidence is present.
    pub findings: Vec<Finding>,
    /// What could be read; `None` when the file is missing or not a JSON
    /// object.
    pub view: Option<RunView>,
}

/// Reads `runs/<product>/last_run.json` and checks it and its evidence.
///
/// `active` raises missing evidence from a warning to an error.
pub(crate) fn read_last_run(dash: &DashDir, product: &ProductId, active: bool) -> RunArtifact {
    let file = DashDir::last_run_relative(product);
    let bytes = match dash.read_document(&dash.last_run_file(product)) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return RunArtifact {
                findings: vec![Finding::missing(Severity::Error, file)],
                view: None,
            };
        }
        Err(e) => {
            return RunArtifact {
                findings: vec![Finding::invalid(file, "", e)],
                view: None,
            };
        }
    };
    let mut findings = load_findings::<LastRun>(&bytes, &file);
    // The contract validated evidence paths lexically unless the version
    // stopped it first; then this module reports unsafe paths itself.
    let contract_checked_paths = !findings.iter().any(|f| f.kind == FindingKind::UnsupportedVersion);
    let view = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(report)) => Some(run_view(dash, &report)),
        _ => None,
    };
    if let Some(view) = &view {
        if let Some(found) = &view.product_id
            && found != product.as_str()
        {
            findings.push(Finding::invalid(
                &file,
                "/product_id",
                format!(
                    "{found:?} does not match the product directory {:?}",
                    product.as_str()
                ),
            ));
        }
        findings.extend(evidence_findings(product, view, active, contract_checked_paths));
    }
    RunArtifact { findings, view }
}

fn evidence_findings(
    product: &ProductId,
    view: &RunView,
    active: bool,
    contract_checked_paths: bool,
) -> Vec<Finding> {
    let missing = if active {
        Severity::Error
    } else {
        Severity::Warning
    };
    let run_prefix = view
        .run_id
        .as_deref()
        .map(|run| DashDir::run_file_relative(product, run, ""));
    let mut findings = Vec::new();
    for item in &view.evidence {
        if !item.inside {
            if !contract_checked_paths || item.exists {
                // Lexically fine but a symlink out, or never checked.
                findings.push(Finding::other(
                    Severity::Error,
                    FindingKind::OutsideDash,
                    &item.path,
                    format!("Evidence outside the dash directory: {}", item.path),
                ));
            }
            continue;
        }
        if !item.exists {
            findings.push(Finding::missing(missing, &item.path));
        }
        if let Some(prefix) = &run_prefix
            && !item.path.starts_with(prefix.as_str())
        {
            findings.push(Finding::other(
                Severity::Warning,
                FindingKind::EvidenceOfAnotherRun,
                &item.path,
                format!("Evidence not in the run's directory {prefix}: {}", item.path),
            ));
        }
    }
    findings
}

fn run_view(dash: &DashDir, report: &Map<String, Value>) -> RunView {
    let object = |key: &str| report.get(key).and_then(Value::as_object);
    let evidence = object("evidence")
        .and_then(|e| e.get("paths"))
        .and_then(Value::as_array)
        .map(|paths| {
            paths
                .iter()
                .filter_map(Value::as_str)
                .map(|path| evidence_item(dash, path))
                .collect()
        })
        .unwrap_or_default();
    RunView {
        schema_version: report.get("schema_version").map(scalar_text),
        product_id: text(report, "product_id"),
        run_id: text(report, "run_id"),
        status: text(report, "status"),
        started_at: text(report, "started_at").map(|t| normalized_time(&t)),
        ended_at: text(report, "ended_at").map(|t| normalized_time(&t)),
        summary: text(report, "summary"),
        evidence,
        banana_economy: object("banana_economy").map(|b| BananaView {
            budget_tokens: number(b, "budget_tokens"),
            spent_tokens: number(b, "spent_tokens"),
            budget_minutes: number(b, "budget_minutes"),
            spent_minutes: number(b, "spent_minutes"),
            max_ci_heal_attempts: number(b, "max_ci_heal_attempts"),
            ci_heal_attempts_used: number(b, "ci_heal_attempts_used"),
        }),
        kill_switch: object("kill_switch").map(|k| KillSwitchView {
            enabled: k.get("enabled").and_then(Value::as_bool),
            reason: text(k, "reason"),
        }),
        pr_wave: object("pr_wave").map(|w| PrWaveView {
            state: text(w, "state"),
            open_prs: w.get("open_prs").map(scalar_text),
            last_update: text(w, "last_update").map(|t| normalized_time(&t)),
        }),
    }
}

fn evidence_item(dash: &DashDir, path: &str) -> EvidenceItem {
    match dash.resolve(path) {
        Ok(resolved) => {
            // `symlink_metadata` so a dangling link counts as present but is
            // then refused by `contains`, never followed.
            let exists = resolved.symlink_metadata().is_ok();
            let inside = !exists || dash.contains(&resolved);
            EvidenceItem {
                path: path.to_owned(),
                inside,
                exists,
            }
        }
        Err(_) => EvidenceItem {
            path: path.to_owned(),
            inside: false,
            exists: false,
        },
    }
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(object: &Map<String, Value>, key: &str) -> Option<f64> {
    object.get(key).and_then(Value::as_f64)
}

/// A scalar as text: strings unquoted, anything else as JSON.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An RFC 3339 instant in dcx's normal form; anything else as written.
fn normalized_time(text: &str) -> String {
    Timestamp::parse(text).map_or_else(|_| text.to_owned(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dash_with(products: Option<&str>) -> (tempfile::TempDir, DashDir) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = products {
            std::fs::write(dir.path().join(PRODUCTS_FILE), text).unwrap();
        }
        let dash = DashDir::new(dir.path());
        (dir, dash)
    }

    fn write_last_run(dash: &DashDir, product: &str, text: &str) -> ProductId {
        let id = ProductId::parse(product).unwrap();
        std::fs::create_dir_all(dash.product_dir(&id)).unwrap();
        std::fs::write(dash.last_run_file(&id), text).unwrap();
        id
    }

    const REPORT: &str = include_str!("../../../specs/examples/last_run/banana-economy.json");

    #[test]
    fn missing_products_json_is_a_fleet_error_and_runs_are_discovered() {
        let (_dir, dash) = dash_with(None);
        write_last_run(&dash, "banana-economy", REPORT);
        let fleet = read_fleet(&dash);
        assert_eq!(
            fleet.findings,
            [Finding::missing(Severity::Error, "products.json")]
        );
        assert_eq!(fleet.findings[0].to_string(), "Missing artifact: products.json");
        assert_eq!(fleet.products.len(), 1);
        assert_eq!(fleet.products[0].source, ProductSource::Discovered);
        assert_eq!(fleet.products[0].name(), "banana-economy");
    }

    #[test]
    fn invalid_products_json_names_the_pointer_and_keeps_the_products() {
        let (_dir, dash) = dash_with(Some(
            r#"{"schema_version":"0.1","products":[
                {"product_id":"a","display_name":"A","owner":"o","status":"retired"},
                {"product_id":"../x","display_name":"X","owner":"o","status":"active"}]}"#,
        ));
        let fleet = read_fleet(&dash);
        assert_eq!(
            fleet.findings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "products.json: Invalid artifact: /products/0/status: unknown value `retired`, expected one of \
              `bootstrap`, `active`, `pending`, `development`, `planned`, `deprecated`, `archived`"
            ]
        );
        assert!(fleet.has_errors());
        assert_eq!(fleet.products.len(), 2);
        assert_eq!(fleet.products[0].status.as_deref(), Some("retired"));
        assert_eq!(fleet.products[1].id, None, "an unsafe id is never used as a path");
    }

    #[test]
    fn documents_over_the_cap_are_findings_not_reads() {
        let (_dir, dash) = dash_with(Some(r#"{"schema_version":"0.1","products":[]}"#));
        let id = write_last_run(&dash, "banana-economy", REPORT);
        let dash = dash.with_load_limits(dcx_contracts::LoadLimits::with_max_bytes(10));
        let fleet = read_fleet(&dash);
        assert_eq!(
            fleet.findings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "products.json: Invalid artifact: (document): the file has 38 bytes, over the cap of 10 bytes; not read (raise --max-document-bytes if it really is that large)"
            ]
        );
        let artifact = read_last_run(&dash, &id, true);
        assert_eq!(
            artifact.findings[0].text,
            format!(
                "Invalid artifact: (document): the file has {} bytes, over the cap of 10 bytes; not read (raise --max-document-bytes if it really is that large)",
                REPORT.len()
            )
        );
        assert!(artifact.view.is_none());
    }

    #[test]
    fn products_json_version_is_checked_first() {
        let (_dir, dash) = dash_with(Some(r#"{"schema_version":"0.2","products":[]}"#));
        let fleet = read_fleet(&dash);
        assert_eq!(fleet.findings[0].text, "Unsupported schema version: 0.2");
        assert_eq!(fleet.findings[0].severity, Severity::Error);
    }

    #[test]
    fn the_three_contract_messages() {
        let (_dir, dash) = dash_with(None);
        let missing = ProductId::parse("missing").unwrap();
        let artifact = read_last_run(&dash, &missing, true);
        assert_eq!(
            artifact.findings[0].text,
            "Missing artifact: runs/missing/last_run.json"
        );
        assert!(artifact.view.is_none());

        let id = write_last_run(&dash, "banana-economy", "{not json");
        let artifact = read_last_run(&dash, &id, true);
        assert_eq!(
            artifact.findings[0].text,
            "Invalid artifact: (document): not valid JSON at line 1, column 2: key must be a string"
        );

        let id = write_last_run(&dash, "banana-economy", &REPORT.replace("\"0.1\"", "\"0.2\""));
        let artifact = read_last_run(&dash, &id, false);
        assert_eq!(
            artifact
                .findings
                .iter()
                .map(|f| (f.severity, f.text.as_str()))
                .collect::<Vec<_>>(),
            [
                (Severity::Error, "Unsupported schema version: 0.2"),
                (
                    Severity::Warning,
                    "Missing artifact: runs/banana-economy/run_20251221_090000/pytest_output.log"
                ),
            ]
        );
        let view = artifact.view.unwrap();
        assert_eq!(view.summary.as_deref(), Some("All tests passed (18 tests)"));
        assert_eq!(view.pr_wave.unwrap().state.as_deref(), Some("merging"));
    }

    #[test]
    fn an_invalid_report_still_shows_what_it_has() {
        let (_dir, dash) = dash_with(None);
        let mut report: Value = serde_json::from_str(REPORT).unwrap();
        report.as_object_mut().unwrap().remove("banana_economy");
        let id = write_last_run(&dash, "banana-economy", &report.to_string());
        let artifact = read_last_run(&dash, &id, false);
        assert_eq!(
            artifact.findings[0].text,
            "Invalid artifact: /banana_economy: missing required field (expected an object)"
        );
        let view = artifact.view.unwrap();
        assert_eq!(view.run_id.as_deref(), Some("run_20251221_090000"));
        assert_eq!(view.started_at.as_deref(), Some("2025-12-21T09:00:00Z"));
        assert!(view.banana_economy.is_none());
    }

    #[test]
    fn evidence_is_checked_for_presence_run_and_product() {
        let (dir, dash) = dash_with(None);
        let report = REPORT.replace(
            "run_20251221_090000/pytest_output.log",
            "run_20251219_100000/pytest_output.log",
        );
        let id = write_last_run(&dash, "spec-kit", &report.replace("banana-economy", "spec-kit"));
        std::fs::create_dir_all(dir.path().join("runs/spec-kit/run_20251219_100000")).unwrap();
        std::fs::write(
            dir.path()
                .join("runs/spec-kit/run_20251219_100000/pytest_output.log"),
            "",
        )
        .unwrap();
        let artifact = read_last_run(&dash, &id, true);
        assert_eq!(
            artifact
                .findings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "Evidence not in the run's directory runs/spec-kit/run_20251221_090000/: \
              runs/spec-kit/run_20251219_100000/pytest_output.log"
            ]
        );

        let other = write_last_run(&dash, "other", &report.replace("banana-economy", "spec-kit"));
        let artifact = read_last_run(&dash, &other, true);
        assert_eq!(
            artifact.findings[0].to_string(),
            "runs/other/last_run.json: Invalid artifact: /product_id: \"spec-kit\" does not match the product directory \"other\""
        );
    }

    #[cfg(unix)]
    #[test]
    fn evidence_symlinked_out_of_the_dash_directory_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("passwd"), "root").unwrap();
        let (dir, dash) = dash_with(None);
        let id = write_last_run(&dash, "banana-economy", REPORT);
        let run = dir.path().join("runs/banana-economy/run_20251221_090000");
        std::fs::create_dir_all(&run).unwrap();
        std::os::unix::fs::symlink(outside.path().join("passwd"), run.join("pytest_output.log")).unwrap();
        let artifact = read_last_run(&dash, &id, true);
        assert_eq!(
            artifact.findings[0].text,
            "Evidence outside the dash directory: runs/banana-economy/run_20251221_090000/pytest_output.log"
        );
        assert!(!artifact.view.unwrap().evidence[0].inside);
    }
}
