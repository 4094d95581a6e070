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
//! the shell's convention.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use dcx_contracts::digest::{Sha256Hex, sha256_bytes, sha256_reader};
use dcx_contracts::document::{self, Document, Format, SaveError, Violation};
use dcx_contracts::status::{
    ArtifactRef, CommandResult, CommandStatus, LaneClass, OverallStatus, RunnerStatusReport,
};
use dcx_contracts::{Timestamp, atomic_write};
use wait_timeout::ChildExt;

/// The exit code recorded for a command that ran past its timeout.
pub const TIMEOUT_EXIT_CODE: i32 = 124;

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
    /// It ran past its timeout and was killed.
    pub timed_out: bool,
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

/// Runs `command` through the platform shell (`sh -c` / `cmd /C`) with no
/// stdin and the caller's stdout and stderr, waiting at most `timeout`.
pub fn run_command(command: &str, timeout: Duration) -> Result<CommandRun, ProducerError> {
    let mut shell = shell(command);
    shell.stdin(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // A group of its own, so a timeout kills everything it started, not
        // just the shell (a killed shell leaves its children running).
        shell.process_group(0);
    }
    let spawn_error = |source| ProducerError::Spawn {
        command: command.to_owned(),
        source,
    };
    let started = Instant::now();
    let mut child = shell.spawn().map_err(spawn_error)?;
    let (exit_code, timed_out) = match child.wait_timeout(timeout).map_err(spawn_error)? {
        Some(status) => (exit_code_of(status), false),
        None => {
            kill_group(&mut child);
            // Reap it; its status says nothing more than "killed".
            let _ = child.wait();
            (TIMEOUT_EXIT_CODE, true)
        }
    };
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(CommandRun {
        result: CommandResult {
            command: command.to_owned(),
            status: if exit_code == 0 && !timed_out {
                CommandStatus::Pass
            } else {
                CommandStatus::Fail
            },
            exit_code,
            duration_ms,
        },
        timed_out,
    })
}

/// Runs `commands` in order (each is run even when an earlier one failed,
/// so the report shows every result); `each` sees each run as it finishes.
pub fn run_commands(
    commands: &[String],
    timeout: Duration,
    mut each: impl FnMut(&CommandRun),
) -> Result<Vec<CommandRun>, ProducerError> {
    let mut runs = Vec::with_capacity(commands.len());
    for command in commands {
        let run = run_command(command, timeout)?;
        each(&run);
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

fn exit_code_of(status: ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    // No code and no signal: report a generic failure rather than success.
    1
}

#[cfg(unix)]
fn kill_group(child: &mut Child) {
    use rustix::process::{Pid, Signal, kill_process_group};
    // The child has not been reaped, so its pid (the group id) cannot have
    // been reused. If the group is already gone, fall back to the child.
    if kill_process_group(Pid::from_child(child), Signal::KILL).is_err() {
        let _ = child.kill();
    }
}

#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    let _ = child.kill();
}

/// The verdict of a set of command runs (see the module table).
pub fn overall_status(runs: &[CommandRun]) -> OverallStatus {
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
pub fn sidecar_path(path: &Path) -> PathBuf {
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
    atomic_write(&sidecar_path(path), format!("{digest}  {name}\n").as_bytes()).map_err(SaveError::from)?;
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
            sidecar_path(Path::new("out/runner-status-report-v1.json")),
            PathBuf::from("out/runner-status-report-v1.json.sha256")
        );
    }
}
