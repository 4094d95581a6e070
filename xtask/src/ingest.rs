//! `cargo xtask ingest` and `cargo xtask check-freshness`: the status
//! exchange's two CI entry points, as `dcx status ingest` and
//! `dcx status check-freshness` with the workspace's defaults.
//!
//! They run the real `dcx` binary in place of xtask (built and found by
//! [`crate::cargo`]), so the main job prints, annotates and exits exactly as
//! the CLI users run does. Defaults
//! are passed first and the caller's arguments after them; `dcx` lets a
//! repeated flag take its last value, so any default can be overridden.
//! Paths are relative to the workspace root, like every xtask path.
//!
//! Without arguments, `cargo xtask ingest` ingests the example lanes of
//! [`EXAMPLE_REGISTRY`], published as local release files under
//! `specs/examples/`, so it works offline on a fresh clone; CI passes
//! `--registry specs/runner_certification_registry_v1.yaml` for the real
//! lanes (docs/STATUS_EXCHANGE.md).

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

/// The registry `cargo xtask ingest` reads by default: the example lanes.
pub(crate) const EXAMPLE_REGISTRY: &str = "specs/examples/runner_certification_registry_v1/local-lanes.yaml";
/// The schema catalog.
const CATALOG: &str = "specs/schema_catalog_v1.yaml";
/// Where the artifacts go.
const MATRIX_JSON: &str = ".artifacts/runner-status-matrix.json";

/// Arguments handed to `dcx` after the defaults.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct PassThrough {
    /// Any `dcx status …` flag; `--help` lists them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "DCX ARGS")]
    args: Vec<OsString>,
}

/// `cargo xtask ingest [dcx status ingest flags]`.
pub(crate) fn ingest(root: &Path, extra: &PassThrough) -> ExitCode {
    let defaults = [
        "status",
        "ingest",
        "--registry",
        EXAMPLE_REGISTRY,
        "--catalog",
        CATALOG,
        "--out-json",
        MATRIX_JSON,
        "--out-md",
        ".artifacts/runner-status-matrix.md",
        "--log-json",
        ".artifacts/runner-status-ingest-log.json",
        "--state-file",
        ".artifacts/runner-status-ingest-state.json",
        "--cache-dir",
        ".artifacts/cache/status-ingest",
    ];
    run_dcx(root, &defaults, &extra.args)
}

/// `cargo xtask check-freshness [dcx status check-freshness flags]`.
pub(crate) fn check_freshness(root: &Path, extra: &PassThrough) -> ExitCode {
    run_dcx(
        root,
        &["status", "check-freshness", "--matrix", MATRIX_JSON],
        &extra.args,
    )
}

fn run_dcx(root: &Path, defaults: &[&str], extra: &[OsString]) -> ExitCode {
    crate::cargo::exec_dcx(
        root,
        defaults.iter().map(OsString::from).chain(extra.iter().cloned()),
    )
}
