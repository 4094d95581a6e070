//! `dcx bundle …`: implementation spec bundles (seed 003) over
//! `dcx-bundle-overlay`.
//!
//! This module takes the time (`--now`, `SOURCE_DATE_EPOCH`, the clock:
//! `flags::now`), shows progress bars when stderr is a terminal, prints, and maps errors
//! to exit codes: 0 success, 1 a negative verdict (checksum or verification
//! mismatch, unsafe package, download failure), 2 usage or configuration
//! (bad overlay or lock, unusable `--out`).

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use dcx_bundle_overlay::{
    BuildOutcome, BuildRequest, CheckRequest, Expected, InstallCheckError, InstallRequest, Limits,
    PackageOutcome, PackageRequest, Progress, StatementCheck, build_impl, install, install_check,
    package_check, package_impl,
};
use dcx_contracts::bundle::{BundleRunner, LockSource, ProjectBundleLock};
use dcx_contracts::{LoadLimits, Sha256Hex, Timestamp, load_with};

use crate::exit::Exit;
use crate::flags::now::{NOW, NowArg};
use crate::flags::size::parse_size;
use crate::progress::ProgressLine;

/// `dcx bundle` arguments.
#[derive(Debug, Args)]
pub(crate) struct BundleArgs {
    #[command(subcommand)]
    command: BundleCommand,
}

#[derive(Debug, Subcommand)]
enum BundleCommand {
    /// Build an implementation bundle tree: fetch and verify the base
    /// package, apply the overlay, write resolved_files.sha256 and the locks.
    BuildImpl(BuildImplArgs),
    /// Package a built tree: the reproducible .tar.gz, its .sha256 sidecar
    /// and an in-toto statement; fills result_package_sha256 in the tree's
    /// build lock.
    PackageImpl(PackageImplArgs),
    /// build-impl, then package-impl, in one go.
    Build(BuildArgs),
    /// Check a package: its checksum, then every member against
    /// resolved_files.sha256, the lock integrity and the in-toto statement.
    PackageCheck(PackageCheckArgs),
    /// Install every bundle of a project lock (bundles.lock.yaml): download,
    /// verify, unpack and deep-verify, then move into place.
    Install(InstallArgs),
    /// Check that every bundle of a project lock is installed and intact.
    InstallCheck(InstallCheckArgs),
}

#[derive(Debug, Args)]
struct OverlayArgs {
    /// The implementation_bundle_overlay_v1 document.
    #[arg(long, value_name = "FILE")]
    overlay: PathBuf,
    /// Where the overlay's source_paths are resolved [default: the
    /// overlay's directory].
    #[arg(long, value_name = "DIR")]
    overlay_root: Option<PathBuf>,
    /// The lock's source.repo: the repository holding the overlay.
    #[arg(long, default_value = "unknown")]
    source_repo: String,
    /// The lock's source.ref.
    #[arg(long, default_value = "HEAD")]
    source_ref: String,
    /// The lock's source.commit.
    #[arg(long, default_value = "unknown")]
    source_commit: String,
    #[command(flatten)]
    limits: LimitArgs,
}

/// `--now` of the commands that honour `SOURCE_DATE_EPOCH`.
#[derive(Debug, Args)]
#[command(mut_arg(NOW, |arg| arg.help(
    "The time written into the build lock and the in-toto statement \
     [default: SOURCE_DATE_EPOCH when set, else the clock]."
)))]
struct TimeArgs {
    #[command(flatten)]
    now: NowArg,
}

#[derive(Debug, Args)]
struct LimitArgs {
    /// The largest package accepted, downloaded or local (bytes, or
    /// KiB/MiB/GiB).
    #[arg(
        long,
        visible_alias = "max-download-bytes",
        value_name = "SIZE",
        default_value = "1GiB",
        value_parser = parse_size
    )]
    max_package_bytes: u64,
    /// The largest total unpacked size (bytes, or KiB/MiB/GiB).
    #[arg(long, value_name = "SIZE", default_value = "4GiB", value_parser = parse_size)]
    max_unpacked_bytes: u64,
    /// The largest single archive member (bytes, or KiB/MiB/GiB).
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    max_member_bytes: u64,
    /// The most archive entries, directories included.
    #[arg(long, value_name = "COUNT", default_value_t = Limits::default().max_entries)]
    max_entries: u64,
}

