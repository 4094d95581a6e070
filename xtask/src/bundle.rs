//! `cargo xtask bundle …`: implementation bundles for maintainers.
//!
//! - `cargo xtask bundle example [--out DIR]`: builds, packages and checks
//!   the committed overlay example (README "Bundles") with `dcx bundle`,
//!   at the example's fixed time, into
//!   `.artifacts/bundle-example/`;
//! - `cargo xtask bundle <verb> …`: any other verb is `dcx bundle <verb> …`
//!   (`build-impl`, `package-impl`, `build`, `package-check`, `install`,
//!   `install-check`), run from the workspace, so implementation spec
//!   repositories and this one drive bundles the same way.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::cargo::{Profile, dcx, exec_dcx};

/// The committed overlay example.
const OVERLAY: &str = "specs/examples/implementation_bundle_overlay_v1/dcx-example-core-rust.yaml";
/// Its sources.
const OVERLAY_ROOT: &str = "specs/bundles/dcx-example-core-rust";
/// The time the README builds the example at, so the package digest is the
/// documented one.
const EXAMPLE_NOW: &str = "2026-02-22T10:00:00Z";
/// The example's package, as `dcx bundle package-impl` names it.
const EXAMPLE_PACKAGE: &str = "data-contract-bundle-dcx-example-core-rust-v1.0.0.tar.gz";

/// `cargo xtask bundle` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct BundleArgs {
    /// `example`, or a `dcx bundle` verb and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    args: Vec<String>,
}

pub(crate) fn run(root: &Path, args: &BundleArgs) -> ExitCode {
    match args.args.split_first() {
        Some((verb, rest)) if verb == "example" => example(root, rest),
        _ => forward(root, &args.args),
    }
}

/// `dcx bundle <args>`, with dcx's own output and exit code.
fn forward(root: &Path, args: &[String]) -> ExitCode {
    exec_dcx(
        root,
        std::iter::once("bundle").chain(args.iter().map(String::as_str)),
    )
}

fn example(root: &Path, args: &[String]) -> ExitCode {
    let out = match args {
        [] => root.join(".artifacts/bundle-example"),
        [flag, dir] if flag == "--out" => PathBuf::from(dir),
        _ => {
            eprintln!("usage: cargo xtask bundle example [--out DIR]");
            return ExitCode::from(2);
        }
    };
    match run_example(root, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `dcx bundle build-impl`, `package-impl` and `package-check` of the
/// example, at its fixed time, each printing its own summary.
fn run_example(root: &Path, out: &Path) -> Result<(), String> {
    let dcx = dcx(Profile::Debug)?;
    let tree = out.join("tree");
    let package = out.join(EXAMPLE_PACKAGE);
    let overlay = root.join(OVERLAY);
    let overlay_root = root.join(OVERLAY_ROOT);
    let steps: [(&str, Vec<&std::ffi::OsStr>); 3] = [
        (
            "build-impl",
            vec![
                "--overlay".as_ref(),
                overlay.as_os_str(),
                "--overlay-root".as_ref(),
                overlay_root.as_os_str(),
                "--source-repo".as_ref(),
                "dcx-project/dcx".as_ref(),
                "--out".as_ref(),
                tree.as_os_str(),
                "--now".as_ref(),
                EXAMPLE_NOW.as_ref(),
            ],
        ),
        (
            "package-impl",
            vec![
                "--tree".as_ref(),
                tree.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
                "--now".as_ref(),
                EXAMPLE_NOW.as_ref(),
            ],
        ),
        ("package-check", vec!["--package".as_ref(), package.as_os_str()]),
    ];
    for (verb, args) in steps {
        let status = Command::new(&dcx)
            .args(["bundle", verb])
            .args(args)
            // The example is built at its own time, whatever the caller's.
            .env_remove("SOURCE_DATE_EPOCH")
            .status()
            .map_err(|e| format!("cannot run {}: {e}", dcx.display()))?;
        if !status.success() {
            return Err(format!("dcx bundle {verb} failed ({status})"));
        }
    }
    Ok(())
}
