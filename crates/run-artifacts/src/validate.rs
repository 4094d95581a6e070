//! `runs validate`: every artifact checked the Dash way
//! ([`artifact`](crate::artifact)), plus what only a validator looks at:
//! directories under `runs/` that no product owns, run directories whose
//! recorder was killed before writing the report, and the schema files of
//! the layout.

use crate::artifact::{Finding, FindingKind, ProductSource, Severity, read_fleet, read_last_run};
use crate::layout::{DashDir, ProductId, RUNS_DIR};
use crate::store::{self, RunState};

/// The findings for one product.
#[derive(Debug, Clone)]
pub struct ProductFindings {
    /// The product id as written in `products.json`.
    pub product_id: String,
    /// Its findings (the card's badges).
    pub findings: Vec<Finding>,
}

/// Everything `validate` found.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Fleet-level findings: `products.json`, stray directories, schemas.
    pub fleet: Vec<Finding>,
    /// Per product, in registry order.
    pub products: Vec<ProductFindings>,
    /// Whether `products.json` itself is missing or invalid (a configuration
    /// error rather than a finding about runs).
    pub registry_error: bool,
}

impl Validation {
    /// Every finding, fleet first.
    pub(crate) fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.fleet
            .iter()
            .chain(self.products.iter().flat_map(|p| &p.findings))
    }

    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings().filter(|f| f.severity == severity).count()
    }
}

/// Validates the dash directory.
pub fn validate(dash: &DashDir) -> Validation {
    let fleet = read_fleet(dash);
    let registry_error = fleet.has_errors();
    let mut fleet_findings = fleet.findings.clone();
    let registered: Vec<&str> = fleet
        .products
        .iter()
        .filter(|p| p.source == ProductSource::Registry)
        .map(|p| p.product_id.as_str())
        .collect();
    if !registry_error {
        fleet_findings.extend(stray_directories(dash, &registered));
    }
    for file in dash.stale_schemas() {
        fleet_findings.push(Finding {
            severity: Severity::Warning,
            kind: FindingKind::MissingArtifact,
            text: format!("Schema missing or not this build's (dcx fleet register writes it): {file}"),
            file,
        });
    }
    let products = fleet
        .products
        .iter()
        .filter_map(|product| {
            let id = product.id.as_ref()?;
            let mut findings = read_last_run(dash, id, product.is_active()).findings;
            findings.extend(unfinished_runs(dash, id));
            Some(ProductFindings {
                product_id: product.product_id.clone(),
                findings,
            })
        })
        .collect();
    Validation {
        fleet: fleet_findings,
        products,
        registry_error,
    }
}

/// Run directories marked as being recorded whose recorder is gone (the
/// mark's lock is free), except the one `last_run.json` names: that one
/// has its report. A warning: the run's evidence is what it is, and `gc`
/// removes it.
fn unfinished_runs(dash: &DashDir, product: &ProductId) -> Vec<Finding> {
    let Ok(runs) = dash.run_ids(product) else {
        return Vec::new();
    };
    let reported = dash
        .read_document(&dash.last_run_file(product))
        .ok()
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|report| report["run_id"].as_str().map(str::to_owned));
    runs.into_iter()
        .filter(|run| reported.as_deref() != Some(run.as_str()))
        .filter(|run| {
            matches!(
                store::run_state(&dash.product_dir(product).join(run)),
                Ok(RunState::Abandoned(_))
            )
        })
        .map(|run| {
            let file = format!("{RUNS_DIR}/{product}/{run}/");
            Finding {
                severity: Severity::Warning,
                kind: FindingKind::UnfinishedRun,
                text: format!(
                    "Unfinished run, no report (its recorder was stopped before writing one; dcx runs gc removes it): {file}"
                ),
                file,
            }
        })
        .collect()
}

/// Directories under `runs/` that are not registered products.
fn stray_directories(dash: &DashDir, registered: &[&str]) -> Vec<Finding> {
    let Ok(entries) = std::fs::read_dir(dash.runs_dir()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !registered.contains(&name.as_str()))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let file = format!("{RUNS_DIR}/{name}/");
            let text = if ProductId::parse(&name).is_ok() {
                format!("Not a registered product: {file}")
            } else {
                format!("Not a product directory (not a valid product id): {file}")
            };
            Finding {
                severity: Severity::Warning,
                kind: FindingKind::UnregisteredProduct,
                file,
                text,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_directories_and_schemas_are_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        std::fs::write(
            dash.products_file(),
            r#"{"schema_version":"0.1","products":[{"product_id":"a","display_name":"A","owner":"o","status":"planned"}]}"#,
        )
        .unwrap();
        for stray in ["runs/a", "runs/old-product", "runs/Not A Slug"] {
            std::fs::create_dir_all(dir.path().join(stray)).unwrap();
        }
        let validation = validate(&dash);
        assert!(!validation.registry_error);
        assert_eq!(
            validation.findings().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "Not a product directory (not a valid product id): runs/Not A Slug/",
                "Not a registered product: runs/old-product/",
                "Schema missing or not this build's (dcx fleet register writes it): schemas/products.schema.json",
                "Schema missing or not this build's (dcx fleet register writes it): schemas/last_run.schema.json",
                "Missing artifact: runs/a/last_run.json",
            ]
        );
        assert_eq!(validation.count(Severity::Error), 1);
        assert_eq!(validation.count(Severity::Warning), 4);
    }
}