impl LimitArgs {
    fn limits(&self, documents: LoadLimits) -> Limits {
        Limits {
            max_package_bytes: self.max_package_bytes,
            max_unpacked_bytes: self.max_unpacked_bytes,
            max_member_bytes: self.max_member_bytes,
            max_entries: self.max_entries,
            max_document_bytes: documents.max_bytes,
            ..Limits::default()
        }
    }
}

#[derive(Debug, Args)]
struct BuildImplArgs {
    #[command(flatten)]
    overlay: OverlayArgs,
    /// The output tree (replaced only if absent, empty or a bundle tree).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    time: TimeArgs,
}

#[derive(Debug, Args)]
struct PackArgs {
    /// Compression threads [default: the available cores]; the package
    /// bytes do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
}

#[derive(Debug, Args)]
struct PackageImplArgs {
    /// A tree written by build-impl.
    #[arg(long, value_name = "DIR")]
    tree: PathBuf,
    /// Where the .tar.gz, .sha256 and .intoto.json go.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    time: TimeArgs,
    #[command(flatten)]
    pack: PackArgs,
}

#[derive(Debug, Args)]
struct BuildArgs {
    #[command(flatten)]
    overlay: OverlayArgs,
    /// Where the package assets go.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Where the built tree goes [default: OUT/tree].
    #[arg(long, value_name = "DIR")]
    tree: Option<PathBuf>,
    #[command(flatten)]
    time: TimeArgs,
    #[command(flatten)]
    pack: PackArgs,
}

#[derive(Debug, Args)]
struct PackageCheckArgs {
    /// The .tar.gz to check.
    #[arg(long, value_name = "FILE")]
    package: PathBuf,
    /// The expected sha256, or a checksum file [default: PACKAGE.sha256].
    #[arg(long, value_name = "DIGEST|FILE")]
    sha256: Option<String>,
    /// The in-toto statement [default: PACKAGE.intoto.json, if present].
    #[arg(long, value_name = "FILE")]
    statement: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The project lock and its workspace, of `install` and `install-check`.
#[derive(Debug, Args)]
struct ProjectLockArgs {
    /// The project lock.
    #[arg(
        long,
        alias = "project-lock",
        value_name = "FILE",
        default_value = "bundles.lock.yaml"
    )]
    lock: PathBuf,
    /// The directory install_dirs are relative to [default: the lock's
    /// directory].
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
}

impl ProjectLockArgs {
    /// `--workspace`, else the lock's directory.
    fn workspace(&self) -> PathBuf {
        match &self.workspace {
            Some(dir) => dir.clone(),
            None => match self.lock.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
        }
    }
}

#[derive(Debug, Args)]
struct InstallArgs {
    #[command(flatten)]
    project: ProjectLockArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
struct InstallCheckArgs {
    #[command(flatten)]
    project: ProjectLockArgs,
}

pub(crate) fn run(args: BundleArgs, documents: LoadLimits) -> Exit {
    let outcome = match args.command {
        BundleCommand::BuildImpl(args) => run_build_impl(&args, documents),
        BundleCommand::PackageImpl(args) => run_package_impl(&args),
        BundleCommand::Build(args) => run_build(&args, documents),
        BundleCommand::PackageCheck(args) => run_package_check(&args, documents),
        BundleCommand::Install(args) => run_install(&args, documents),
        BundleCommand::InstallCheck(args) => run_install_check(&args, documents),
    };
    match outcome {
        Ok(()) => Exit::Success,
        Err(Failure { message, code }) => {
            errln!("error: {message}");
            code
        }
    }
}

/// An error message and the exit status it earns.
struct Failure {
    message: String,
    code: Exit,
}

impl Failure {
    fn new(error: &dyn std::fmt::Display, configuration: bool) -> Self {
        Self {
            message: error.to_string(),
            code: if configuration {
                Exit::Usage
            } else {
                Exit::Negative
            },
        }
    }

