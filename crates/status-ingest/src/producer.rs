//! The producer side (`dcx status report`): what a runner repository's
//! release job runs to publish its `runner-status-report-v1.json`.
//!
//! It runs each command in order through the shell, with a timeout, records
//! status, exit code and duration, hashes each artifact while streaming it,
//! and writes a report that validates against its contract, plus a
//! `sha256sum`-format sidecar. Unlike upstream's producer, which hard-coded
//! `overall_status: pass`, the verdict comes from the commands:
//!
//! | commands | `overall_status` |
//! |---|---|
//! | any failed (non-zero exit, killed by a signal) | `fail` |
//! | none failed, any timed out | `degraded` |
//! | all passed | `pass` |
//! | none given | `unknown` |
//!
//! A timed-out command is recorded as `fail` with exit code 124, the
//! convention of coreutils' `timeout`; one killed by signal N as 128 + N,
//! the shell's convention (both from [`Termination::exit_code`]).
//!
//! Commands run through [`dcx_sys::run`], the one child model of dcx: a
//! process group of their own, stopped as a whole (TERM, [`GRACE`], KILL)
//! at the timeout or on cancellation, and swept when the command ends,
//! success included, so nothing it started in the background outlives it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dcx_contracts::digest::{Sha256Hex, sha256_bytes, sha256_reader};
use dcx_contracts::document::{self, Document, Format, SaveError, Violation};
use dcx_contracts::status::{
    ArtifactRef, CommandResult, CommandStatus, LaneClass, OverallStatus, RunnerStatusReport,
};
use dcx_contracts::{Timestamp, atomic_write};
use dcx_sys::{Cancel, CancelReason, Supervision, Termination};

/// Who the report is about: the fields a release job knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportIdentity {
    /// The lane id in the certification registry, e.g. `rust`.
    pub runner_id: String,
    /// The runner's repository, e.g. `dc-runner-rust`.
    pub implementation_repo: String,
    /// The release tag.
    pub release_version: String,
    /// The commit the release was built from.
    pub commit_sha: String,
    /// The lane class the registry gives the lane.
    pub lane_class: LaneClass,
}

/// One command that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRun {
    /// What goes into the report.
    pub result: CommandResult,
    /// It ran past its timeout and was stopped.
    pub timed_out: bool,
    /// How it ended.
    pub termination: Termination,
    /// How many processes it left running in its group (stopped when it ended).
    pub stragglers: usize,
}

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    /// The shell could not be started for a command.
    #[error("cannot run command {command:?}: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// dcx was told to stop (SIGINT, SIGTERM) while `command` ran or before
    /// it started; the command's group was stopped and no report is written.
    #[error(
        "cancelled ({}) while running command {command:?}; no report was written",
        cancel_text(reason)
    )]
    Cancelled {
        /// The command that was running or next.
        command: String,
        /// Why.
        reason: CancelReason,
    },
    /// An artifact could not be read.
    #[error("cannot hash artifact {}: {source}", path.display())]
    Artifact {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// An artifact path has no file name to publish it under.
    #[error("artifact {} has no file name", .0.display())]
    ArtifactName(PathBuf),
    /// `generated_at + fresh_for` is not a representable instant.
    #[error("fresh_until out of range: {generated_at} + {fresh_for:?}")]
    FreshUntil {
        /// The report's `generated_at`.
        generated_at: Timestamp,
        /// The requested freshness.
        fresh_for: Duration,
    },
    /// The report breaks its contract (a bad commit id, duplicate artifact
    /// names, …); nothing was written.
    #[error("the report would be invalid: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// Every violation.
        violations: Vec<Violation>,
    },
    /// Writing the report or its sidecar failed.
    #[error(transparent)]
    Write(#[from] SaveError),
}

/// How long a command's process group gets, after SIGTERM (a timeout, a
/// cancellation, or what a finished command left running), before SIGKILL.
pub(crate) const GRACE: Duration = Duration::from_secs(5);

/// The supervision of every report command: `timeout`, then 5 s between
/// SIGTERM and SIGKILL.
pub fn report_supervision(timeout: Duration) -> Supervision {
    Supervision::new(Some(timeout), GRACE)
}

