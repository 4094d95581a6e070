//! `cargo xtask certify --runner <id>`: certify a lane of this workspace's
//! registry (`specs/runner_certification_registry_v1.yaml`) through
//! `dcx-certification`, as `dcx certify` does. Relative paths are taken
//! from the workspace root, wherever cargo was started; the certificate goes
//! to `.artifacts/runner-certification-<runner>.{json,md}`.
//!
//! Exit codes: 0 the certificate passes, 1 a check failed, 2 configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use dcx_certification::{CertifySettings, certify, parse_duration, verdict_line};
use dcx_contracts::Timestamp;

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
    #[arg(long, value_name = "TIME", value_parser = |t: &str| Timestamp::parse(t).map_err(|e| e.to_string()))]
    now: Option<Timestamp>,
    /// How long one adapter invocation may run (`300s`, `5m`, `1500ms`).
    #[arg(long, value_name = "DURATION", default_value = "300s",
          value_parser = |t: &str| parse_duration(t).map_err(|e| e.to_string()))]
    timeout: Duration,
}

pub(crate) fn run(root: &Path, args: CertifyArgs) -> ExitCode {
    let under_root = |path: PathBuf| {
        if path.is_absolute() { path } else { root.join(path) }
    };
    let commit_sha = match args.commit_sha {
        Some(sha) => sha,
        None => match head_commit(root) {
            Ok(sha) => sha,
            Err(why) => {
                eprintln!("error: cannot tell which commit to certify ({why}); pass --commit-sha");
                return ExitCode::from(2);
            }
        },
    };
    // A relative adapter path is relative to the root too; a bare name is
    // looked up on PATH.
    let adapter = args.adapter.map(|command| {
        if command.contains('/') && !Path::new(&command).is_absolute() {
            root.join(command).display().to_string()
        } else {
            command
        }
    });
    let settings = CertifySettings {
        runner_id: args.runner,
        registry: root.join(REGISTRY_PATH),
        adapter,
        search_path: std::env::var_os("PATH"),
        spec_root: args.spec_root.map_or_else(|| root.to_path_buf(), under_root),
        out_dir: under_root(args.out_dir),
        commit_sha,
        now: args
            .now
            .unwrap_or_else(|| Timestamp::from_jiff(jiff::Timestamp::now())),
        timeout: args.timeout,
        documents: dcx_contracts::LoadLimits::default(),
    };
    // Ctrl-C stops the adapter's process group; no certificate is written.
    let cancel = dcx_sys::Cancel::new();
    if let Err(error) = dcx_sys::cancel_on_signals(&cancel) {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    match certify(&settings, &cancel) {
        Ok(certification) => {
            for check in certification.failures() {
                eprintln!("fail: {}: {}", check.id, check.detail);
            }
            println!("wrote {}", certification.json_path.display());
            println!("wrote {}", certification.md_path.display());
            println!("{}", verdict_line(&certification.certificate));
            if certification.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            match cancel.signal() {
                Some(signal) => ExitCode::from(dcx_sys::exit_code_for_signal(signal)),
                None => ExitCode::from(2),
            }
        }
    }
}

fn head_commit(root: &Path) -> Result<String, String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("`git rev-parse HEAD` failed: {}", stderr.trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