    fn usage(message: String) -> Self {
        Self {
            message,
            code: Exit::Usage,
        }
    }
}

fn run_build_impl(args: &BuildImplArgs, documents: LoadLimits) -> Result<(), Failure> {
    let now = now(&args.time)?;
    let outcome = build(&args.overlay, &args.out, now, documents)?;
    print_build(&outcome);
    Ok(())
}

fn run_package_impl(args: &PackageImplArgs) -> Result<(), Failure> {
    let now = now(&args.time)?;
    let outcome = package(&args.tree, &args.out, now, &args.pack)?;
    print_package(&outcome);
    Ok(())
}

fn run_build(args: &BuildArgs, documents: LoadLimits) -> Result<(), Failure> {
    let now = now(&args.time)?;
    let tree = args.tree.clone().unwrap_or_else(|| args.out.join("tree"));
    let built = build(&args.overlay, &tree, now, documents)?;
    print_build(&built);
    let packaged = package(&tree, &args.out, now, &args.pack)?;
    print_package(&packaged);
    Ok(())
}

fn build(
    args: &OverlayArgs,
    out: &Path,
    now: Timestamp,
    documents: LoadLimits,
) -> Result<BuildOutcome, Failure> {
    let tooling_version = tooling_version();
    let request = BuildRequest {
        overlay: &args.overlay,
        overlay_root: args.overlay_root.as_deref(),
        out,
        source: LockSource {
            repo: args.source_repo.clone(),
            r#ref: args.source_ref.clone(),
            commit: args.source_commit.clone(),
        },
        now,
        tooling_version: &tooling_version,
        limits: args.limits.limits(documents),
    };
    let outcome = with_progress(|progress| build_impl(&request, progress))
        .map_err(|error| Failure::new(&error, error.is_configuration()))?;
    for warning in &outcome.warnings {
        errln!("warning: {}: {warning}", args.overlay.display());
    }
    Ok(outcome)
}

fn package(tree: &Path, out: &Path, now: Timestamp, pack: &PackArgs) -> Result<PackageOutcome, Failure> {
    let request = PackageRequest {
        tree,
        out,
        now,
        source_date_epoch: crate::flags::now::source_date_epoch()
            .map_err(|error| Failure::usage(error.to_string()))?,
        threads: pack
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)),
    };
    with_progress(|progress| package_impl(&request, progress))
        .map_err(|error| Failure::new(&error, error.is_configuration()))
}

fn print_build(outcome: &BuildOutcome) {
    outln!(
        "built {} {} ({}) in {}",
        outcome.bundle.bundle_id,
        outcome.bundle.bundle_version,
        runner_name(outcome.runner),
        outcome.out.display()
    );
    outln!("  base_package_sha256    {}", outcome.base_package_sha256);
    outln!(
        "  overlay_sha256         {}  ({} added, {} replaced, {} deleted)",
        outcome.overlay_sha256,
        outcome.added,
        outcome.replaced,
        outcome.deleted
    );
    outln!(
        "  resolved_files_sha256  {}  ({} files)",
        outcome.resolved_files_sha256,
        outcome.file_count
    );
}

fn print_package(outcome: &PackageOutcome) {
    outln!("packaged {} ({} bytes)", outcome.package.display(), outcome.size);
    outln!("  sha256     {}", outcome.sha256);
    outln!("  sidecar    {}", outcome.sidecar.display());
    outln!("  statement  {}", outcome.statement.display());
    outln!(
        "  updated    {} (result_package_sha256)",
        outcome.build_lock.display()
    );
}

