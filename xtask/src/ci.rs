//! `cargo xtask ci`: exactly what CI runs, in order, stopping at the first
//! failure. `.ci/run` installs the toolchain pieces and calls this.

use std::path::Path;
use std::process::{Command, ExitCode};

pub(crate) fn run(root: &Path) -> ExitCode {
    let steps: Vec<(&str, Command)> = vec![
        ("format", {
            let mut c = crate::cargo::command();
            c.args(["fmt", "--all", "--", "--check"]);
            c
        }),
        ("tidy", {
            let mut c = crate::cargo::command();
            c.args(["xtask", "tidy"]);
            c
        }),
        ("clippy", {
            let mut c = crate::cargo::command();
            c.args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]);
            c
        }),
        ("tests", {
            let mut c = crate::cargo::command();
            c.args(["test", "--workspace", "--locked"]);
            // xtask's tests run `cargo xtask certify`, which runs dcx: the
            // one this build makes (tests run only after every target is
            // built), not a second build of it (see `cargo::DCX_BINARY_VAR`).
            if let Ok(metadata) = crate::cargo::metadata(root) {
                c.env(
                    crate::cargo::DCX_BINARY_VAR,
                    metadata.target_directory.join("debug").join("dcx"),
                );
            }
            c
        }),
        ("docs", {
            let mut c = crate::cargo::command();
            c.args(["doc", "--workspace", "--no-deps", "--locked"]);
            c.env("RUSTDOCFLAGS", "-D warnings");
            c
        }),
        ("schemas", {
            let mut c = crate::cargo::command();
            c.args(["xtask", "schemas", "--check"]);
            c
        }),
        ("governance", {
            let mut c = crate::cargo::command();
            c.args(["xtask", "governance"]);
            c
        }),
    ];
    for (name, mut command) in steps {
        eprintln!("==> {name}: {command:?}");
        match command.current_dir(root).status() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("error: CI step `{name}` failed ({status})");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot run CI step `{name}`: {e}");
                return ExitCode::from(2);
            }
        }
    }
    eprintln!("==> CI passed");
    ExitCode::SUCCESS
}