/// Runs `command` through the platform shell (`sh -c` / `cmd /C`) with no
/// stdin and the caller's stdout and stderr, under `supervision` (its
/// deadline is the command's timeout) and `cancel`, through the one child
/// model of dcx ([`dcx_sys::run`]): its own process group, TERM → grace →
/// KILL of the whole group on a timeout or cancellation, and whatever it
/// left running in its group (a `sleep &`) stopped when it ends, success
/// included. The recorded exit code is [`Termination::exit_code`]: the
/// code, 128 + N for signal N, 124 past the timeout.
pub(crate) fn run_command(
    command: &str,
    supervision: &Supervision,
    cancel: &Cancel,
) -> Result<CommandRun, ProducerError> {
    let finished =
        dcx_sys::run(shell(command), supervision, cancel).map_err(|source| ProducerError::Spawn {
            command: command.to_owned(),
            source,
        })?;
    let termination = finished.termination;
    let exit_code = termination.exit_code();
    let duration_ms = u64::try_from(finished.elapsed.as_millis()).unwrap_or(u64::MAX);
    Ok(CommandRun {
        result: CommandResult {
            command: command.to_owned(),
            status: if termination.success() {
                CommandStatus::Pass
            } else {
                CommandStatus::Fail
            },
            exit_code,
            duration_ms,
        },
        timed_out: termination == Termination::TimedOut,
        stragglers: finished.stragglers,
        termination,
    })
}

/// Runs `commands` in order (each is run even when an earlier one failed,
/// so the report shows every result); `each` sees each run as it finishes.
/// When `cancel` is cancelled (dcx got SIGINT/SIGTERM), the running
/// command's group is stopped, `each` sees it, and the result is
/// [`ProducerError::Cancelled`]: no report is to be written.
pub fn run_commands(
    commands: &[String],
    supervision: &Supervision,
    cancel: &Cancel,
    mut each: impl FnMut(&CommandRun),
) -> Result<Vec<CommandRun>, ProducerError> {
    let mut runs = Vec::with_capacity(commands.len());
    for command in commands {
        if let Some(reason) = cancel.reason() {
            return Err(ProducerError::Cancelled {
                command: command.clone(),
                reason,
            });
        }
        let run = run_command(command, supervision, cancel)?;
        each(&run);
        if let Termination::Cancelled(reason) = &run.termination {
            return Err(ProducerError::Cancelled {
                command: command.clone(),
                reason: reason.clone(),
            });
        }
        runs.push(run);
    }
    Ok(runs)
}

#[cfg(unix)]
fn shell(command: &str) -> Command {
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(command);
    shell
}

#[cfg(not(unix))]
fn shell(command: &str) -> Command {
    let mut shell = Command::new("cmd");
    shell.arg("/C").arg(command);
    shell
}

fn cancel_text(reason: &CancelReason) -> String {
    match reason {
        CancelReason::Signal(signal) => dcx_sys::signal_name(*signal)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("signal {signal}")),
        CancelReason::Requested(why) => why.clone(),
    }
}

/// The verdict of a set of command runs (see the module table).
pub(crate) fn overall_status(runs: &[CommandRun]) -> OverallStatus {
    if runs.is_empty() {
        OverallStatus::Unknown
    } else if runs
        .iter()
        .any(|run| !run.timed_out && run.result.status == CommandStatus::Fail)
    {
        OverallStatus::Fail
    } else if runs.iter().any(|run| run.timed_out) {
        OverallStatus::Degraded
    } else {
        OverallStatus::Pass
    }
}

/// Hashes each artifact (streaming, so release binaries of any size are
/// fine) and names it by its file name under `download_base_url`, where
/// the release publishes it.
pub fn hash_artifacts(paths: &[PathBuf], download_base_url: &str) -> Result<Vec<ArtifactRef>, ProducerError> {
    let base = download_base_url.trim_end_matches('/');
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| ProducerError::ArtifactName(path.clone()))?;
            let artifact_error = |source| ProducerError::Artifact {
                path: path.clone(),
                source,
            };
            let file = std::fs::File::open(path).map_err(artifact_error)?;
            let (sha256, _) = sha256_reader(file).map_err(artifact_error)?;
            Ok(ArtifactRef {
                name: name.to_owned(),
                url: format!("{base}/{name}"),
                sha256,
            })
        })
        .collect()
}

