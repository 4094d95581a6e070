//! `dcx certify`: certify a runner lane (`--runner <id>`), or verify a
//! certificate (`dcx certify verify <cert.json>`). The work is done by
//! `dcx-certification`; this module passes it the time, `PATH` (both from
//! `flags`) and the commit git names, prints and picks the exit code.
//!
//! SIGINT and SIGTERM cancel a certification: the adapter's process group
//! gets the signal (then SIGKILL after a grace), no certificate is written,
//! and dcx exits 130 or 143. A second signal exits at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use dcx_certification::verify::{FindingKind, verify_file_with};
use dcx_certification::{CertifySettings, certify_with, parse_duration, verdict_line};
use dcx_contracts::LoadLimits;

use crate::exit::Exit;
use crate::flags::now::{NOW, NowArg};

/// The registry read when `--registry` is not given, relative to the
/// working directory (a checkout of the control-plane repository).
const DEFAULT_REGISTRY: &str = "specs/runner_certification_registry_v1.yaml";

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct CertifyArgs {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    lane: LaneArgs,
}

#[derive(Subcommand)]
enum Action {
    /// Verify a certificate: recompute `proof.payload_sha256` and
    /// `equivalence.intent_hash`, check it against the certificate schema
    /// and, with --registry, against the lane's intent in the registry.
    ///
    /// Exit 0 when it verifies (schema drift is a warning), 1 on any
    /// mismatch, inconsistency or drift from the registry (and on schema
    /// drift with --strict), 2 when the file or the registry cannot be read.
    Verify {
        /// The certificate, e.g. `.artifacts/runner-certification-rust.json`.
        certificate: PathBuf,
        /// Also recompute the lane's intent from this registry and report drift.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Make schema drift (what the peers' certificates have) fatal.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Args)]
#[command(mut_arg(NOW, |arg| arg.help("The certificate's `certified_at` (RFC 3339); default: the clock.")))]
struct LaneArgs {
    /// The lane to certify, e.g. `rust`.
    #[arg(long, required = true)]
    runner: Option<String>,
    /// The runner certification registry.
    #[arg(long, default_value = DEFAULT_REGISTRY)]
    registry: PathBuf,
    /// The adapter to run instead of the lane's `entrypoints.public_adapter`
    /// (a path if it contains `/`, else looked up on PATH).
    #[arg(long, value_name = "CMD")]
    adapter: Option<String>,
    /// Where case refs (`/specs/…#ID`) are resolved.
    #[arg(long, value_name = "DIR", default_value = ".")]
    spec_root: PathBuf,
    /// Where the certificate, its Markdown and the evidence logs go.
    #[arg(long, value_name = "DIR", default_value = ".artifacts")]
    out_dir: PathBuf,
    /// The commit certified; default: `git rev-parse HEAD` here.
    #[arg(long, value_name = "SHA")]
    commit_sha: Option<String>,
    #[command(flatten)]
    now: NowArg,
    /// How long one adapter invocation may run (`300s`, `5m`, `1500ms`).
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_timeout)]
    timeout: Duration,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

pub(crate) fn run(args: CertifyArgs, documents: LoadLimits) -> Exit {
    match args.action {
        Some(Action::Verify {
            certificate,
            registry,
            strict,
        }) => run_verify(&certificate, registry.as_deref(), strict, &documents),
        None => run_certify(args.lane, documents),
    }
}

fn run_certify(args: LaneArgs, documents: LoadLimits) -> Exit {
    // clap enforces --runner when no subcommand is given.
    let Some(runner_id) = args.runner else {
        errln!("error: --runner is required");
        return Exit::Usage;
    };
    let commit_sha = match args.commit_sha {
        Some(sha) => sha,
        None => match head_commit(Path::new(".")) {
            Ok(sha) => sha,
            Err(why) => {
                errln!("error: cannot tell which commit to certify ({why}); pass --commit-sha");
                return Exit::Usage;
            }
        },
    };
    let settings = CertifySettings {
        runner_id,
        registry: args.registry,
        adapter: args.adapter,
        search_path: crate::flags::env::search_path(),
        spec_root: args.spec_root,
        out_dir: args.out_dir,
        commit_sha,
        now: args.now.clock().timestamp(),
        timeout: args.timeout,
        documents,
    };
    let cancel = dcx_sys::Cancel::new();
    if let Err(error) = dcx_sys::cancel_on_signals(&cancel) {
        errln!("error: {error}");
        return Exit::Usage;
    }
    let result = certify_with(&settings, &cancel, |lock, holder| {
        let holder = holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default();
        errln!(
            "waiting: {} is locked by another dcx certify{holder}; continuing when it has finished",
            lock.display()
        );
    });
    match result {
        Ok(certification) => {
            for warning in &certification.registry_warnings {
                errln!("warning: {}: {warning}", settings.registry.display());
            }
            for check in certification.failures() {
                let evidence = check
                    .evidence_ref
                    .as_deref()
                    .map(|r| format!(" (evidence: {r})"))
                    .unwrap_or_default();
                errln!("fail: {}: {}{evidence}", check.id, check.detail);
            }
            outln!("wrote {}", certification.json_path.display());
            outln!("wrote {}", certification.md_path.display());
            outln!("{}", verdict_line(&certification.certificate));
            if let Some(signal) = cancel.signal() {
                // The signal came after the last adapter ended: the
                // certificate is whole, but the run was still interrupted.
                Exit::Signal(signal)
            } else if certification.passed() {
                Exit::Success
            } else {
                Exit::Negative
            }
        }
        Err(error) => {
            errln!("error: {error}");
            match error.signal() {
                Some(signal) => Exit::Signal(signal),
                None => Exit::Usage,
            }
        }
    }
}

/// `git rev-parse HEAD` in `dir`.
fn head_commit(dir: &Path) -> Result<String, String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("`git rev-parse HEAD` failed: {}", stderr.trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn run_verify(certificate: &Path, registry: Option<&Path>, strict: bool, documents: &LoadLimits) -> Exit {
    let verification = match verify_file_with(certificate, registry, documents) {
        Ok(verification) => verification,
        Err(error) => {
            errln!("error: {error}");
            return Exit::Usage;
        }
    };
    if let Some(hash) = verification.payload_sha256
        && !verification.has(FindingKind::PayloadHashMismatch)
    {
        outln!("ok: proof.payload_sha256 {hash} recomputes");
    }
    if let Some(hash) = verification.intent_hash
        && !verification.has(FindingKind::IntentHashMismatch)
    {
        outln!("ok: equivalence.intent_hash {hash} recomputes");
    }
    let mut problems = 0usize;
    let mut warnings = 0usize;
    for finding in &verification.findings {
        if finding.kind.is_fatal(strict) {
            problems += 1;
            errln!("error: {finding}");
        } else {
            warnings += 1;
            errln!("warning: {finding}");
        }
    }
    let shown = certificate.display();
    if problems > 0 {
        errln!("FAIL: {shown}: {problems} problem(s)");
        return Exit::Negative;
    }
    match warnings {
        0 => outln!("verified: {shown}"),
        n => outln!("verified: {shown} ({n} schema drift warning(s); --strict makes them fatal)"),
    }
    Exit::Success
}
