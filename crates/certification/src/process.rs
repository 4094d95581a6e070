//! Running one adapter invocation as a real process, under dcx's one child
//! model ([`dcx_sys::run`]).
//!
//! The process writes straight into its evidence log (stdout and stderr
//! share the file, interleaved as written); dcx holds no pipe. It leads a
//! process group of its own, and that group is stopped (SIGTERM, [`GRACE`],
//! SIGKILL) when the invocation times out, when dcx is cancelled (SIGINT or
//! SIGTERM reached dcx: the same signal is forwarded to the group first),
//! and when the adapter itself ends, success included: a `sleep &` it left
//! behind does not outlive it and does not hold its log open, so the log is
//! complete when the footer is appended. On Linux the adapter also dies
//! with dcx if dcx is killed outright (`PR_SET_PDEATHSIG`).
//!
//! [`run`] blocks the calling thread until the group is gone. That matters
//! for `PR_SET_PDEATHSIG`, which fires when the *thread* that spawned the
//! child exits: certification calls it from the thread that runs the whole
//! certification, never from a short-lived helper thread.

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use dcx_sys::{Cancel, Finished, Supervision};

/// How long a signalled adapter group gets to exit before SIGKILL.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// Runs `program args…` with no stdin and both output streams appended to
/// `log`, for at most `timeout`, stopped early when `cancel` is cancelled.
/// An error means the process could not be started (or, rarely, not waited
/// for, in which case its group was killed).
pub(crate) fn run(
    program: &Path,
    args: &[String],
    timeout: Duration,
    log: &File,
    cancel: &Cancel,
) -> io::Result<Finished> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?);
    dcx_sys::run(command, &Supervision::new(Some(timeout), GRACE), cancel)
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Instant;

    use dcx_sys::{CancelReason, Termination};

    use super::*;

    fn sh(script: &str, timeout: Duration, cancel: &Cancel) -> (Finished, String) {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("out.log");
        let log = File::create(&log_path).unwrap();
        let finished = run(
            Path::new("/bin/sh"),
            &["-c".to_owned(), script.to_owned()],
            timeout,
            &log,
            cancel,
        )
        .unwrap();
        (finished, std::fs::read_to_string(&log_path).unwrap())
    }

    /// Whether `pid` is still a live process (not gone, not a zombie).
    #[cfg(target_os = "linux")]
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
    }

    #[test]
    fn exit_codes_and_both_streams_reach_the_log() {
        let (finished, log) = sh(
            "echo out; echo err >&2; exit 3",
            Duration::from_secs(10),
            &Cancel::new(),
        );
        assert_eq!(finished.termination, Termination::Exited(3));
        assert_eq!(log, "out\nerr\n");
    }

    #[test]
    fn a_signal_is_reported_as_such() {
        let (finished, _) = sh("kill -TERM $$", Duration::from_secs(10), &Cancel::new());
        assert_eq!(finished.termination, Termination::Signaled(15));
    }

    #[test]
    fn a_timeout_stops_the_whole_group() {
        // The shell waits on a child that would outlive it; both must die
        // well before the child's 30 seconds are up.
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        let script = format!(
            "echo started; sleep 30 & echo $! > '{}'; wait; echo never",
            pid_file.display()
        );
        let started = Instant::now();
        let (finished, log) = sh(&script, Duration::from_millis(500), &Cancel::new());
        assert_eq!(finished.termination, Termination::TimedOut);
        assert_eq!(log, "started\n");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        #[cfg(target_os = "linux")]
        {
            let pid = std::fs::read_to_string(&pid_file).unwrap();
            assert!(
                !alive(&pid),
                "the shell's child {} survived the timeout",
                pid.trim()
            );
        }
    }

    #[test]
    fn what_a_passing_adapter_leaves_behind_is_stopped_before_run_returns() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        let script = format!("sleep 30 & echo $! > '{}'; echo done; exit 0", pid_file.display());
        let started = Instant::now();
        let (finished, log) = sh(&script, Duration::from_secs(20), &Cancel::new());
        assert_eq!(finished.termination, Termination::Exited(0));
        assert_eq!(finished.stragglers, 1);
        assert_eq!(log, "done\n");
        assert!(started.elapsed() < Duration::from_secs(10));
        #[cfg(target_os = "linux")]
        {
            let pid = std::fs::read_to_string(&pid_file).unwrap();
            assert!(!alive(&pid), "the background child {} survived", pid.trim());
        }
    }

    #[test]
    fn a_cancelled_token_stops_the_adapter() {
        let cancel = Cancel::new();
        cancel.cancel_by_signal(2);
        let started = Instant::now();
        let (finished, _) = sh("sleep 30", Duration::from_secs(60), &cancel);
        assert_eq!(
            finished.termination,
            Termination::Cancelled(CancelReason::Signal(2))
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = File::create(dir.path().join("out.log")).unwrap();
        let err = run(
            &dir.path().join("missing"),
            &[],
            Duration::from_secs(1),
            &log,
            &Cancel::new(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
