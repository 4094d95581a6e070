//! `cargo xtask bundle …`: implementation bundles for maintainers.
//!
//! - `cargo xtask bundle example [--out DIR]`: builds, packages and checks
//!   the committed overlay example (README "Bundles") through
//!   `dcx-bundle-overlay`, at the example's fixed time, into
//!   `.artifacts/bundle-example/`;
//! - `cargo xtask bundle <verb> …`: any other verb is `dcx bundle <verb> …`
//!   (`build-impl`, `package-impl`, `build`, `package-check`, `install`,
//!   `install-check`), run from the workspace, so implementation spec
//!   repositories and this one drive bundles the same way.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use dcx_bundle_overlay::Limits;
use dcx_bundle_overlay::build::{BuildRequest, build_impl};
use dcx_bundle_overlay::check::{CheckRequest, Expected, StatementCheck, package_check};
use dcx_bundle_overlay::package::{PackageRequest, package_impl};
use dcx_bundle_overlay::progress::NoProgress;
use dcx_contracts::Timestamp;
use dcx_contracts::bundle::LockSource;

/// The committed overlay example.
const OVERLAY: &str = "specs/examples/implementation_bundle_overlay_v1/dcx-example-core-rust.yaml";
/// Its sources.
const OVERLAY_ROOT: &str = "specs/bundles/dcx-example-core-rust";
/// The time the README builds the example at, so the package digest is the
/// documented one.
const EXAMPLE_NOW: &str = "2026-02-22T10:00:00Z";

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

/// `dcx bundle <args>` through cargo, with dcx's own exit code.
fn forward(root: &Path, args: &[String]) -> ExitCode {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "--quiet", "--package", "dcx", "--", "bundle"])
        .args(args)
        .current_dir(root)
        .status();
    match status {
        Ok(status) => status
            .code()
            .and_then(|code| u8::try_from(code).ok())
            .map_or(ExitCode::FAILURE, ExitCode::from),
        Err(error) => {
            eprintln!("error: cannot run cargo: {error}");
            ExitCode::from(2)
        }
    }
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

fn run_example(root: &Path, out: &Path) -> Result<(), String> {
    let now = Timestamp::parse(EXAMPLE_NOW).map_err(|e| e.to_string())?;
    let tree = out.join("tree");
    let overlay = root.join(OVERLAY);
    let overlay_root = root.join(OVERLAY_ROOT);
    let built = build_impl(
        &BuildRequest {
            overlay: &overlay,
            overlay_root: Some(&overlay_root),
            out: &tree,
            source: LockSource {
                repo: "dcx-project/dcx".to_owned(),
                r#ref: "HEAD".to_owned(),
                commit: "unknown".to_owned(),
            },
            now,
            tooling_version: &format!("dcx {}", env!("CARGO_PKG_VERSION")),
            limits: Limits::default(),
        },
        &NoProgress,
    )
    .map_err(|e| e.to_string())?;
    println!(
        "built {} {} in {} ({} added, {} replaced, {} deleted)",
        built.bundle.bundle_id,
        built.bundle.bundle_version,
        tree.display(),
        built.added,
        built.replaced,
        built.deleted
    );
    let packaged = package_impl(
        &PackageRequest {
            tree: &tree,
            out,
            now,
            source_date_epoch: None,
            threads: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
        },
        &NoProgress,
    )
    .map_err(|e| e.to_string())?;
    println!(
        "packaged {} sha256 {}",
        packaged.package.display(),
        packaged.sha256
    );
    let report = package_check(
        &CheckRequest {
            package: &packaged.package,
            expected: Expected::Sidecar(packaged.sidecar.clone()),
            statement: None,
            limits: Limits::default(),
        },
        &NoProgress,
    )
    .map_err(|e| e.to_string())?;
    let statement = match report.statement {
        StatementCheck::Verified(_) => "in-toto statement verified",
        StatementCheck::Absent(_) => "no in-toto statement",
    };
    println!(
        "checked {}: checksum, {} files, lock integrity, {statement}",
        packaged.package.display(),
        report.files
    );
    Ok(())
}
