//! Running one adapter invocation as a real process, with a timeout.
//!
//! The process writes straight into its evidence log (stdout and stderr
//! share the file, interleaved as written); dcx holds no pipe. So a process
//! that leaves children behind, still holding its output open, can never
//! make dcx wait for them.
//!
//! On Unix the process leads a process group of its own. On timeout the
//! whole group is killed (SIGKILL), so an adapter script that is itself
//! waiting on a hung child takes the child down with it. (The price: a
//! Ctrl-C typed at a terminal reaches dcx, not the adapter, which then runs
//! on until it ends by itself.)
//!
//! The wait polls `try_wait` with a backoff (1 ms doubling to 50 ms) rather
//! than installing a SIGCHLD handler: a library has no business replacing
//! a process-wide signal disposition its host may rely on, and a few
//! milliseconds are nothing next to the commands being certified.

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Termination {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it (Unix).
    Signaled(i32),
    /// It ran past the timeout and was killed.
    TimedOut,
}

/// A finished invocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Finished {
    /// How it ended.
    pub(crate) termination: Termination,
    /// Wall time from spawn to exit.
    pub(crate) elapsed: Duration,
}

/// Runs `program args…` with no stdin and both output streams appended to
/// `log`, waiting at most `timeout`. An error means the process could not
/// be started (or, rarely, not waited for).
pub(crate) fn run(program: &Path, args: &[String], timeout: Duration, log: &File) -> io::Result<Finished> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // A group of its own, so a timeout can kill everything it started.
        command.process_group(0);
    }
    let started = Instant::now();
    let mut child = command.spawn()?;
    let termination = match wait_at_most(&mut child, timeout)? {
        Some(status) => termination_of(status),
        None => {
            kill_group(&mut child);
            child.wait()?;
            Termination::TimedOut
        }
    };
    Ok(Finished {
        termination,
        elapsed: started.elapsed(),
    })
}

/// The child's exit status, or `None` if it is still running after `timeout`.
fn wait_at_most(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn termination_of(status: ExitStatus) -> Termination {
    if let Some(code) = status.code() {
        return Termination::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Termination::Signaled(signal);
        }
    }
    // Neither a code nor a signal: not produced by any supported platform.
    Termination::Exited(-1)
}

#[cfg(unix)]
fn kill_group(child: &mut Child) {
    use rustix::process::{Pid, Signal, kill_process_group};
    // The child is not reaped yet, so its pid (and the group id it leads)
    // cannot have been reused. If the group is already gone, killing the
    // child alone is all that is left to try; it may have just exited, which
    // the following wait observes either way.
    if kill_process_group(Pid::from_child(child), Signal::KILL).is_err() {
        let _ = child.kill();
    }
}

#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    // Already exited between the timeout and now: nothing to kill.
    let _ = child.kill();
}

/// The conventional name of a Unix signal (`SIGSEGV`), when it has one.
pub(crate) fn signal_name(signal: i32) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use rustix::process::Signal;
        let known = [
            (Signal::HUP, "SIGHUP"),
            (Signal::INT, "SIGINT"),
            (Signal::QUIT, "SIGQUIT"),
            (Signal::ILL, "SIGILL"),
            (Signal::TRAP, "SIGTRAP"),
            (Signal::ABORT, "SIGABRT"),
            (Signal::BUS, "SIGBUS"),
            (Signal::FPE, "SIGFPE"),
            (Signal::KILL, "SIGKILL"),
            (Signal::SEGV, "SIGSEGV"),
            (Signal::PIPE, "SIGPIPE"),
            (Signal::ALARM, "SIGALRM"),
            (Signal::TERM, "SIGTERM"),
        ];
        known
            .iter()
            .find(|(known, _)| known.as_raw() == signal)
            .map(|(_, name)| *name)
    }
    #[cfg(not(unix))]
    {
        let _ = signal;
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> (Finished, String) {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("out.log");
        let log = File::create(&log_path).unwrap();
        let finished = run(
            Path::new("/bin/sh"),
            &["-c".to_owned(), script.to_owned()],
            timeout,
            &log,
        )
        .unwrap();
        (finished, std::fs::read_to_string(&log_path).unwrap())
    }

    #[test]
    fn exit_codes_and_both_streams_reach_the_log() {
        let (finished, log) = sh("echo out; echo err >&2; exit 3", Duration::from_secs(10));
        assert_eq!(finished.termination, Termination::Exited(3));
        assert_eq!(log, "out\nerr\n");
    }

    #[test]
    fn a_signal_is_reported_as_such() {
        let (finished, _) = sh("kill -TERM $$", Duration::from_secs(10));
        assert_eq!(finished.termination, Termination::Signaled(15));
        assert_eq!(signal_name(15), Some("SIGTERM"));
        assert_eq!(signal_name(0), None);
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        // The shell waits on a child that would outlive it; both must die
        // well before the child's 30 seconds are up.
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        let script = format!(
            "echo started; sleep 30 & echo $! > '{}'; wait; echo never",
            pid_file.display()
        );
        let started = Instant::now();
        let (finished, log) = sh(&script, Duration::from_millis(500));
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
            let stat = format!("/proc/{}/stat", pid.trim());
            // Dead means gone, or a zombie waiting for init to reap it.
            let alive = || {
                std::fs::read_to_string(&stat).is_ok_and(|s| {
                    s.rsplit_once(") ")
                        .is_some_and(|(_, rest)| !rest.starts_with('Z'))
                })
            };
            let deadline = Instant::now() + Duration::from_secs(5);
            while alive() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(!alive(), "the shell's child {} survived the timeout", pid.trim());
        }
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = File::create(dir.path().join("out.log")).unwrap();
        let err = run(&dir.path().join("missing"), &[], Duration::from_secs(1), &log).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
