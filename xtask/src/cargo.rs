//! Cargo, as xtask drives it: the one way xtask builds and finds the
//! workspace's binaries, and `cargo metadata` for the tidy rules.
//!
//! Every xtask command that runs a dcx feature runs the `dcx` binary built
//! here (certify, ingest, check-freshness, bundle, the benches), never the
//! libraries: xtask sits above the cli (`cli <- xtask`), so what CI checks
//! is what users run.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde::Deserialize;

/// `cargo`, the one that started xtask when there is one (`cargo xtask`
/// sets `CARGO`), so a pinned toolchain builds everything.
pub(crate) fn command() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Which cargo profile a binary is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// `dev` (in `target/debug`): the features' CI tasks, where a build is
    /// what costs time.
    Debug,
    /// `release`, `--locked`: the benchmarks measure what ships.
    Release,
}

impl Profile {
    /// The directory of `target/` the profile's binaries go to.
    fn directory(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Release => "release",
        }
    }
}

/// Builds the binaries of `package` in this workspace and returns the
/// directory they are in (`<target dir>/debug` or `/release`; the target
/// dir as cargo reports it, so `CARGO_TARGET_DIR` and `.cargo/config` are
/// honoured).
///
/// # Errors
///
/// A message when cargo cannot run or the build fails (cargo has printed why).
pub(crate) fn build_binaries(package: &str, profile: Profile) -> Result<PathBuf, String> {
    let root = crate::workspace_root();
    let mut build = command();
    build.args(["build", "--quiet", "-p", package, "--bins"]);
    if profile == Profile::Release {
        eprintln!("==> cargo build --release -p {package}");
        build.args(["--release", "--locked"]);
    }
    let status = build
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build -p {package} failed ({status})"));
    }
    Ok(metadata(&root)?.target_directory.join(profile.directory()))
}

/// The environment variable naming a `dcx` binary to run instead of
/// building one: an installed release, or the binary `cargo test` has just
/// built (`cargo xtask ci` sets it for the tests, so xtask's own tests do not
/// build `dcx` a second time under `dcx`'s feature set rather than the
/// workspace's, which on a cold target directory rebuilds reqwest and
/// everything above it).
pub(crate) const DCX_BINARY_VAR: &str = "DCX";

/// The `dcx` binary: the one `$DCX` names, else built with `profile`.
///
/// # Errors
///
/// As [`build_binaries`]; a message when `$DCX` names no file.
pub(crate) fn dcx(profile: Profile) -> Result<PathBuf, String> {
    if let Some(given) = std::env::var_os(DCX_BINARY_VAR).filter(|v| !v.is_empty()) {
        let given = PathBuf::from(given);
        return if given.is_file() {
            Ok(given)
        } else {
            Err(format!(
                "{DCX_BINARY_VAR}={} is not a file; unset it to build dcx",
                given.display()
            ))
        };
    }
    Ok(build_binaries("dcx", profile)?.join("dcx"))
}

/// Runs `dcx <args>` (a debug build) in `dir`, in place of xtask: dcx
/// prints, takes signals and exits exactly as it does for users, and its
/// exit code is xtask's.
pub(crate) fn exec_dcx<S: AsRef<OsStr>>(dir: &Path, args: impl IntoIterator<Item = S>) -> ExitCode {
    use std::os::unix::process::CommandExt as _;

    let dcx = match dcx(Profile::Debug) {
        Ok(dcx) => dcx,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    // `exec` returns only when it failed.
    let error = Command::new(&dcx).args(args).current_dir(dir).exec();
    eprintln!("error: cannot run {}: {error}", dcx.display());
    ExitCode::from(2)
}

/// What xtask reads of `cargo metadata --format-version 1 --no-deps`.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    pub(crate) packages: Vec<Package>,
    pub(crate) target_directory: PathBuf,
}

/// A workspace member.
#[derive(Debug, Deserialize)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) manifest_path: PathBuf,
    pub(crate) dependencies: Vec<Dependency>,
}

/// One dependency of a member, as its manifest declares it.
#[derive(Debug, Deserialize)]
pub(crate) struct Dependency {
    /// The package name (a renamed dependency's original name).
    pub(crate) name: String,
    /// `None` for a normal dependency, else `"dev"` or `"build"`.
    pub(crate) kind: Option<String>,
    /// Set for path dependencies: the workspace's own crates.
    pub(crate) path: Option<PathBuf>,
}

/// `cargo metadata` of the workspace at `root` (no dependency resolution,
/// so it neither needs the network nor touches `Cargo.lock`).
///
/// # Errors
///
/// A message when cargo cannot run, fails, or prints what xtask cannot read.
pub(crate) fn metadata(root: &Path) -> Result<Metadata, String> {
    let output = command()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cannot read cargo metadata: {e}"))
}