/// Assembles the report; `fresh_until = generated_at + fresh_for`. The
/// report is validated: an invalid one is an error, never a file.
pub fn build_report(
    identity: &ReportIdentity,
    runs: &[CommandRun],
    artifacts: Vec<ArtifactRef>,
    generated_at: Timestamp,
    fresh_for: Duration,
) -> Result<RunnerStatusReport, ProducerError> {
    let out_of_range = || ProducerError::FreshUntil {
        generated_at,
        fresh_for,
    };
    let span = jiff::SignedDuration::try_from(fresh_for).map_err(|_| out_of_range())?;
    let fresh_until = generated_at
        .as_jiff()
        .checked_add(span)
        .map(Timestamp::from_jiff)
        .map_err(|_| out_of_range())?;
    let report = RunnerStatusReport {
        version: 1,
        runner_id: identity.runner_id.clone(),
        implementation_repo: identity.implementation_repo.clone(),
        release_version: identity.release_version.clone(),
        commit_sha: identity.commit_sha.clone(),
        generated_at,
        lane_class: identity.lane_class,
        overall_status: overall_status(runs),
        fresh_until,
        command_results: runs.iter().map(|run| run.result.clone()).collect(),
        artifact_refs: artifacts,
    };
    let violations = report.validate();
    if violations.is_empty() {
        Ok(report)
    } else {
        Err(ProducerError::Invalid { violations })
    }
}

/// The sidecar path of a report: `<path>.sha256`.
pub fn report_sidecar_path(path: &Path) -> PathBuf {
    let mut sidecar = path.as_os_str().to_owned();
    sidecar.push(".sha256");
    PathBuf::from(sidecar)
}

/// Writes the report (pretty JSON) and its sidecar (`<sha256>  <file name>`,
/// what `sha256sum -c` reads in the report's directory), both atomically.
/// Returns the report's digest.
pub fn write_report(path: &Path, report: &RunnerStatusReport) -> Result<Sha256Hex, ProducerError> {
    let violations = report.validate();
    if !violations.is_empty() {
        return Err(ProducerError::Invalid { violations });
    }
    let bytes = document::to_bytes(report, Format::Json).map_err(|message| SaveError::Serialize {
        path: path.display().to_string(),
        document: RunnerStatusReport::NAME,
        message,
    })?;
    let digest = sha256_bytes(&bytes);
    atomic_write(path, &bytes).map_err(SaveError::from)?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    atomic_write(
        &report_sidecar_path(path),
        format!("{digest}  {name}\n").as_bytes(),
    )
    .map_err(SaveError::from)?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: CommandStatus, timed_out: bool) -> CommandRun {
        CommandRun {
            result: CommandResult {
                command: "x".to_owned(),
                status,
                exit_code: if status == CommandStatus::Pass { 0 } else { 1 },
                duration_ms: 0,
            },
            timed_out,
            termination: if timed_out {
                Termination::TimedOut
            } else {
                Termination::Exited(if status == CommandStatus::Pass { 0 } else { 1 })
            },
            stragglers: 0,
        }
    }

    #[test]
    fn overall_status_table() {
        use CommandStatus::*;
        assert_eq!(overall_status(&[]), OverallStatus::Unknown);
        assert_eq!(overall_status(&[run(Pass, false)]), OverallStatus::Pass);
        assert_eq!(
            overall_status(&[run(Pass, false), run(Fail, true)]),
            OverallStatus::Degraded
        );
        // A real failure outranks a timeout.
        assert_eq!(
            overall_status(&[run(Fail, true), run(Fail, false)]),
            OverallStatus::Fail
        );
    }

    #[test]
    fn sidecar_sits_beside_the_report() {
        assert_eq!(
            report_sidecar_path(Path::new("out/runner-status-report-v1.json")),
            PathBuf::from("out/runner-status-report-v1.json.sha256")
        );
    }
}
