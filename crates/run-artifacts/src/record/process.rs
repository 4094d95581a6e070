//! The test command as a real process, under a time budget and a
//! cancellation flag.
//!
//! The child writes straight into the log file (stdout and stderr share one
//! append-mode file, so their lines interleave as they happen and nothing is
//! lost if dcx itself dies). On Unix it runs in its own process group, so
//! stopping it stops everything it started (`sh -c`, test workers): first a
//! polite signal (SIGINT for a cancellation, as a terminal would send;
//! SIGTERM at the budget), then SIGKILL after a grace period.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::clock::{CancelFlag, Clock};

/// How often the cancellation flag is looked at while the command runs.
/// The command's exit itself is noticed at once.
const CANCEL_POLL: Duration = Duration::from_millis(25);

/// How a command's run ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// It ran to completion (or was killed by someone else).
    Exited(ExitStatus),
    /// It was stopped at its time budget.
    OverBudget,
    /// It was stopped because the caller cancelled.
    Cancelled,
    /// It could not be started.
    NotStarted(io::Error),
    /// Waiting for it failed; it was killed.
    Lost(io::Error),
}

/// Runs `command` with its output in `log`, stopping it at `limit` or when
/// `cancel` is raised; `grace` is how long a stopped command gets to exit
/// before it is killed.
pub(crate) fn run(
    command: &[OsString],
    log: &File,
    limit: Duration,
    grace: Duration,
    clock: &dyn Clock,
    cancel: &CancelFlag,
) -> Ending {
    let Some((program, args)) = command.split_first() else {
        return Ending::NotStarted(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
    };
    let (stdout, stderr) = match (log.try_clone(), log.try_clone()) {
        (Ok(stdout), Ok(stderr)) => (stdout, stderr),
        (Err(e), _) | (_, Err(e)) => return Ending::NotStarted(e),
    };
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(stdout).stderr(stderr);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return Ending::NotStarted(e),
    };
    match supervise(&mut child, limit, grace, clock, cancel) {
        Ok(ending) => ending,
        Err(e) => {
            // Without a working wait the command cannot be watched: stop it
            // rather than leave it running unbudgeted.
            signal(&mut child, Stop::Kill);
            let _ = child.wait();
            Ending::Lost(e)
        }
    }
}

/// Waits for the child under the budget and the cancellation flag.
fn supervise(
    child: &mut Child,
    limit: Duration,
    grace: Duration,
    clock: &dyn Clock,
    cancel: &CancelFlag,
) -> io::Result<Ending> {
    let start = clock.monotonic();
    loop {
        if cancel.is_cancelled() {
            stop(child, Stop::Interrupt, grace)?;
            return Ok(Ending::Cancelled);
        }
        let elapsed = clock.monotonic().saturating_duration_since(start);
        let Some(left) = limit.checked_sub(elapsed).filter(|left| !left.is_zero()) else {
            stop(child, Stop::Terminate, grace)?;
            return Ok(Ending::OverBudget);
        };
        if let Some(status) = child.wait_timeout(left.min(CANCEL_POLL))? {
            return Ok(Ending::Exited(status));
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Interrupt,
    Terminate,
    Kill,
}

/// Stops the child and everything in its process group, and reaps it.
fn stop(child: &mut Child, how: Stop, grace: Duration) -> io::Result<()> {
    signal(child, how);
    if child.wait_timeout(grace)?.is_none() {
        signal(child, Stop::Kill);
        child.wait()?;
    }
    // The leader is gone; anything it left behind in its group goes too.
    signal(child, Stop::Kill);
    Ok(())
}

#[cfg(unix)]
fn signal(child: &mut Child, how: Stop) {
    use rustix::process::{Pid, Signal, kill_process_group};
    let signal = match how {
        Stop::Interrupt => Signal::INT,
        Stop::Terminate => Signal::TERM,
        Stop::Kill => Signal::KILL,
    };
    // The group id is the child's pid (`process_group(0)`). ESRCH just means
    // the group is already empty.
    let _ = kill_process_group(Pid::from_child(child), signal);
}

#[cfg(not(unix))]
fn signal(child: &mut Child, _how: Stop) {
    // No process groups or polite signals: terminate the child itself.
    let _ = child.kill();
}
