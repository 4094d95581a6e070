//! What the end-to-end tests of `dcx` share (`crate::support`): running
//! the binary and reading what it printed (here), real processes, pids,
//! signals and bounded waits ([`process`]), failing standard outputs
//! ([`output`]), trees and the leftovers of killed writers ([`files`]),
//! generated base bundles ([`bundle`]), the certify fixtures ([`certify`]);
//! and, from `dcx-testkit`, the fleets of the run-artifact tests: the
//! bundled example fleet (`examples/dash`, the upstream fleet) and a fleet
//! with one product per bad input of the table.

pub(crate) mod bundle;
pub(crate) mod certify;
pub(crate) mod files;
pub(crate) mod output;
pub(crate) mod process;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) use dcx_testkit::{
    SCRIPT_NAME, SCRIPT_REASON, SCRIPT_SUMMARY, bad_fleet, copy_dir, example_fleet,
};

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
