//! What the end-to-end tests of `dcx` share (`crate::support`): running
//! the binary and reading what it printed (here), real processes, pids, signals and bounded waits
//! ([`process`]), failing standard outputs ([`output`]), trees and the
//! leftovers of killed writers ([`files`]), generated base bundles
//! ([`bundle`]), the certify fixtures ([`certify`]), and the fleets of the
//! run-artifact tests (here): the bundled example fleet (`examples/dash`,
//! the upstream fleet) and a fleet with one product per bad input of the
//! issue's table, built from the upstream examples.

pub(crate) mod bundle;
pub(crate) mod certify;
pub(crate) mod files;
pub(crate) mod output;
pub(crate) mod process;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// The pinned clock of the run-artifact tests.
pub(crate) const NOW: &str = "2026-02-20T12:00:00Z";

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `relative` in the repository.
pub(crate) fn repo(relative: &str) -> PathBuf {
    repo_root().join(relative)
}

/// Runs `dcx` in `dir`.
pub(crate) fn dcx(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dcx"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// What a process wrote, as text (invalid UTF-8 replaced, so that a
/// failing assertion still shows the rest).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

pub(crate) fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

/// Asserts that `output` exited with `code`, showing `context` and both
/// outputs otherwise.
#[track_caller]
pub(crate) fn assert_exit(output: &Output, code: i32, context: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{context}\nstdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
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
pub(crate) fn example_fleet(dir: &Path) -> PathBuf {
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

/// The text an attacker would put in a report.
pub(crate) const SCRIPT_SUMMARY: &str = "<script>document.title='pwned-summary'</script>";
pub(crate) const SCRIPT_REASON: &str = "<img src=x onerror=\"document.title='pwned-reason'\"> budget gone";
pub(crate) const SCRIPT_NAME: &str = "Injection <b>Bold</b> & Co";

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
pub(crate) fn bad_fleet(dir: &Path) -> PathBuf {
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