fn run_package_check(args: &PackageCheckArgs, documents: LoadLimits) -> Result<(), Failure> {
    let expected = match &args.sha256 {
        Some(text) => match Sha256Hex::parse(text) {
            Ok(digest) => Expected::Digest(digest),
            Err(_) => Expected::Sidecar(PathBuf::from(text)),
        },
        None => Expected::Sidecar(PathBuf::from(format!("{}.sha256", args.package.display()))),
    };
    let request = CheckRequest {
        package: &args.package,
        expected,
        statement: args.statement.as_deref(),
        limits: args.limits.limits(documents),
    };
    let report = with_progress(|progress| package_check(&request, progress))
        .map_err(|error| Failure::new(&error, error.is_configuration()))?;
    outln!("OK: package checksum verified for {}", report.package.display());
    outln!(
        "OK: {} files of {} ({}) match resolved_files.sha256; lock integrity recomputed{}",
        report.files,
        report.bundle_id,
        runner_name(report.runner),
        if report.implementation.is_some() {
            "; build lock consistent"
        } else {
            ""
        }
    );
    match &report.statement {
        StatementCheck::Verified(path) => {
            outln!("OK: in-toto statement {} names the package", path.display())
        }
        StatementCheck::Absent(path) => outln!("note: no in-toto statement at {}", path.display()),
    }
    Ok(())
}

fn load_lock(path: &Path, documents: &LoadLimits) -> Result<ProjectBundleLock, Failure> {
    let loaded =
        load_with::<ProjectBundleLock>(path, documents).map_err(|error| Failure::usage(error.to_string()))?;
    for warning in &loaded.warnings {
        errln!("warning: {}: {warning}", path.display());
    }
    Ok(loaded.document)
}

fn run_install(args: &InstallArgs, documents: LoadLimits) -> Result<(), Failure> {
    let lock = load_lock(&args.project.lock, &documents)?;
    let workspace = args.project.workspace();
    let request = InstallRequest {
        lock: &lock,
        lock_path: &args.project.lock,
        workspace: &workspace,
        limits: args.limits.limits(documents),
    };
    let installed = with_progress(|progress| install(&request, progress))
        .map_err(|error| Failure::new(&error, error.is_configuration()))?;
    for bundle in installed {
        outln!(
            "installed {} into {} ({} files{})",
            bundle.name,
            bundle.dir.display(),
            bundle.files,
            if bundle.implementation {
                ", implementation bundle"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn run_install_check(args: &InstallCheckArgs, documents: LoadLimits) -> Result<(), Failure> {
    let lock = load_lock(&args.project.lock, &documents)?;
    let workspace = args.project.workspace();
    let checked = install_check(&lock, &args.project.lock, &workspace).map_err(|error| {
        let configuration = matches!(error, InstallCheckError::Plan(_));
        Failure::new(&error, configuration)
    })?;
    for bundle in checked {
        outln!(
            "ok: {} in {} ({} files)",
            bundle.name,
            bundle.dir.display(),
            bundle.files
        );
    }
    Ok(())
}

/// The runner as documents spell it.
fn runner_name(runner: BundleRunner) -> &'static str {
    match runner {
        BundleRunner::Rust => "rust",
        BundleRunner::Python => "python",
        BundleRunner::Php => "php",
    }
}

fn tooling_version() -> String {
    format!("dcx {}", env!("CARGO_PKG_VERSION"))
}

/// `--now`, else `SOURCE_DATE_EPOCH`, else the clock; a `SOURCE_DATE_EPOCH`
/// that is not a time is a usage error.
fn now(args: &TimeArgs) -> Result<Timestamp, Failure> {
    let clock = args
        .now
        .reproducible_clock()
        .map_err(|error| Failure::usage(error.to_string()))?;
    Ok(clock.timestamp())
}

/// Runs `work` with progress bars on a terminal, silently otherwise (but
/// for the one line saying it waits for another process's lock).
fn with_progress<T>(work: impl FnOnce(&dyn Progress) -> T) -> T {
    let progress = ProgressLine::on_stderr();
    let result = work(&progress);
    progress.clear();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_cap_defaults_in_help_are_the_library_defaults() {
        let defaults = Limits::default();
        assert_eq!(parse_size("1GiB"), Ok(defaults.max_package_bytes));
        assert_eq!(parse_size("4GiB"), Ok(defaults.max_unpacked_bytes));
        assert_eq!(parse_size("1GiB"), Ok(defaults.max_member_bytes));
        assert_eq!(defaults.max_document_bytes, LoadLimits::default().max_bytes);
    }
}
