//! `cargo xtask certify --runner <id>`: `dcx certify` on this workspace's
//! registry (`specs/runner_certification_registry_v1.yaml`), run as the
//! real `dcx` binary in place of xtask. Relative paths are taken from the
//! workspace root, wherever cargo was started; the certificate goes to
//! `.artifacts/runner-certification-<runner>.{json,md}`.
//!
//! Exit codes are dcx's: 0 the certificate passes, 1 a check failed, 2
//! configuration, 130/143 interrupted.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::governance::REGISTRY_PATH;

#[derive(Args)]
pub(crate) struct CertifyArgs {
    /// The lane to certify, e.g. `rust`.
    #[arg(long)]
    runner: String,
    /// The adapter to run instead of the lane's `entrypoints.public_adapter`
    /// (a path if it contains `/`, else looked up on PATH).
    #[arg(long, value_name = "CMD")]
    adapter: Option<String>,
    /// Where case refs (`/specs/…#ID`) are resolved; default: the workspace root.
    #[arg(long, value_name = "DIR")]
    spec_root: Option<PathBuf>,
    /// Where the certificate and its evidence go.
    #[arg(long, value_name = "DIR", default_value = ".artifacts")]
    out_dir: PathBuf,
    /// The commit certified; default: the workspace's `git rev-parse HEAD`.
    #[arg(long, value_name = "SHA")]
    commit_sha: Option<String>,
    /// The certificate's `certified_at` (RFC 3339); default: the clock.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// How long one adapter invocation may run (`300s`, `5m`, `1500ms`); default: dcx's.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
}

pub(crate) fn run(root: &Path, args: CertifyArgs) -> ExitCode {
    crate::cargo::exec_dcx(root, dcx_args(root, args))
}

/// The `dcx certify` arguments: every path made absolute under `root`, so
/// the certificate and what dcx prints name the same files wherever xtask
/// was started.
fn dcx_args(root: &Path, args: CertifyArgs) -> Vec<OsString> {
    let under_root = |path: PathBuf| {
        if path.is_absolute() { path } else { root.join(path) }
    };
    let mut dcx: Vec<OsString> = vec!["certify".into(), "--runner".into(), args.runner.into()];
    let mut flag = |name: &str, value: OsString| {
        dcx.push(name.into());
        dcx.push(value);
    };
    flag("--registry", root.join(REGISTRY_PATH).into());
    // A relative adapter path is relative to the root too; a bare name is
    // looked up on PATH.
    if let Some(command) = args.adapter {
        let adapter = if command.contains('/') && !Path::new(&command).is_absolute() {
            root.join(command).into()
        } else {
            command.into()
        };
        flag("--adapter", adapter);
    }
    let spec_root = args.spec_root.map_or_else(|| root.to_path_buf(), under_root);
    flag("--spec-root", spec_root.into());
    flag("--out-dir", under_root(args.out_dir).into());
    for (name, value) in [
        ("--commit-sha", args.commit_sha),
        ("--now", args.now),
        ("--timeout", args.timeout),
    ] {
        if let Some(value) = value {
            flag(name, value.into());
        }
    }
    dcx
}
