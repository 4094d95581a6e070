//! Dash directories for the run-artifact tests: the bundled example fleet
//! (`examples/dash`, the upstream fleet) and a fleet with one product per
//! bad input of the run-artifacts issue's table, built from the upstream
//! examples.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The repository this crate is in: the fleets are built from its files.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Copies the tree `from` to `to` (files and directories only).
///
/// # Panics
/// On any I/O error.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of `examples/dash` at `<dir>/dash`, without a rendered page.
pub fn example_fleet(dir: &Path) -> PathBuf {
    let dash = dir.join("dash");
    copy_dir(&repo_root().join("examples/dash"), &dash);
    let _ = std::fs::remove_file(dash.join("index.html"));
    dash
}

fn upstream_example(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("specs/examples/last_run").join(name)).unwrap()
}

/// Writes `runs/<id>/last_run.json` and the run's log.
fn write_report(dash: &Path, id: &str, text: &str) {
    let product = dash.join("runs").join(id);
    std::fs::create_dir_all(product.join("run_20251221_090000")).unwrap();
    std::fs::write(
        product.join("run_20251221_090000/pytest_output.log"),
        "18 passed in 1.00s\n",
    )
    .unwrap();
    std::fs::write(product.join("last_run.json"), text).unwrap();
}

/// An upstream example retargeted at product `id`.
fn retargeted(example: &str, id: &str) -> String {
    upstream_example(example).replace("banana-economy", id)
}

/// The text an attacker would put in a report's summary.
pub const SCRIPT_SUMMARY: &str = "<script>document.title='pwned-summary'</script>";
/// ... in a kill switch's reason.
pub const SCRIPT_REASON: &str = "<img src=x onerror=\"document.title='pwned-reason'\"> budget gone";
/// ... in a product's display name.
pub const SCRIPT_NAME: &str = "Injection <b>Bold</b> & Co";

/// The example fleet plus one product per bad input:
///
/// | product | input | badge |
/// |---|---|---|
/// | `missing-report` | no `last_run.json` | Missing artifact |
/// | `not-json` | `last_run.json` is not JSON | Invalid artifact |
/// | `no-banana-economy` | schema-invalid (upstream negative example) | Invalid artifact |
/// | `future-version` | `schema_version` "0.2" (upstream negative example) | Unsupported schema version |
/// | `evidence-escape` | evidence outside the dash directory (upstream negative example) | Invalid artifact |
/// | `script-injection` | `<script>` in summary, reason and name | none: rendered as text |
pub fn bad_fleet(dir: &Path) -> PathBuf {
    let dash = example_fleet(dir);
    let products_file = dash.join("products.json");
    let mut registry: Value =
        serde_json::from_str(&std::fs::read_to_string(&products_file).unwrap()).unwrap();
    let products = registry["products"].as_array_mut().unwrap();
    for (id, name) in [
        ("missing-report", "Missing Report"),
        ("not-json", "Not JSON"),
        ("no-banana-economy", "No Banana Economy"),
        ("future-version", "Future Version"),
        ("evidence-escape", "Evidence Escape"),
        ("script-injection", SCRIPT_NAME),
    ] {
        products.push(json!({
            "product_id": id,
            "display_name": name,
            "owner": "CodeMonkeys",
            "status": "active",
        }));
    }
    std::fs::write(&products_file, serde_json::to_string_pretty(&registry).unwrap()).unwrap();

    std::fs::create_dir_all(dash.join("runs/not-json")).unwrap();
    std::fs::write(dash.join("runs/not-json/last_run.json"), "{ this is not JSON").unwrap();
    write_report(
        &dash,
        "no-banana-economy",
        &retargeted("invalid/missing-banana-economy.json", "no-banana-economy"),
    );
    write_report(
        &dash,
        "future-version",
        &retargeted("invalid/schema-version-0.2.json", "future-version"),
    );
    write_report(
        &dash,
        "evidence-escape",
        &retargeted("invalid/evidence-path-escapes-dash.json", "evidence-escape"),
    );
    let mut injected: Value =
        serde_json::from_str(&retargeted("banana-economy.json", "script-injection")).unwrap();
    injected["summary"] = json!(SCRIPT_SUMMARY);
    injected["kill_switch"] = json!({"enabled": true, "reason": SCRIPT_REASON});
    write_report(&dash, "script-injection", &injected.to_string());
    dash
}
